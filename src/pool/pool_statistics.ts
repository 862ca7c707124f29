import { REFUSAL_REASONS, type RefusalReason } from '../errors.js';
import type { PoolEventMap } from '../telemetry/pool_events.js';
import type { SnapshotTotals } from '../telemetry/runtime_snapshot.js';
import type { TypedEvents } from '../util/typed_events.js';

/** Lifetime counters of one tenant. */
export interface TenantCounters {
  rejectionsByReason: Partial<Record<RefusalReason, number>>;
  started: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/**
 * The pool's lifetime counters, counted from the pool's own events: the same events the
 * metrics count, so the snapshot and the metrics can never disagree about what happened.
 */
export class PoolStatistics {
  readonly totals: SnapshotTotals = { admitted: 0, started: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0, rejected: 0 };
  readonly rejections = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  private readonly perTenant = new Map<string, TenantCounters>();

  constructor(events: TypedEvents<PoolEventMap>) {
    events.on('admission', (e) => {
      if (e.accepted) {
        this.totals.admitted++;
        this.tenant(e.tenant ?? '');
        return;
      }
      if (e.reason === undefined) return;
      this.rejections[e.reason]++;
      this.totals.rejected++;
      if (e.tenant !== undefined) {
        const counters = this.tenant(e.tenant);
        counters.rejectionsByReason[e.reason] = (counters.rejectionsByReason[e.reason] ?? 0) + 1;
      }
    });
    events.on('sessionStarted', (e) => {
      this.totals.started++;
      this.tenant(e.tenant).started++;
    });
    events.on('sessionEnded', (e) => {
      const counters = this.tenant(e.tenant);
      if (e.outcome === 'success') { this.totals.succeeded++; counters.succeeded++; }
      if (e.outcome === 'failed') { this.totals.failed++; counters.failed++; }
      if (e.outcome === 'cancelled') { this.totals.cancelled++; counters.cancelled++; }
    });
    events.on('reservationExpired', () => {
      this.totals.expired++;
    });
  }

  /** Tenants that have been admitted or refused at least once. */
  tenants(): string[] {
    return [...this.perTenant.keys()];
  }

  countersOf(tenant: string): TenantCounters | undefined {
    return this.perTenant.get(tenant);
  }

  private tenant(tenant: string): TenantCounters {
    let counters = this.perTenant.get(tenant);
    if (!counters) {
      counters = { rejectionsByReason: {}, started: 0, succeeded: 0, failed: 0, cancelled: 0 };
      this.perTenant.set(tenant, counters);
    }
    return counters;
  }
}
