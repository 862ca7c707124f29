import type { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import { OpenRtcError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { LiveSessions } from './live_sessions.js';
import type { PoolStatistics } from './pool_statistics.js';

/** How long a tenant's record outlives its last call (admission, start or end). */
export const TENANT_RETENTION_MS = 60_000;

export interface RetentionParts {
  statistics: PoolStatistics;
  live: LiveSessions;
  breaker: TenantCircuitBreaker | undefined;
  clock: Clock;
  /** Tenants the pool is configured for (a cap of their own, static tenant config): never retired. */
  configured: ReadonlySet<string>;
  /** The loader cache, swept of expired answers along with the records (on its own schedule). */
  config: { evictExpired(): void; releaseTenant(tenant: string): void };
  report(diagnostic: Diagnostic): void;
}

/**
 * Keeps the pool's per-tenant state bounded. A tenant's record is kept while it is
 * configured, has a live call (reserved or running), was active within the last
 * `TENANT_RETENTION_MS`, or has breaker history (open, half-open, or outcomes inside the
 * breaker window); otherwise its counts fold into the pool's retired totals and the
 * record goes, and so does the breaker's state at rest for it (in its store too).
 *
 * Sweeps run at most once per retention window, from whichever comes first after one is
 * due: a call decided or ended, or a snapshot. One sweep is one pass over the records, so
 * the cost per call is constant on average, and the records held are at most: configured
 * tenants + tenants with a live call + tenants active in the last two windows + tenants
 * with breaker history.
 */
export class TenantRetention {
  private nextSweepAt: number;
  /** Breaker states at rest waiting to be forgotten, one store round trip each. */
  private readonly toForget = new Set<string>();
  private forgetting = false;

  constructor(private readonly parts: RetentionParts) {
    this.nextSweepAt = parts.clock.now() + TENANT_RETENTION_MS;
  }

  /** Sweeps if a window has passed since the last sweep; otherwise costs one clock read. */
  sweepIfDue(): void {
    this.parts.config.evictExpired();
    const now = this.parts.clock.now();
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + TENANT_RETENTION_MS;
    this.sweep(now);
  }

  private sweep(now: number): void {
    const { statistics, live, breaker, configured } = this.parts;
    const busy = new Set<string>();
    for (const ticket of live.all()) busy.add(ticket.tenant);
    const keep = (tenant: string) =>
      configured.has(tenant) || busy.has(tenant) || (breaker !== undefined && !breaker.looksAtRest(tenant));
    // A retired tenant has no live or reserved call: the keys its loader answers carried
    // can go once its cached answer goes too (the resolver waits for that).
    for (const tenant of statistics.retireIdle(now - TENANT_RETENTION_MS, keep)) this.parts.config.releaseTenant(tenant);
    if (!breaker) return;
    // Breaker states of tenants without a record (just retired, or left over from a forget
    // that failed): a state at rest decides like no state, so it can go.
    for (const tenant of breaker.tenants()) {
      if (!statistics.has(tenant) && !keep(tenant)) this.toForget.add(tenant);
    }
    if (this.toForget.size > 0 && !this.forgetting) void this.forgetQueued(breaker);
  }

  /**
   * One at a time, so a sweep of many tenants never floods a shared store. A failure is
   * reported once per run and the rest wait for the next sweep, which finds them again.
   */
  private async forgetQueued(breaker: TenantCircuitBreaker): Promise<void> {
    this.forgetting = true;
    try {
      for (const tenant of this.toForget) {
        this.toForget.delete(tenant);
        // A call of the tenant may have come since the sweep; the store decides on its own state.
        await breaker.forgetIfAtRest(tenant);
      }
    } catch (error: unknown) {
      this.toForget.clear();
      const why = error instanceof OpenRtcError ? `: ${error.rawMessage}` : '';
      this.parts.report({ code: 'store_failed', message: `the breaker store failed while forgetting idle tenants${why}; the next sweep retries` });
    } finally {
      this.forgetting = false;
    }
  }
}
