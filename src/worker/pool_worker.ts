import { scrubSecrets, secretScrubber } from '../util/secret_scrubber.js';
import { JobProcess } from '@livekit/agents';
import type { Logger } from 'pino';
import { bindAgentsLogger } from '../telemetry/agents_logger.js';
import { type LoggerOptions, createLogger, shutdownLogger } from '../telemetry/logger.js';
import type { PoolMetricsHandle } from '../telemetry/pool_metrics.js';
import { attachPoolLogging } from '../telemetry/pool_logging.js';
import { type OpenRtcTelemetry, type TelemetryOptions, startTelemetry } from '../telemetry/setup.js';
import { OpenRtcError, errorMessage, invalidOption } from '../errors.js';
import type { RedisOption } from '../fleet/fleet_stores.js';
import type { PoolRuntime } from './pool_runtime.js';
import { positiveMillis } from '../util/validate.js';
import type { TimerHandle } from '../util/clock.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { InProcessInferenceExecutor } from '../session/inprocess_inference.js';
import type { RoomTransport } from '../session/room_transport.js';
import { RtcRoomTransport } from '../session/rtc_room_transport.js';
import { DEFAULT_SESSION_TIMEOUTS, type RunningSession, type SessionTimeouts } from '../session/session_runner.js';
import type { JobEndStatus, JobHandler } from './job_handler.js';
import { type InspectOptions, startWorkerInspector } from '../inspect/worker_inspector.js';
import { type LoadLimits, LoadMonitor } from './load_monitor.js';
import { PoolJobHandler } from './pool_job_handler.js';
import { WorkerConnection } from './worker_connection.js';

/** What the worker needs from its connection to the LiveKit server. */
export interface DispatchConnection {
  /** Connects and registers; resolves once registered. */
  start(): Promise<void>;
  /** Reports WS_FULL at once and from then on. */
  setDraining(): void;
  /** Sends the status now if it changed (an admission or a session end crossed the target load). */
  refreshStatus?(): void;
  updateJobStatus(jobId: string, status: JobEndStatus, error?: string): void;
  close(): Promise<void>;
  readonly workerId: string | undefined;
}

export interface ConnectionSettings {
  url: string;
  apiKey: string;
  apiSecret: string;
  agentName: string;
  workerToken: string | undefined;
  version: string;
  /** Registered as `deployment`; jobs match it exactly. */
  deployment: string;
  availabilityTimeoutMs: number | undefined;
  livenessTimeoutMs: number | undefined;
}

export type ConnectionFactory = (handler: JobHandler, settings: ConnectionSettings) => DispatchConnection;

