import { voice } from '@livekit/agents';
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { BreakerTransitionEvent } from '../../src/admission/circuit_breaker.js';
import type { SessionEndedEvent } from '../../src/telemetry/pool_events.js';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import type { RuntimeSnapshot } from '../../src/telemetry/runtime_snapshot.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { DispatchBehaviour, SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { SimulatedRoomTransport } from '../../src/testing/simulated_room.js';
import type { PoolWorker, RunOptions } from '../../src/worker/pool_worker.js';
import { eventually } from './eventually.js';

export const API_KEY = 'devkey';
export const API_SECRET = 'devsecret-devsecret-devsecret-0123';

/** The agent every harness pool hosts unless a test registers its own. */
export class SupportAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You help callers.' });
  }
}

/** Text-only sessions: no VAD or STT offline, so turns are ended by the runner. */
export const OFFLINE_SESSION_OPTIONS: AgentPoolOptions['sessionOptions'] = { turnHandling: { turnDetection: 'manual' } };

export interface PoolHarness {
  server: DispatchServer;
  pool: AgentPool;
  worker: PoolWorker;
  /** What the worker reported through `onDiagnostic`. */
  diagnostics: string[];
  /** Every `sessionEnded` event, in order. */
  sessionsEnded: SessionEndedEvent[];
  /** Every `breakerTransition` event, in order. */
  transitions: BreakerTransitionEvent[];
  /** The `sessionEnded` event of a job, once the session has been torn down and counted. */
  sessionEnded(jobId: string, timeoutMs?: number): Promise<SessionEndedEvent>;
  /** Dispatches a simulated call for `tenant`. */
  call(tenant: string, script: SimulatedCallScript, behaviour?: DispatchBehaviour & { roomName?: string }): DispatchedCall;
  snapshot(): RuntimeSnapshot;
  /**
   * Drains the pool (bounded), waits for every socket to close, and closes the server.
   * Resolves with the sockets still open when the server closed (expected 0).
   */
  close(drainTimeoutMs?: number): Promise<number>;
}

let roomSeq = 0;

/** Job metadata naming a tenant, as a dispatch layer would set it. */
export const tenantMetadata = (tenant: string): string => JSON.stringify({ tenant });

/**
 * The stand-in LiveKit server and a pool started against it over real WebSockets, with
 * sessions joining the server's simulated rooms. Everything runs on real time.
 */
export async function startPoolHarness(
  poolOptions: AgentPoolOptions,
  runOptions: Omit<RunOptions, 'url' | 'apiKey' | 'apiSecret'> = {},
): Promise<PoolHarness> {
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  const pool = new AgentPool({
    agent: poolOptions.agents === undefined && poolOptions.agent === undefined ? SupportAgent : poolOptions.agent,
    sessionOptions: OFFLINE_SESSION_OPTIONS,
    ...poolOptions,
  });
  const diagnostics: string[] = [];
  const sessionsEnded: SessionEndedEvent[] = [];
  const transitions: BreakerTransitionEvent[] = [];
  pool.on('sessionEnded', (event) => sessionsEnded.push(event));
  pool.on('breakerTransition', (event) => transitions.push(event));
  let worker: PoolWorker;
  try {
    worker = await pool.start({
      transport: new SimulatedRoomTransport(),
      handleSignals: false,
      onDiagnostic: (d) => diagnostics.push(d.message),
      ...runOptions,
      url: server.url,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
    });
  } catch (error) {
    await server.close();
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
    sessionEnded: (jobId, timeoutMs = 10_000) =>
      eventually(() => sessionsEnded.find((e) => e.jobId === jobId), `the session of job ${jobId} to end`, timeoutMs),
    call(tenant, script, behaviour = {}) {
      const { roomName = `room-${tenant}-${++roomSeq}`, ...rest } = behaviour;
      return server.dispatch({ roomName, jobMetadata: tenantMetadata(tenant), simulated: script }, rest);
    },
    snapshot: () => pool.runtimeSnapshot(),
    close(drainTimeoutMs = 2_000) {
      closed ??= (async () => {
        await pool.drain(drainTimeoutMs);
        await server.waitFor(() => server.openSockets === 0, 'every socket to close', 5_000).catch(() => undefined);
        const { openSockets } = await server.close();
        return openSockets;
      })();
      return closed;
    },
  };
}
