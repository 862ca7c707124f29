// The one worker harness: the stand-in LiveKit server and a pool started against it over
// real WebSockets, its sessions joining the server's simulated rooms. Everything runs on
// real time. By default the worker's diagnostics are collected; `observe` records what an
// operator would see instead: metrics, spans kept in memory and every log line.
import { afterEach, expect } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { BreakerTransitionEvent } from '../../src/admission/circuit_breaker.js';
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import { type LoggerOptions, createLogger } from '../../src/telemetry/logger.js';
import type { SessionEndedEvent } from '../../src/telemetry/pool_events.js';
import type { RuntimeSnapshot } from '../../src/telemetry/runtime_snapshot.js';
import { type OpenRtcTelemetry, type TelemetryOptions, startTelemetry } from '../../src/telemetry/setup.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { DispatchBehaviour, SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { SimulatedRoomTransport } from '../../src/testing/simulated_room.js';
import type { PoolWorker } from '../../src/worker/pool_worker.js';
import type { RunOptions } from '../../src/worker/run_options.js';
import { captureLines } from '../telemetry/log_capture.js';
import { eventually } from './eventually.js';
import { API_KEY, API_SECRET, tenantMetadata } from './server_credentials.js';
import { OFFLINE_SESSION_OPTIONS, SupportAgent } from './test_agent.js';

export interface ObserveOptions {
  /** Start telemetry with spans kept in memory (default), or let the worker start its own from `telemetry`. */
  spans?: boolean;
  telemetry?: TelemetryOptions;
  /** Options of the worker's logger; every record lands in `logs`. Default level debug. */
  logger?: LoggerOptions;
}

export interface WorkerHarnessOptions {
  /** Over the defaults: the support agent (unless agents are given), text-only sessions. */
  pool?: AgentPoolOptions;
  /** Over the defaults: the simulated room transport, no signal handlers. */
  run?: Omit<RunOptions, 'url' | 'apiKey' | 'apiSecret'>;
  /** A server shared with other workers: the harness neither starts nor closes it. */
  server?: DispatchServer;
  /** Record telemetry and logs (true for the defaults) instead of collecting diagnostics. */
  observe?: ObserveOptions | true;
}

export interface CallOptions extends DispatchBehaviour {
  roomName?: string;
  jobId?: string;
  /** More job metadata keys beside the tenant. */
  metadata?: Record<string, unknown>;
}

export interface WorkerHarness {
  server: DispatchServer;
  pool: AgentPool;
  worker: PoolWorker;
  /** What the worker reported through `onDiagnostic`, as `code: message` (not observing). */
  diagnostics: string[];
  /** Every `sessionEnded` event, in order. */
  sessionsEnded: SessionEndedEvent[];
  /** Every `breakerTransition` event, in order. */
  transitions: BreakerTransitionEvent[];
  /** The telemetry the harness started (observing with spans). */
  telemetry: OpenRtcTelemetry | undefined;
  spans: InMemorySpanExporter;
  /** The worker's logger. */
  logger: Logger;
  /** Every JSON record the worker's logger wrote, parsed (observing). */
  logs: Record<string, unknown>[];
  /** Raw text of every line the logger wrote (observing). */
  logText: string[];
  /** The `sessionEnded` event of a job, once the session has been torn down and counted. */
  sessionEnded(jobId: string, timeoutMs?: number): Promise<SessionEndedEvent>;
  /**
   * Dispatches a simulated call for `tenant`. Turns alone make a text call whose turns
   * wait up to 10 s for a reply.
   */
  call(tenant: string, script: SimulatedCallScript | string[], options?: CallOptions): DispatchedCall;
  /** Waits until every accepted call among `calls` has ended in the pool; refused ones settle at once. */
  settle(calls: DispatchedCall[]): Promise<void>;
  snapshot(): RuntimeSnapshot;
  /**
   * Drains the pool (bounded), waits for every socket to close, and closes the server
   * (unless shared). Resolves with the sockets still open when the server closed (expected 0).
   */
  close(drainTimeoutMs?: number): Promise<number>;
}

let roomSeq = 0;

interface Observation {
  telemetry: OpenRtcTelemetry | undefined;
  spans: InMemorySpanExporter;
  logs: Record<string, unknown>[];
  logText: string[];
  run: Partial<RunOptions>;
}