export interface RunOptions {
  /**
   * Share tenant caps and breaker state with every worker on one Redis: a URL, an ioredis
   * client, or fleet options. Default: env OPENRTC_REDIS_URL, else this worker alone.
   */
  redis?: RedisOption;
  /** LiveKit server url. Default: env LIVEKIT_URL. */
  url?: string;
  /** Default: env LIVEKIT_API_KEY. */
  apiKey?: string;
  /** Default: env LIVEKIT_API_SECRET. */
  apiSecret?: string;
  /** Explicit-dispatch agent name. Default: env LIVEKIT_AGENT_NAME or '' (automatic dispatch). */
  agentName?: string;
  /** LiveKit Cloud worker token. Default: env LIVEKIT_WORKER_TOKEN. */
  workerToken?: string;
  /** The deployment the worker registers for (as agents-js). Default: env LIVEKIT_AGENT_DEPLOYMENT or ''. */
  deployment?: string;
  /**
   * The LiveKit server's `agents.target_load` (default 0.7): it offers calls only to a
   * worker reporting a load below it. The worker scales its load so that it reaches this
   * exactly when the worker is full (its session cap, or its process busy: see
   * `loadLimits`); set it to what the server is configured with.
   */
  targetLoad?: number;
  /** The event-loop utilization, CPU and lag at which the worker counts itself full. */
  loadLimits?: LoadLimits;
  /** Every availability request is answered within this many ms (below LiveKit's 3 s). Default 2 000. */
  availabilityTimeoutMs?: number;
  /** A server socket silent this long is replaced, in ms; live calls go on. Default 15 000. */
  livenessTimeoutMs?: number;
  /** How sessions reach their room. Default: real rtc-node rooms. */
  transport?: RoomTransport;
  /** How long live sessions may run on after a drain starts, in ms. Default 1 800 000 (as agents-js). */
  drainTimeoutMs?: number;
  /**
   * Drain on SIGTERM/SIGINT, then exit 0; a second signal is logged, a third cancels the live
   * calls and exits at once (see `shutdown_signals.ts`). Default true.
   */
  handleSignals?: boolean;
  /** Runs once per worker before the first call, with the shared JobProcess (load models here). */
  prewarm?: (proc: JobProcess) => void | Promise<void>;
  sessionTimeouts?: Partial<SessionTimeouts>;
  /** Replaces the LiveKit worker connection (tests, custom transports). Default: `WorkerConnection`. */
  connection?: ConnectionFactory;
  /** Reports what background work cannot throw. Default: a warning in the log. */
  onDiagnostic?: (diagnostic: Diagnostic) => void;
  /**
   * Metrics (Prometheus `/metrics`, port 9464 by default) and traces. Give options, a
   * telemetry you started yourself with `startTelemetry`, or false for none.
   */
  telemetry?: TelemetryOptions | OpenRtcTelemetry | false;
  /** The worker's pino logger, or options for the one it makes; agents-js logs through it too. */
  logger?: Logger | LoggerOptions;
  /**
   * The inspector socket `openrtc top` reads (a Unix socket in a per-user 0700 folder).
   * Default on; false for none.
   */
  inspect?: InspectOptions | false;
}

