import { afterEach, describe, expect, it } from 'vitest';
import { AgentPool, type RuntimeSnapshot } from '../../src/index.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, flush, refused } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';
import { heapAfterGc } from '../helpers/heap.js';
import { type Scrape, scrape } from '../telemetry/prometheus_text.js';

// Bounds documented in docs/architecture.md ("Bounded tenant state").
const ONE_CALL_TENANTS = 30_000;
/**
 * Two warm-up phases (labels used up, code compiled), then two measured ones: a leak shows in
 * both, while a one-off step of the heap (a page, compiled code, a table that grew) shows
 * in one at most, so the smaller of the two is what the pool keeps per tenant.
 */
const PHASES = [5_000, 5_000, 10_000, 10_000];
const RETENTION_MS = 60_000;
const SNAPSHOT_BYTES_BOUND = 4_096;
/**
 * Heap the pool may keep per further one-call tenant once the window has passed: none in
 * truth; the margin is for GC noise (a leaked record would cost about 600 B).
 */
const HEAP_BYTES_PER_TENANT_BOUND = 50;
const LABEL_LIMIT = 100;

let telemetry: OpenRtcTelemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

function makePool(clock: ManualClock): AgentPool {
  return new AgentPool({
    agent: SupportAgent,
    clock,
    // Random ids (`rnd-`) are refused by the loader: they must earn neither a record nor a label.
    tenantConfig: (tenant) => {
      if (tenant.startsWith('rnd-')) throw new Error('unknown tenant');
      return null;
    },
    maxSessionsPerTenant: { vip: 5 },
    defaultMaxSessionsPerTenant: 2,
    enableTenantCircuitBreaker: true,
    circuitBreaker: { minSamples: 2, failureRatio: 0.5, windowMs: RETENTION_MS, cooldownMs: 20 * RETENTION_MS },
  });
}

async function oneCall(pool: AgentPool, clock: ManualClock, tenant: string, outcome: 'success' | 'failed' = 'success') {
  const ticket = accepted(await pool.admit(call(tenant)));
  ticket.markStarted(clock.now());
  await ticket.finish(outcome);
}

/** Per-tenant counts plus the retired tenants' counts, which must equal the totals. */
function summed(snapshot: RuntimeSnapshot) {
  const sum = { ...snapshot.retiredTenants };
  for (const t of Object.values(snapshot.tenants)) {
    sum.started += t.started;
    sum.succeeded += t.succeeded;
    sum.failed += t.failed;
    sum.cancelled += t.cancelled;
    for (const n of Object.values(t.rejectionsByReason)) sum.rejected += n ?? 0;
  }
  return sum;
}

function sizeOf(snapshot: RuntimeSnapshot): { bytes: number; records: number } {
  return { bytes: JSON.stringify(snapshot).length, records: Object.keys(snapshot.tenants).length };
}

function counters(s: Scrape): Map<string, number> {
  const out = new Map<string, number>();
  for (const sample of s.samples) {
    if (s.types.get(sample.name) !== 'counter' && !sample.name.endsWith('_total')) continue;
    if (!sample.name.startsWith('openrtc_')) continue;
    out.set(`${sample.name}${JSON.stringify(sample.labels)}`, sample.value);
  }
  return out;
}

/**
 * `count` one-call tenants from `from` on, one refused random id per ten, the clock moving
 * 5 ms per call; then two retention windows pass. Returns figures only: holding a snapshot
 * would count it in the heap measured.
 */
async function oneCallTenants(pool: AgentPool, clock: ManualClock, from: number, count: number, keepScrape: boolean) {
  const startedAt = performance.now();
  let refusedIds = 0;
  for (let i = from; i < from + count; i++) {
    if (i % 10 === 0) {
      // Checked without expect(): the assertion library keeps a little per assertion.
      const decision = await pool.admit(call(`rnd-${i}`));
      if (decision.accepted || decision.reason !== 'config_error') throw new Error(`rnd-${i} was not refused by its loader`);
      refusedIds++;
    }
    await oneCall(pool, clock, `t-${i}`);
    clock.advance(5); // sweeps also run while calls come
  }
  const callsMs = performance.now() - startedAt;
  const { bytes: duringBytes, records: duringRecords } = sizeOf(pool.runtimeSnapshot());
  // The counters as scraped while every tenant of the phase still has its record (kept for
  // one phase only: a few thousand series would show in the heap measured).
  const scraped = counters(await scrape(telemetry!.metricsUrl));
  const before = keepScrape ? scraped : undefined;
  // Two windows: every one-call tenant is idle past the window and its breaker at rest.
  clock.advance(2 * RETENTION_MS);
  pool.runtimeSnapshot(); // runs the due sweep; breaker states at rest are forgotten after it
  for (let i = 0; i < 10; i++) await flush();
  const { bytes: afterBytes, records: afterRecords } = sizeOf(pool.runtimeSnapshot());
  const heapAfter = await heapAfterGc();
  return { refused: refusedIds, callsMs, duringBytes, duringRecords, afterBytes, afterRecords, heapAfter, before };
}

