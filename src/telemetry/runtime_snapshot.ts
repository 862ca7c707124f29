import type { BreakerStatus } from '../admission/circuit_breaker.js';
import type { RefusalReason } from '../errors.js';
import type { StoresSnapshot } from '../admission/store_status.js';

/** Bumped whenever a field changes meaning or disappears; new fields keep the version. */
export const SNAPSHOT_SCHEMA_VERSION = 1;

export interface TenantSnapshot {
  /** Sessions running now. */
  active: number;
  /** Calls accepted and waiting for their assignment. */
  reserved: number;
  /** The tenant's cap, or null for none. */
  cap: number | null;
  /** (active + reserved) / cap, or null without a cap. */
  utilization: number | null;
  /** Null when the pool runs without a breaker. */
  breaker: BreakerStatus | null;
  rejectionsByReason: Partial<Record<RefusalReason, number>>;
  started: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface SnapshotTotals {
  admitted: number;
  started: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Accepted calls whose assignment never came. */
  expired: number;
  rejected: number;
}

/**
 * What tenants whose records were retired had done, summed: a tenant's record is dropped
 * once it is idle (see docs/architecture.md, "Bounded tenant state"), and its counts land
 * here, so the per-tenant counts plus these still add up to `totals`.
 */
export interface RetiredTenantTotals {
  /** Records retired so far (a tenant that came back and went idle again counts again). */
  tenants: number;
  started: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Refusals of those tenants (refusals without a valid tenant id are in no tenant). */
  rejected: number;
}

/**
 * What the pool is doing, as plain JSON-serializable data. It holds counts, names and
 * states only: never provider objects, keys, room names or participant data.
 */
export interface RuntimeSnapshot {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  takenAt: string;
  deploymentVersion: string;
  uptimeMs: number;
  draining: boolean;
  agents: string[];
  maxConcurrentSessions: number | null;
  activeSessions: number;
  reservedSessions: number;
  sessionsByTenant: Record<string, number>;
  sessionsByAgent: Record<string, number>;
  tenants: Record<string, TenantSnapshot>;
  rejectionsByReason: Record<RefusalReason, number>;
  /** Where slots and breaker state live, and whether a shared store is switched away from Redis. */
  stores: StoresSnapshot;
  totals: SnapshotTotals;
  retiredTenants: RetiredTenantTotals;
}
