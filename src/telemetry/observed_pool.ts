import type { TicketState } from '../admission/admission_ticket.js';
import type { PoolEventName, PoolListener } from './pool_events.js';
import type { RuntimeSnapshot } from './runtime_snapshot.js';

/** A live call as telemetry sees it. */
export interface LiveCallView {
  readonly state: TicketState;
  readonly tenant: string;
  readonly agentName: string;
}

/**
 * What telemetry reads from a pool: its events, its snapshot and its live calls. Metrics
 * and logging depend on this, not on the AgentPool class, so they sit below the pool.
 */
export interface ObservedPool {
  on<K extends PoolEventName>(name: K, listener: PoolListener<K>): () => void;
  runtimeSnapshot(): RuntimeSnapshot;
  liveTickets(): readonly LiveCallView[];
}