describe('bounded tenant state', () => {
  it(`keeps the snapshot and the pool small after ${ONE_CALL_TENANTS} one-call tenants, totals intact`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const pool = makePool(clock);
    telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false, tenantLabelLimit: LABEL_LIMIT });
    telemetry.attach(pool);

    // A configured tenant, and one whose breaker opens (its cooldown outlasts the test).
    await oneCall(pool, clock, 'vip');
    await oneCall(pool, clock, 'flaky', 'failed');
    await oneCall(pool, clock, 'flaky', 'failed');
    refused(await pool.admit(call('flaky')), 'circuit_open');
    refused(await pool.admit(call('rnd-warm')), 'config_error');
    const heapAtStart = await heapAfterGc();

    // In phases: the first ones fill the label budget and warm the code; the last shows what
    // the pool keeps per further tenant once the window has passed, which should be nothing.
    const phases = [];
    let from = 0;
    for (const count of PHASES) {
      phases.push({ count, ...(await oneCallTenants(pool, clock, from, count, from === 0)) });
      from += count;
    }
    const after = pool.runtimeSnapshot();
    const afterBytes = sizeOf(after).bytes;
    const s = await scrape(telemetry.metricsUrl);

    let heapBefore = heapAtStart;
    for (const f of phases) {
      console.log(
        `${f.count} one-call tenants (+${f.refused} refused random ids) in ${f.callsMs.toFixed(0)} ms; ` +
          `snapshot ${f.duringBytes} B with ${f.duringRecords} records before the window passed, ${f.afterBytes} B with ` +
          `${f.afterRecords} after; heap after GC ${heapBefore} -> ${f.heapAfter} B ` +
          `(${((f.heapAfter - heapBefore) / f.count).toFixed(1)} B per tenant)`,
      );
      heapBefore = f.heapAfter;
    }
    const [warm, measured1, measured2] = phases.slice(-3) as [(typeof phases)[number], (typeof phases)[number], (typeof phases)[number]];
    const heapPerTenant = Math.min(
      (measured1.heapAfter - warm.heapAfter) / measured1.count,
      (measured2.heapAfter - measured1.heapAfter) / measured2.count,
    );
    const refusedRandom = phases.reduce((n, f) => n + f.refused, 0);
    const before = phases[0]!.before!;


    // Kept: the configured tenant and the one with breaker history; the rest retired.
    expect(Object.keys(after.tenants)).toEqual(['flaky', 'vip']);
    expect(after.tenants.flaky?.breaker?.state).toBe('open');
    expect(afterBytes).toBeLessThan(SNAPSHOT_BYTES_BOUND);
    expect(heapPerTenant).toBeLessThan(HEAP_BYTES_PER_TENANT_BOUND);

    // Lifetime totals still add up: per tenant plus retired equals the pool's totals.
    expect(after.totals).toMatchObject({ started: ONE_CALL_TENANTS + 3, succeeded: ONE_CALL_TENANTS + 1, failed: 2, cancelled: 0 });
    expect(after.totals.rejected).toBe(refusedRandom + 2);
    const sum = summed(after);
    expect(sum).toMatchObject({ started: after.totals.started, succeeded: after.totals.succeeded, failed: 2, cancelled: 0, rejected: after.totals.rejected });
    expect(after.retiredTenants.tenants).toBeGreaterThanOrEqual(ONE_CALL_TENANTS + refusedRandom);

    // Labels: the configured tenant, then admitted tenants in order; refused ids never.
    const labels = new Set(s.samples.map((x) => x.labels.tenant).filter((x) => x !== undefined));
    expect(labels.size).toBe(LABEL_LIMIT + 1);
    expect(labels).toContain('vip');
    expect(labels).toContain('flaky');
    expect(labels).toContain('t-0');
    expect(labels).toContain('~other');
    expect([...labels].filter((l) => l.startsWith('rnd-'))).toEqual([]);

    // Counters never go down for a label still exported (labels are never taken back):
    // `before` was scraped while every first-half tenant still had its record.
    const now = counters(s);
    for (const [series, value] of before) expect(now.get(series), series).toBeGreaterThanOrEqual(value);
    // A labelled tenant's gauges show it idle once retired.
    const util = s.samples.find((x) => x.name === 'openrtc_tenant_cap_utilization_ratio' && x.labels.tenant === 't-0');
    expect(util?.value).toBe(0);
  });

  it('keeps a tenant with a live call or recent activity, and retires it once idle past the window', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const pool = makePool(clock);
    const long = accepted(await pool.admit(call('long')));
    long.markStarted(clock.now());
    const reserved = accepted(await pool.admit(call('waiting'))); // its assignment never comes (5 s)
    await oneCall(pool, clock, 'recent');
    clock.advance(30_000);
    expect(reserved.state).toBe('ended');
    await oneCall(pool, clock, 'latest');
    expect(Object.keys(pool.runtimeSnapshot().tenants)).toEqual(['latest', 'long', 'recent', 'vip', 'waiting']);

    // First sweep (one window after the start): only `recent` has been idle a whole window.
    clock.advance(31_000);
    let snapshot = pool.runtimeSnapshot();
    expect(Object.keys(snapshot.tenants)).toEqual(['latest', 'long', 'vip', 'waiting']);
    expect(snapshot.retiredTenants).toEqual({ tenants: 1, started: 1, succeeded: 1, failed: 0, cancelled: 0, rejected: 0 });

    // No sweep before the next window, however often the snapshot is taken.
    clock.advance(RETENTION_MS - 1);
    expect(Object.keys(pool.runtimeSnapshot().tenants)).toHaveLength(4);
    clock.advance(1);
    snapshot = pool.runtimeSnapshot();
    expect(Object.keys(snapshot.tenants)).toEqual(['long', 'vip']);
    expect(snapshot.retiredTenants).toMatchObject({ tenants: 3, started: 2, succeeded: 2 });

    // A running call keeps its tenant however long it lasts; its end starts the window.
    await long.finish('success');
    clock.advance(2 * RETENTION_MS);
    snapshot = pool.runtimeSnapshot();
    expect(Object.keys(snapshot.tenants)).toEqual(['vip']);
    expect(summed(snapshot)).toMatchObject({ started: 3, succeeded: 3 });
    expect(snapshot.totals).toMatchObject({ admitted: 4, started: 3, succeeded: 3, expired: 1 });
  });
});
