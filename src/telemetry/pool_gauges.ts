// The gauges, read from the pool once per collection, so a scrape always shows the pool as
// it is, not as the last event left it.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BatchObservableResult } from '@opentelemetry/api';
import type { StoreStatus } from '../admission/store_status.js';
import { OPENRTC_VERSION } from '../version.js';
import type { ObservedPool } from './observed_pool.js';
import type { GaugeInstruments } from './pool_instruments.js';
import type { RuntimeSnapshot } from './runtime_snapshot.js';
import { OTHER_TENANT_LABEL, type TenantLabeler } from './tenant_labels.js';

const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
const REDIS_STORE_MODES = ['shared', 'fallback', 'refusing'] as const;

type Result = BatchObservableResult;

/** tenant\u0000agent pairs that have had a session, so their gauge drops to 0 instead of vanishing. */
export class ActivePairs {
  private readonly pairs = new Set<string>();

  add(tenant: string, agent: string): void {
    this.pairs.add(`${tenant}\u0000${agent}`);
  }

  /** Running sessions per pair that ever had one, 0 included. */
  observe(result: Result, gauge: GaugeInstruments['active'], pool: ObservedPool, tenants: TenantLabeler): void {
    const running = new Map<string, number>();
    for (const key of this.pairs) running.set(key, 0);
    for (const ticket of pool.liveTickets()) {
      if (ticket.state !== 'running') continue;
      const key = `${tenants.label(ticket.tenant)}\u0000${ticket.agentName}`;
      this.pairs.add(key);
      running.set(key, (running.get(key) ?? 0) + 1);
    }
    for (const [key, count] of running) {
      const [tenant, agent] = key.split('\u0000') as [string, string];
      result.observe(gauge, count, { tenant, agent });
    }
  }
}

/**
 * Per-tenant cap, utilization and breaker state, for tenants with a label of their own.
 * It remembers the last readings of labelled tenants (at most `tenantLabelLimit`): a
 * tenant whose record the pool retired is idle by definition (no call, breaker at rest)
 * and its labels stay (see tenant_labels.ts), so its gauges then read idle rather than
 * repeat what the last scrape before its retirement saw.
 */
export class TenantGauges {
  private readonly last = new Map<string, { cap: number | null; breaker: boolean }>();

  observe(result: Result, gauges: GaugeInstruments, snapshot: RuntimeSnapshot, tenants: TenantLabeler): void {
    const shown = new Set<string>();
    for (const [id, t] of Object.entries(snapshot.tenants)) {
      const tenant = tenants.label(id);
      // Caps and breaker states of folded tenants cannot be summed into one meaningful value.
      if (tenant === OTHER_TENANT_LABEL) continue;
      shown.add(tenant);
      this.last.set(tenant, { cap: t.cap, breaker: t.breaker !== null });
      if (t.cap !== null) result.observe(gauges.cap, t.cap, { tenant });
      if (t.utilization !== null) result.observe(gauges.utilization, t.utilization, { tenant });
      if (t.breaker !== null) result.observe(gauges.breakerState, BREAKER_STATE_VALUE[t.breaker.state], { tenant });
    }
    for (const [tenant, last] of this.last) {
      if (shown.has(tenant)) continue;
      if (last.cap !== null) {
        result.observe(gauges.cap, last.cap, { tenant });
        result.observe(gauges.utilization, 0, { tenant });
      }
      if (last.breaker) result.observe(gauges.breakerState, BREAKER_STATE_VALUE.closed, { tenant });
    }
  }
}

/** Load, draining, store modes and build info. */
export function observeWorker(
  result: Result, gauges: GaugeInstruments, snapshot: RuntimeSnapshot, workerLoad: (() => number) | undefined,
): void {
  const load = workerLoad
    ? workerLoad()
    : snapshot.maxConcurrentSessions === null
      ? undefined
      : (snapshot.activeSessions + snapshot.reservedSessions) / snapshot.maxConcurrentSessions;
  if (load !== undefined && Number.isFinite(load)) result.observe(gauges.workerLoad, load);
  result.observe(gauges.draining, snapshot.draining ? 1 : 0);
  const stores: [string, StoreStatus | null][] = [['reservations', snapshot.stores.reservations], ['breaker', snapshot.stores.breaker]];
  for (const [store, status] of stores) {
    if (status === null) continue;
    if (status.backend === 'memory') result.observe(gauges.storeMode, 1, { store, mode: 'memory' });
    else for (const mode of REDIS_STORE_MODES) result.observe(gauges.storeMode, status.mode === mode ? 1 : 0, { store, mode });
  }
  result.observe(gauges.buildInfo, 1, { version: OPENRTC_VERSION, deployment: snapshot.deploymentVersion });
}

/** The event loop's delay since the previous collection. */
export class LoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
  }

  observe(result: Result, gauge: GaugeInstruments['loopLag']): void {
    // Nanoseconds to seconds; reset so each scrape shows the delay since the previous one.
    // An empty histogram answers odd percentiles; no samples means no measured delay.
    const lag = this.histogram;
    const sampled = lag.count > 0;
    result.observe(gauge, sampled ? lag.percentile(99) / 1e9 : 0, { quantile: '0.99' });
    result.observe(gauge, sampled ? lag.max / 1e9 : 0, { quantile: '1' });
    lag.reset();
  }

  stop(): void {
    this.histogram.disable();
  }
}