async function observation(observe: WorkerHarnessOptions['observe'], diagnostics: string[]): Promise<Observation> {
  const spans = new InMemorySpanExporter();
  if (observe === undefined) {
    const run = { onDiagnostic: (d: { code: string; message: string }) => diagnostics.push(`${d.code}: ${d.message}`) };
    return { telemetry: undefined, spans, logs: [], logText: [], run };
  }
  const options = observe === true ? {} : observe;
  const telemetry = options.spans === false ? undefined : await startTelemetry({
    host: '127.0.0.1', port: 0, otlpTraces: false, spanProcessors: [new SimpleSpanProcessor(spans)], ...options.telemetry,
  });
  const capture = captureLines();
  const logText: string[] = [];
  const destination = {
    write(line: string) {
      logText.push(line);
      capture.write(line);
    },
  };
  const logger = createLogger({ level: 'debug', otlp: false, destination, ...options.logger });
  const run = { telemetry: telemetry ?? options.telemetry ?? { host: '127.0.0.1', port: 0, otlpTraces: false }, logger };
  return { telemetry, spans, logs: capture.records, logText, run };
}

/** Each job's end, whichever comes first: the pool event or the test waiting for it. */
function jobEnds(pool: AgentPool): (jobId: string) => Promise<void> {
  const ended = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const endedFor = (jobId: string) => {
    let entry = ended.get(jobId);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      entry = { promise, resolve };
      ended.set(jobId, entry);
    }
    return entry;
  };
  pool.on('sessionEnded', (e) => endedFor(e.jobId).resolve());
  pool.on('reservationExpired', (e) => endedFor(e.jobId).resolve());
  return (jobId) => endedFor(jobId).promise;
}

export async function startWorkerHarness(options: WorkerHarnessOptions = {}): Promise<WorkerHarness> {
  const { pool: poolOptions = {}, run: runOptions = {} } = options;
  const sharedServer = options.server;
  const server = sharedServer ?? (await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET }));
  const diagnostics: string[] = [];
  const observed = await observation(options.observe, diagnostics);
  const pool = new AgentPool({
    agent: poolOptions.agents === undefined && poolOptions.agent === undefined ? SupportAgent : poolOptions.agent,
    deploymentVersion: 'e2e-deploy',
    sessionOptions: OFFLINE_SESSION_OPTIONS,
    ...poolOptions,
  });
  const sessionsEnded: SessionEndedEvent[] = [];
  const transitions: BreakerTransitionEvent[] = [];
  pool.on('sessionEnded', (event) => sessionsEnded.push(event));
  pool.on('breakerTransition', (event) => transitions.push(event));
  const ended = jobEnds(pool);
  let worker: PoolWorker;
  try {
    worker = await pool.start({
      transport: new SimulatedRoomTransport(),
      handleSignals: false,
      drainTimeoutMs: 5_000,
      ...observed.run,
      ...runOptions,
      url: server.url,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
    });
  } catch (error) {
    await observed.telemetry?.shutdown();
    if (!sharedServer) await server.close();
    throw error;
  }
  let closed: Promise<number> | undefined;
  return {
    server,
    pool,
    worker,
    diagnostics,
    sessionsEnded,
    transitions,
    telemetry: observed.telemetry,
    spans: observed.spans,
    logger: worker.logger,
    logs: observed.logs,
    logText: observed.logText,
    sessionEnded: (jobId, timeoutMs = 10_000) =>
      eventually(() => sessionsEnded.find((e) => e.jobId === jobId), `the session of job ${jobId} to end`, timeoutMs),
    call(tenant, script, callOptions = {}) {
      const { roomName = `room-${tenant}-${++roomSeq}`, jobId, metadata, ...behaviour } = callOptions;
      const simulated = Array.isArray(script) ? { turns: script, turnTimeoutMs: 10_000 } : script;
      const jobMetadata = metadata === undefined ? tenantMetadata(tenant) : JSON.stringify({ tenant, ...metadata });
      return server.dispatch({ roomName, ...(jobId === undefined ? {} : { jobId }), jobMetadata, simulated }, behaviour);
    },
    async settle(calls) {
      await Promise.all(
        calls.map(async (c) => {
          if ((await c.availability).available) await ended(c.jobId);
        }),
      );
    },
    snapshot: () => pool.runtimeSnapshot(),
    close(drainTimeoutMs = 2_000) {
      closed ??= (async () => {
        await pool.drain(drainTimeoutMs);
        await observed.telemetry?.shutdown();
        if (sharedServer) return 0;
        await server.waitFor(() => server.openSockets === 0, 'every socket to close', 5_000).catch(() => undefined);
        const { openSockets } = await server.close();
        return openSockets;
      })();
      return closed;
    },
  };
}

/**
 * For a describe block: starts harnesses on demand and, after each test, closes them and
 * expects every socket to have closed.
 */
export function harnessPerTest(): (options?: WorkerHarnessOptions) => Promise<WorkerHarness> {
  const started: WorkerHarness[] = [];
  afterEach(async () => {
    const open = await Promise.all(started.splice(0).map((h) => h.close()));
    expect(open.reduce((sum, n) => sum + n, 0)).toBe(0);
  });
  return async (options) => {
    const harness = await startWorkerHarness(options);
    started.push(harness);
    return harness;
  };
}
