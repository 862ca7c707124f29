import { JobProcess } from '@livekit/agents';
import type { Logger } from 'pino';
import { errorMessage, invalidOption } from '../errors.js';
import { startWorkerInspector } from '../inspect/worker_inspector.js';
import { InProcessInferenceExecutor } from '../session/inprocess_inference.js';
import { RtcRoomTransport } from '../session/rtc_room_transport.js';
import { DEFAULT_SESSION_TIMEOUTS, type SessionTimeouts } from '../session/session_runner.js';
import { bindAgentsLogger } from '../telemetry/agents_logger.js';
import { createLogger, shutdownLogger } from '../telemetry/logger.js';
import type { PoolMetricsHandle } from '../telemetry/pool_metrics.js';
import { attachPoolLogging } from '../telemetry/pool_logging.js';
import { type OpenRtcTelemetry, startTelemetry } from '../telemetry/setup.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { scrubSecrets } from '../util/secret_scrubber.js';
import { positiveMillis } from '../util/validate.js';
import { LoadMonitor } from './load_monitor.js';
import { PoolJobHandler } from './pool_job_handler.js';
import type { PoolRuntime } from './pool_runtime.js';
import {
  type ConnectionFactory, type DispatchConnection, type DrainReport, type RunOptions,
  isLogger, isTelemetry, metricsPortFromEnv, resolveConnectionSettings, resolveTargetLoad,
} from './run_options.js';
import { PRETENURING_ENV, type PretenuringDecision, applyPretenuring, decidePretenuring } from './v8_pretenuring.js';
import { WorkerConnection } from './worker_connection.js';
import { settleSessions } from './worker_drain.js';
import { type WorkerState, type WorkerStateName, nextWorkerState } from './worker_lifecycle.js';

const DEFAULT_DRAIN_TIMEOUT_MS = 1_800_000;

/**
 * The shared-process worker: one connection to the LiveKit server, every session of
 * every tenant hosted in this process.
 */
export class PoolWorker {
  readonly proc = new JobProcess();
  private readonly executor = new InProcessInferenceExecutor();
  private readonly pretenuring: PretenuringDecision;
  private readonly loadMonitor: LoadMonitor;
  private readonly handler: PoolJobHandler;
  private readonly connection: DispatchConnection;
  private readonly drainTimeoutMs: number;
  private state: WorkerState = { name: 'created' };
  /** The worker's logger; agents-js's own records go through it too. */
  readonly logger: Logger;
  private readonly ownsLogger: boolean;
  private telemetry: OpenRtcTelemetry | undefined;
  private ownsTelemetry = false;
  private readonly cleanups: (() => void)[] = [];
  private inspector: { socketPath: string; close: () => Promise<void> } | undefined;
  private stoppedResolve!: () => void;
  /** Resolves once the worker has drained and closed its connection. */
  readonly stopped = new Promise<void>((resolve) => {
    this.stoppedResolve = resolve;
  });