export interface DrainReport {
  /** Sessions that ended by themselves during the drain. */
  completed: number;
  /** Sessions still running at the timeout, cancelled. */
  cancelled: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 1_800_000;
/** livekit/livekit `agent.DefaultTargetLoad`. */
const DEFAULT_TARGET_LOAD = 0.7;

/**
 * The shared-process worker: one connection to the LiveKit server, every session of
 * every tenant hosted in this process.
 */
export class PoolWorker {
  readonly proc = new JobProcess();
  private readonly executor = new InProcessInferenceExecutor();
  private readonly loadMonitor: LoadMonitor;
  private readonly handler: PoolJobHandler;
  private readonly connection: DispatchConnection;
  private readonly drainTimeoutMs: number;
  private draining: Promise<DrainReport> | undefined;
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
    this.cleanups.push(bindAgentsLogger(this.logger));
    this.cleanups.push(this.guardStrayRejections());
    this.cleanups.push(attachPoolLogging(this.pool, this.logger));
    // A call admitted or ended may cross the target load: the server hears it now, not at the next interval.
    const refresh = (): void => this.connection.refreshStatus?.();
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
    this.logger.info(
      {
        event: 'worker_registered', workerId: this.connection.workerId, agents: this.pool.agentNames,
        metricsUrl: this.telemetry?.metricsUrl, inspectSocket: this.inspector?.socketPath,
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

  /**
   * Stops taking calls (WS_FULL, refusals with `draining`), lets live sessions finish for
   * up to `timeoutMs`, cancels what is left, then closes the connection.
   */
  drain(timeoutMs = this.drainTimeoutMs): Promise<DrainReport> {
    this.draining ??= this.runDrain(timeoutMs);
    return this.draining;
  }

  private async runDrain(timeoutMs: number): Promise<DrainReport> {
    this.pool.startDraining();
    this.connection.setDraining();
    let timedOut = false;
    let timer: TimerHandle | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.pool.clock.setTimer(() => {
        timedOut = true;
        resolve();
      }, timeoutMs);
    });
    // A call accepted before the drain may still get its assignment during it, so the
    // set of live sessions can grow: wait until none is running, not just the first ones.
    const hosted = new Set<RunningSession>();
    for (;;) {
      const running = this.handler.running();
      for (const session of running) hosted.add(session);
      if (running.length === 0 || timedOut) break;
      await Promise.race([Promise.allSettled(running.map((s) => s.done)), deadline]);
    }
    timer?.cancel();
    // Accepted calls whose assignment has not come will not be hosted by a stopping worker.
    // Ending their tickets first means no session can start while the rest are cancelled.
    const waiting = this.pool.liveTickets().filter((t) => t.state === 'reserved');
    const unassigned = Promise.allSettled(waiting.map((t) => t.finish('cancelled', 'worker stopped before the call started')));
    const leftover = this.handler.running();
    for (const session of leftover) hosted.add(session);
    for (const session of leftover) session.cancel('drain timeout reached');
    // A session that ended by itself but was still tearing down keeps its own outcome.
    const leftoverEnds = await Promise.allSettled(leftover.map((s) => s.done));
    await unassigned;
    await this.connection.close().catch((error: unknown) =>
      this.logger.warn({ event: 'worker_diagnostic' }, `closing the worker connection failed: ${errorMessage(error)}`));
    await this.executor.close();
    const cancelled = leftoverEnds.filter((end) => end.status === 'rejected' || end.value.outcome === 'cancelled').length;
    const report = { completed: hosted.size - cancelled, cancelled };
    this.logger.info({ event: 'worker_stopped', ...report }, 'openrtc worker drained and stopped');
    await this.release();
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

/** OPENRTC_METRICS_PORT picks the `/metrics` port when the options do not (0: any free port). */
function metricsPortFromEnv(): number | undefined {
  const raw = process.env.OPENRTC_METRICS_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalidOption('OPENRTC_METRICS_PORT', 'must be a port number 0-65535', raw);
  return port;
}

function isLogger(value: unknown): value is Logger {
  return typeof value === 'object' && value !== null && typeof (value as Logger).child === 'function' && typeof (value as Logger).info === 'function';
}

function isTelemetry(value: unknown): value is OpenRtcTelemetry {
  return typeof value === 'object' && value !== null && typeof (value as OpenRtcTelemetry).attach === 'function';
}

function resolveConnectionSettings(options: RunOptions, version: string): ConnectionSettings {
  const url = options.url ?? process.env.LIVEKIT_URL;
  const apiKey = options.apiKey ?? process.env.LIVEKIT_API_KEY;
  const apiSecret = options.apiSecret ?? process.env.LIVEKIT_API_SECRET;
  if (!url) throw new OpenRtcError('invalid_option', '`url` must be given (or LIVEKIT_URL set) to run the worker');
  if (!/^(https?|wss?):\/\//.test(url)) throw invalidOption('url', 'must start with http://, https://, ws:// or wss://', url);
  if (!apiKey) throw new OpenRtcError('invalid_option', '`apiKey` must be given (or LIVEKIT_API_KEY set) to run the worker');
  // The secret is never echoed back, not even in an error.
  if (!apiSecret) throw new OpenRtcError('invalid_option', '`apiSecret` must be given (or LIVEKIT_API_SECRET set) to run the worker');
  secretScrubber().addSecret(apiSecret);
  secretScrubber().addSecret(options.workerToken ?? process.env.LIVEKIT_WORKER_TOKEN);
  return {
    url,
    apiKey,
    apiSecret,
    agentName: options.agentName ?? process.env.LIVEKIT_AGENT_NAME ?? '',
    workerToken: options.workerToken ?? process.env.LIVEKIT_WORKER_TOKEN,
    version,
    deployment: options.deployment ?? process.env.LIVEKIT_AGENT_DEPLOYMENT ?? '',
    availabilityTimeoutMs: options.availabilityTimeoutMs,
    livenessTimeoutMs: options.livenessTimeoutMs,
  };
}

function resolveTargetLoad(value: unknown): number {
  if (value === undefined) return DEFAULT_TARGET_LOAD;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw invalidOption('targetLoad', 'must be a number above 0 and at most 1', value);
  return value;
}
