// A worker hosting a pool against the stand-in LiveKit server, over real WebSockets, for
// end-to-end telemetry tests: dispatch scripted text calls, wait until the pool has
// recorded their outcome, then read the metrics, spans and logs they left.
import { voice } from '@livekit/agents';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import { type LoggerOptions, createLogger } from '../../src/telemetry/logger.js';
import { type OpenRtcTelemetry, type TelemetryOptions, startTelemetry } from '../../src/telemetry/setup.js';
import {
  type DispatchBehaviour, DispatchServer, type DispatchedCall, type SimulatedCallScript, SimulatedRoomTransport,
} from '../../src/testing/index.js';
import type { PoolWorker } from '../../src/worker/pool_worker.js';
import { captureLines } from './log_capture.js';

export const API_KEY = 'devkey';
export const API_SECRET = 'devsecret-devsecret-devsecret-0123';

export const SUPPORT_INSTRUCTIONS = 'You help callers.';

export class SupportAgent extends voice.Agent {
  constructor() {
    super({ instructions: SUPPORT_INSTRUCTIONS });
  }
}

export interface HarnessOptions {
  pool: Partial<AgentPoolOptions>;
  /** Start telemetry with an in-memory span exporter (true), or pass options to the worker. Default true. */
  spans?: boolean;
  telemetry?: TelemetryOptions;
  /** Logger options; records are captured in `logs`. Default level debug. */
  logger?: LoggerOptions;
}

export interface Harness {
  server: DispatchServer;
  pool: AgentPool;
  worker: PoolWorker;
  telemetry: OpenRtcTelemetry | undefined;
  spans: InMemorySpanExporter;
  logger: Logger;
  /** Every JSON record the worker's logger wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Raw text of every line the logger wrote. */
  logText: string[];
  /** Dispatches a scripted text call for a tenant. */
  call(tenant: string, turns: string[], extra?: CallExtras): DispatchedCall;
  /** Waits until every accepted call among `calls` has ended in the pool; refused ones settle at once. */
  settle(calls: DispatchedCall[]): Promise<void>;
  close(): Promise<void>;
}

export interface CallExtras {
  jobId?: string;
  /** More job metadata keys beside the tenant. */
  metadata?: Record<string, unknown>;
  script?: Partial<SimulatedCallScript>;
  behaviour?: DispatchBehaviour;
}

let roomSeq = 0;

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  const spans = new InMemorySpanExporter();
  let telemetry: OpenRtcTelemetry | undefined;
  if (options.spans !== false) {
    telemetry = await startTelemetry({
      host: '127.0.0.1',
      port: 0,
      otlpTraces: false,
      spanProcessors: [new SimpleSpanProcessor(spans)],
      ...options.telemetry,
    });
  }
  const capture = captureLines();
  const logText: string[] = [];
  const destination = {
    write(line: string) {
      logText.push(line);
      capture.write(line);
    },
  };
  const logger = createLogger({ level: 'debug', otlp: false, destination, ...options.logger });
  const pool = new AgentPool({
    agent: SupportAgent,
    deploymentVersion: 'e2e-deploy',
    sessionOptions: { turnHandling: { turnDetection: 'manual' } },
    ...options.pool,
  });
  // Each job's end, whichever comes first: the pool event or the test waiting for it.
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

  const worker = await pool.start({
    url: server.url,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    transport: new SimulatedRoomTransport(),
    handleSignals: false,
    telemetry: telemetry ?? options.telemetry ?? { host: '127.0.0.1', port: 0, otlpTraces: false },
    logger,
    drainTimeoutMs: 5_000,
  });

  let closed = false;
  return {
    server,
    pool,
    worker,
    telemetry,
    spans,
    logger,
    logs: capture.records,
    logText,
    call(tenant, turns, extra = {}) {
      roomSeq += 1;
      return server.dispatch(
        {
          roomName: `room-${roomSeq}`,
          ...(extra.jobId === undefined ? {} : { jobId: extra.jobId }),
          jobMetadata: JSON.stringify({ tenant, ...extra.metadata }),
          simulated: { turns, turnTimeoutMs: 10_000, ...extra.script },
        },
        extra.behaviour,
      );
    },
    async settle(calls) {
      await Promise.all(
        calls.map(async (c) => {
          if ((await c.availability).available) await endedFor(c.jobId).promise;
        }),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.drain();
      const { openSockets } = await server.close();
      await telemetry?.shutdown();
      if (openSockets !== 0) throw new Error(`${openSockets} sockets were still open when the server closed`);
    },
  };
}