  constructor(
    private readonly pool: PoolRuntime,
    private readonly options: RunOptions,
  ) {
    const settings = resolveConnectionSettings(options, pool.deploymentVersion);
    this.ownsLogger = !isLogger(options.logger);
    this.logger = isLogger(options.logger) ? options.logger : createLogger(options.logger);
    const diagnostic = options.onDiagnostic ?? ((d: Diagnostic) => this.logger.warn({ event: 'worker_diagnostic', code: d.code }, d.message));
    this.drainTimeoutMs = positiveMillis('drainTimeoutMs', options.drainTimeoutMs, DEFAULT_DRAIN_TIMEOUT_MS);
    const timeouts: SessionTimeouts = { ...DEFAULT_SESSION_TIMEOUTS };
    for (const [key, value] of Object.entries(options.sessionTimeouts ?? {})) {
      if (!(key in timeouts)) throw invalidOption(`sessionTimeouts.${key}`, 'is not a session timeout', value);
      timeouts[key as keyof SessionTimeouts] = positiveMillis(`sessionTimeouts.${key}`, value, 0);
    }
    this.pretenuring = decidePretenuring(options.v8Pretenuring, process.execArgv, process.env[PRETENURING_ENV]);
    this.loadMonitor = new LoadMonitor(options.loadLimits);
    this.handler = new PoolJobHandler({
      pool,
      loadMonitor: this.loadMonitor,
      maxSessions: pool.maxConcurrentSessions,
      targetLoad: resolveTargetLoad(options.targetLoad),
      onDiagnostic: diagnostic,
      onSessionEnded: (jobId, end) =>
        this.connection.updateJobStatus(jobId, end.outcome === 'failed' ? 'failed' : 'success', end.outcome === 'failed' ? scrubSecrets(end.detail) : undefined),
      runner: {
        transport: options.transport ?? new RtcRoomTransport(),
        proc: this.proc,
        inferenceExecutor: this.executor,
        workerId: () => this.connection.workerId ?? 'unregistered',
        serverUrl: settings.url,
        timeouts,
        // The pool's clock, not the wall clock: session durations are `pool clock - startedAt`,
        // and the step time limits run on it too.
        clock: pool.clock,
      },
    });
    const makeConnection: ConnectionFactory =
      options.connection ??
      ((handler, s) =>
        new WorkerConnection({
          ...s,
          handler,
          onDiagnostic: (event) => diagnostic({ code: event.kind, message: `worker connection: ${event.message}`, error: event.error }),
        }));
    this.connection = makeConnection(this.handler, settings);
  }

  async start(): Promise<void> {
    applyPretenuring(this.pretenuring);
    this.cleanups.push(bindAgentsLogger(this.logger));
    this.cleanups.push(this.guardStrayRejections());
    this.cleanups.push(attachPoolLogging(this.pool, this.logger));
    // A call admitted or ended may cross the target load: the server hears it now, not at the next interval.
    const refresh = (): void => this.connection.refreshStatus();
    for (const event of ['admission', 'sessionEnded', 'reservationExpired'] as const) this.cleanups.push(this.pool.on(event, refresh));
    const telemetry = this.options.telemetry;
    if (telemetry !== false) {
      this.ownsTelemetry = !isTelemetry(telemetry);
      this.telemetry = isTelemetry(telemetry)
        ? telemetry
        : await startTelemetry({ deploymentVersion: this.pool.deploymentVersion, port: metricsPortFromEnv(), ...telemetry });
      const handle: PoolMetricsHandle = this.telemetry.attach(this.pool, { workerLoad: () => this.handler.lastLoad });
      this.cleanups.push(() => handle.detach());
    }
    this.pool.voiceGateway?.attach(this.pool, {
      ...(this.telemetry ? { meter: this.telemetry.meter } : {}),
      logger: this.logger,
      revision: this.pool.deploymentVersion,
    });
    // Before connecting: `top` sees the worker from its first call on.
    await this.startInspector();
    try {
      await this.pool.startStores();
      await this.options.prewarm?.(this.proc);
      await this.connection.start();
    } catch (error: unknown) {
      await this.release();
      throw error;
    }
    this.state = nextWorkerState(this.state, { type: 'started' }).next;
    this.logger.info(
      {
        event: 'worker_registered', workerId: this.connection.workerId, agents: this.pool.agentNames,
        metricsUrl: this.telemetry?.metricsUrl, inspectSocket: this.inspector?.socketPath,
        v8Pretenuring: this.pretenuring.turnOff ? 'off' : 'v8 default', v8PretenuringBy: this.pretenuring.reason,
      },
      'openrtc worker registered',
    );
  }

  /**
   * agents-js leaves some promises of a failed request unhandled (a non-streaming TTS
   * request that fails rejects one nobody awaits). Its own job process logs those and goes
   * on; by Node's default they would end this process, and with it every tenant's calls.
   * The session that caused one has had the error through its own provider events.
   */
  private guardStrayRejections(): () => void {
    const onRejection = (reason: unknown) => {
      this.logger.warn({ event: 'worker_diagnostic' }, `unhandled promise rejection (ignored): ${errorMessage(reason)}`);
    };
    process.on('unhandledRejection', onRejection);
    return () => process.off('unhandledRejection', onRejection);
  }

