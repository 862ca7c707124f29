import type { BreakerPolicy } from '../admission/breaker_policy.js';
import type { AdmissionTicket } from '../admission/admission_ticket.js';
import type { ObservedPool } from '../telemetry/observed_pool.js';
import type { Clock } from '../util/clock.js';
import type { SessionActivitySnapshot } from '../session/session_activity.js';
import { OPENRTC_VERSION } from '../version.js';
import { InspectorServer } from './inspector_server.js';
import type { InspectorState, SessionRow } from './protocol.js';
import { defaultInspectDir } from './socket_dir.js';

/** A live session as the worker knows it. */
/** What the inspector reads from the pool its worker hosts. */
export interface InspectedPool extends ObservedPool {
  readonly clock: Clock;
  readonly deploymentVersion: string;
  readonly isDraining: boolean;
  readonly breakerPolicy: BreakerPolicy | undefined;
  ticket(jobId: string): AdmissionTicket | undefined;
}

export interface InspectedSession {
  readonly jobId: string;
  readonly tenant: string;
  readonly agent: string;
  readonly activity: { snapshot(): SessionActivitySnapshot };
}

/** What the inspector reads from the worker, all of it on request only. */
export interface InspectedWorker {
  pool: InspectedPool;
  sessions(): readonly InspectedSession[];
  workerId(): string | undefined;
  load(): number;
  metricsUrl(): string | undefined;
}

export interface InspectOptions {
  /** Folder of the sockets. Default: env OPENRTC_INSPECT_DIR, else `openrtc-<uid>` in the temp dir. */
  dir?: string;
}

const WINDOW_MS = 60_000;
/** Refusals kept per tenant; a storm of refusals must not grow memory without bound. */
const MAX_KEPT = 10_000;

/**
 * Counts each tenant's refused calls over the last minute, from the pool's admission events.
 * Tenants with nothing left in the window are dropped when counted, and at least once per
 * window while refusals come, so refusals of many random ids with no inspector client
 * asking keep at most the last two windows' tenants.
 */
class RefusalWindow {
  private readonly byTenant = new Map<string, number[]>();
  private nextSweepAt = -Infinity;

  record(tenant: string, at: number): void {
    if (at >= this.nextSweepAt) {
      this.nextSweepAt = at + WINDOW_MS;
      this.counts(at);
    }
    let times = this.byTenant.get(tenant);
    if (!times) this.byTenant.set(tenant, (times = []));
    times.push(at);
    if (times.length > MAX_KEPT) times.splice(0, times.length - MAX_KEPT);
  }

  counts(now: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [tenant, times] of this.byTenant) {
      const firstKept = times.findIndex((t) => now - t < WINDOW_MS);
      if (firstKept === -1) {
        this.byTenant.delete(tenant);
        continue;
      }
      if (firstKept > 0) times.splice(0, firstKept);
      counts[tenant] = times.length;
    }
    return counts;
  }
}

/** Starts a worker's inspector socket; the returned function closes it. */
export async function startWorkerInspector(worker: InspectedWorker, options: InspectOptions, onDiagnostic: (message: string) => void): Promise<{ socketPath: string; close: () => Promise<void> }> {
  const { pool } = worker;
  const refusals = new RefusalWindow();
  const unsubscribe = pool.on('admission', (event) => {
    if (!event.accepted && event.tenant !== undefined) refusals.record(event.tenant, pool.clock.now());
  });
  let socketPath = '';
  const state = (): InspectorState => {
    const now = pool.clock.now();
    const snapshot = pool.runtimeSnapshot();
    const sessions: SessionRow[] = [];
    for (const session of worker.sessions()) {
      // Only sessions the snapshot counts as active: not one whose ticket already ended.
      const ticket = pool.ticket(session.jobId);
      if (ticket?.state !== 'running' || ticket.startedAt === undefined) continue;
      const activity = session.activity.snapshot();
      const startedAt = ticket.startedAt;
      sessions.push( { jobId: session.jobId, tenant: session.tenant, agent: session.agent, startedAt, durationMs: now - startedAt, ...activity });
    }
    return {
      worker: {
        pid: process.pid,
        workerId: worker.workerId() ?? null,
        openrtcVersion: OPENRTC_VERSION,
        deploymentVersion: pool.deploymentVersion,
        load: worker.load(),
        draining: pool.isDraining,
        metricsUrl: worker.metricsUrl() ?? null,
        socket: socketPath,
      },
      snapshot,
      sessions,
      breakerPolicy: pool.breakerPolicy ? ({ ...pool.breakerPolicy } satisfies BreakerPolicy) : null,
      refusalsLastMinute: refusals.counts(now),
    };
  };
  try {
    const server = await InspectorServer.start({ dir: options.dir ?? defaultInspectDir(), state, onDiagnostic });
    socketPath = server.socketPath;
    return {
      socketPath,
      close: async () => {
        unsubscribe();
        await server.close();
      },
    };
  } catch (error: unknown) {
    unsubscribe();
    throw error;
  }
}
