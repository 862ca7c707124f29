import { REFUSAL_REASONS, type RefusalReason } from '../errors.js';
import type { PoolEventMap } from '../telemetry/pool_events.js';
import type { RetiredTenantTotals, SnapshotTotals } from '../telemetry/runtime_snapshot.js';
import type { Clock } from '../util/clock.js';
import type { TypedEvents } from '../util/typed_events.js';

/** Lifetime counters of one tenant. */
export interface TenantCounters {
  rejectionsByReason: Partial<Record<RefusalReason, number>>;
  started: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

interface TenantRecord extends TenantCounters {
  /** When the pool last decided, started or ended a call of the tenant (pool clock). */
  lastActiveAt: number;
}

/**
 * The pool's lifetime counters, counted from the pool's own events: the same events the
 * metrics count, so the snapshot and the metrics can never disagree about what happened.
 *
 * A tenant's record is kept while it is of use and then retired (see `retireIdle`): its
 * counts move into `retired`, so `totals` and the sum over tenants plus `retired` still
 * agree, and the records held stay bounded however many tenants have ever called.
 */
export class PoolStatistics {
  readonly totals: SnapshotTotals = { admitted: 0, started: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0, rejected: 0 };
  readonly rejections = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  readonly retired: RetiredTenantTotals = { tenants: 0, started: 0, succeeded: 0, failed: 0, cancelled: 0, rejected: 0 };
  private readonly perTenant = new Map<string, TenantRecord>();

  constructor(events: TypedEvents<PoolEventMap>, private readonly clock: Clock) {
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
    events.on('reservationExpired', (e) => {
      this.totals.expired++;
      this.tenant(e.tenant);
    });
  }

  /** Tenants with a record: seen (admitted or refused) and not retired since. */
  tenants(): string[] {
    return [...this.perTenant.keys()];
  }

  /** Number of tenant records held. */
  get size(): number {
    return this.perTenant.size;
  }

  has(tenant: string): boolean {
    return this.perTenant.has(tenant);
  }

  countersOf(tenant: string): TenantCounters | undefined {
    return this.perTenant.get(tenant);
  }

  /**
   * Retires every tenant last active at or before `idleSince` that `keep` does not claim:
   * its counts are added to `retired` and its record is dropped. One pass over the
   * records; returns the tenants retired. A retired tenant that calls again starts a
   * fresh record (its earlier counts stay in `retired`).
   */
  retireIdle(idleSince: number, keep: (tenant: string) => boolean): string[] {
    const gone: string[] = [];
    for (const [tenant, record] of this.perTenant) {
      if (record.lastActiveAt > idleSince || keep(tenant)) continue;
      this.perTenant.delete(tenant);
      gone.push(tenant);
      const r = this.retired;
      r.tenants++;
      r.started += record.started;
      r.succeeded += record.succeeded;
      r.failed += record.failed;
      r.cancelled += record.cancelled;
      for (const n of Object.values(record.rejectionsByReason)) r.rejected += n ?? 0;
    }
    return gone;
  }

  /** The tenant's record, created on first sight; every event that reaches it marks it active. */
  private tenant(tenant: string): TenantRecord {
    const now = this.clock.now();
    let record = this.perTenant.get(tenant);
    if (!record) {
      record = { rejectionsByReason: {}, started: 0, succeeded: 0, failed: 0, cancelled: 0, lastActiveAt: now };
      this.perTenant.set(tenant, record);
    }
    record.lastActiveAt = now;
    return record;
  }
}