  /** Off the call path: a fault here is logged and the worker runs on without an inspector. */
  private async startInspector(): Promise<void> {
    if (this.options.inspect === false) return;
    const diagnostic = (message: string) => this.logger.warn({ event: 'worker_diagnostic' }, message);
    try {
      this.inspector = await startWorkerInspector(
        {
          pool: this.pool,
          sessions: () => this.handler.running(),
          workerId: () => this.connection.workerId,
          load: () => this.handler.lastLoad,
          metricsUrl: () => this.telemetry?.metricsUrl,
        },
        this.options.inspect ?? {},
        diagnostic,
      );
    } catch (error: unknown) {
      diagnostic(`the inspector could not start, so \`openrtc top\` will not see this worker: ${errorMessage(error)}`);
    }
  }

  /** The inspector's socket, when it runs. */
  get inspectSocket(): string | undefined {
    return this.inspector?.socketPath;
  }

  /** Where Prometheus scrapes this worker, when the worker runs telemetry. */
  get metricsUrl(): string | undefined {
    return this.telemetry?.metricsUrl;
  }

  /**
   * Cancels every live session now (a forced exit): each ends as cancelled, reports its
   * status to the server and frees its slot; a drain in progress then finishes at once.
   */
  cancelLiveSessions(detail: string): void {
    for (const session of this.handler.running()) session.cancel(detail);
  }

  /** Sessions hosted right now. */
  get activeSessions(): number {
    return this.handler.running().length;
  }

  /** Where the worker stands: created, running, draining or stopped. */
  get stateName(): WorkerStateName {
    return this.state.name;
  }

  /**
   * Stops taking calls (WS_FULL, refusals with `draining`), lets live sessions finish for
   * up to `timeoutMs`, cancels what is left, then closes the connection. Idempotent.
   */
  drain(timeoutMs = this.drainTimeoutMs): Promise<DrainReport> {
    if (this.state.name === 'draining') return this.state.drained;
    if (this.state.name === 'stopped') return Promise.resolve(this.state.report);
    // In draining before the drain runs: a listener of the pool's `draining` event that
    // drains again gets this same promise.
    let run!: (drain: Promise<DrainReport>) => void;
    const drained = new Promise<DrainReport>((resolve) => (run = resolve));
    this.state = nextWorkerState(this.state, { type: 'drain', drained }).next;
    run(this.runDrain(timeoutMs));
    return drained;
  }

  private async runDrain(timeoutMs: number): Promise<DrainReport> {
    this.pool.startDraining();
    this.connection.refreshStatus();
    const report = await settleSessions({ pool: this.pool, running: () => this.handler.running() }, timeoutMs);
    await this.connection.close().catch((error: unknown) =>
      this.logger.warn({ event: 'worker_diagnostic' }, `closing the worker connection failed: ${errorMessage(error)}`));
    await this.executor.close();
    this.logger.info({ event: 'worker_stopped', ...report }, 'openrtc worker drained and stopped');
    await this.release();
    this.state = nextWorkerState(this.state, { type: 'stopped', report }).next;
    this.stoppedResolve();
    return report;
  }

  /** Lets go of what start() took: cost export (flushed first), telemetry, log bindings, the lag monitor. */
  private async release(): Promise<void> {
    await this.inspector?.close().catch(() => undefined);
    this.inspector = undefined;
    // Every session has ended by now, so every cost row exists: send them before the
    // meter that counts their delivery shuts down.
    await this.pool.voiceGateway?.close();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.loadMonitor.stop();
    if (this.telemetry && this.ownsTelemetry) await this.telemetry.shutdown();
    this.telemetry = undefined;
    if (this.ownsLogger) await shutdownLogger(this.logger);
  }
}

