import { initializeLogger } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import { type DispatchedCall, ScriptedLLM } from '../../src/testing/index.js';
import { OwnRedis, until } from '../helpers/redis.js';
import { REDIS_ONLY_FAMILIES } from '../helpers/store_families.js';
import { type WorkerHarness, startWorkerHarness } from '../helpers/worker_harness.js';
import { type Scrape, familyOf, scrape, valueOf } from '../telemetry/prometheus_text.js';

/*
 * The store families exist only with the Redis stores, so the in-memory scrapes
 * (test/telemetry/pool_metrics.test.ts, worker_metrics.e2e.test.ts) cannot show them: a
 * worker run with `redis` on a Redis of the test's own takes calls, loses Redis, takes a
 * call on its fallback store, gets Redis back, and is scraped before and after.
 */
// What the in-memory scrapes leave out, and the mode gauge they show as `memory`.
const STORE_FAMILIES = [...REDIS_ONLY_FAMILIES, 'openrtc_store_mode'];
const OPERATIONS = new Set(['reserve', 'release', 'renew', 'sweep', 'counts', 'read', 'update', 'ping']);
const OPERATION_TIMEOUT_MS = 500;

let redis: OwnRedis;
let h: WorkerHarness;
let roomSeq = 0;
let healthy: Scrape;
let afterOutage: Scrape;

async function callAndHangUp(): Promise<DispatchedCall> {
  const c = h.call('acme', { turns: ['hello'] }, { roomName: `metrics-room-${++roomSeq}` });
  expect(await c.availability).toMatchObject({ available: true });
  await c.ended;
  await h.sessionEnded(c.jobId);
  return c;
}

const modes = () => {
  const { reservations, breaker } = h.pool.runtimeSnapshot().stores;
  return [reservations.mode, breaker?.mode];
};

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  redis = await OwnRedis.start();
  h = await startWorkerHarness({
    pool: {
      tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) } },
      maxSessionsPerTenant: { acme: 8 },
      enableTenantCircuitBreaker: true,
    },
    run: {
      redis: {
        url: redis.url, keyPrefix: 'metrics:', workerId: 'metrics-worker', recoveryIntervalMs: 50, operationTimeoutMs: OPERATION_TIMEOUT_MS,
        reservations: { onUnavailable: 'fail-open' },
      },
      telemetry: { host: '127.0.0.1', port: 0, otlpTraces: false },
      inspect: false,
      logger: { level: 'silent', otlp: false },
    },
  });
  const { worker } = h;

  for (let i = 0; i < 3; i++) await callAndHangUp();
  healthy = await scrape(worker.metricsUrl!);

  await redis.stop();
  // fail-open: the call is decided on this worker alone (a quarter of acme's cap of 8).
  await callAndHangUp();
  expect(modes()).toEqual(['fallback', 'fallback']);
  await redis.resume();
  await until(() => Promise.resolve(modes().every((m) => m === 'shared')), 'both stores back on Redis');
  await callAndHangUp();
  afterOutage = await scrape(worker.metricsUrl!);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

describe('store metrics of a worker on Redis', () => {
  const v = (s: Scrape, name: string, labels: Record<string, string>) => valueOf(s, name, labels);

  it('times every store call by store and operation, in seconds', () => {
    const count = 'openrtc_store_operation_duration_seconds_count';
    const sum = 'openrtc_store_operation_duration_seconds_sum';
    // Three calls: each reserved and released a slot, and read and updated the breaker.
    expect(v(healthy, count, { store: 'reservations', operation: 'reserve' })).toBe(3);
    expect(v(healthy, count, { store: 'reservations', operation: 'release' })).toBe(3);
    // The worker starts its stores once its metrics listen: the start's sweep is counted too.
    expect(v(healthy, count, { store: 'reservations', operation: 'sweep' })).toBe(1);
    expect(v(healthy, count, { store: 'breaker', operation: 'read' })).toBeGreaterThanOrEqual(3);
    expect(v(healthy, count, { store: 'breaker', operation: 'update' })).toBeGreaterThanOrEqual(3);
    for (const sample of healthy.samples.filter((x) => x.name === count)) {
      const total = v(healthy, sum, sample.labels)!;
      // A local Redis answers well within the operation timeout, and no call takes no time.
      expect(total, JSON.stringify(sample.labels)).toBeGreaterThan(0);
      expect(total / sample.value, JSON.stringify(sample.labels)).toBeLessThan(OPERATION_TIMEOUT_MS / 1000);
      expect(v(healthy, 'openrtc_store_operation_duration_seconds_bucket', { ...sample.labels, le: '+Inf' })).toBe(sample.value);
    }
    // Timed on Redis again after the outage: the call after it, and the one during it if
    // it reached Redis (a failed call is timed too).
    const reserves = v(afterOutage, count, { store: 'reservations', operation: 'reserve' })!;
    expect(reserves).toBeGreaterThanOrEqual(4);
    expect(reserves).toBeLessThanOrEqual(5);
  });

  it('counts failed calls and each switch away from Redis and back, per store', () => {
    expect(healthy.samples.filter((x) => x.name === 'openrtc_store_errors_total')).toEqual([]);
    expect(healthy.samples.filter((x) => x.name === 'openrtc_store_mode_switches_total')).toEqual([]);
    // The call during the outage found Redis gone: its breaker read failed, and its
    // reservation (unless a lease renewal had found out first, which is counted as `renew`).
    const errors = afterOutage.samples.filter((x) => x.name === 'openrtc_store_errors_total');
    expect(v(afterOutage, 'openrtc_store_errors_total', { store: 'breaker', operation: 'read' })).toBeGreaterThanOrEqual(1);
    const reservationErrors = errors.filter((x) => x.labels.store === 'reservations');
    expect(reservationErrors.reduce((n, x) => n + x.value, 0)).toBeGreaterThanOrEqual(1);
    expect(reservationErrors.every((x) => ['reserve', 'renew', 'ping'].includes(x.labels.operation!))).toBe(true);
    for (const store of ['reservations', 'breaker']) {
      expect(v(afterOutage, 'openrtc_store_mode_switches_total', { store, from: 'shared', to: 'fallback' }), store).toBe(1);
      expect(v(afterOutage, 'openrtc_store_mode_switches_total', { store, from: 'fallback', to: 'shared' }), store).toBe(1);
    }
    expect(afterOutage.samples.filter((x) => x.name === 'openrtc_store_mode_switches_total')).toHaveLength(4);
  });

  it('shows where each store decides now', () => {
    for (const s of [healthy, afterOutage]) {
      for (const store of ['reservations', 'breaker']) {
        expect(v(s, 'openrtc_store_mode', { store, mode: 'shared' })).toBe(1);
        expect(v(s, 'openrtc_store_mode', { store, mode: 'fallback' })).toBe(0);
        expect(v(s, 'openrtc_store_mode', { store, mode: 'refusing' })).toBe(0);
        expect(v(s, 'openrtc_store_mode', { store, mode: 'memory' })).toBeUndefined();
      }
    }
  });

  it('exports the store families with their catalogued types and label sets, and known label values', () => {
    for (const name of STORE_FAMILIES) {
      const metric = METRIC_CATALOG.find((m) => m.name === name);
      if (!metric) throw new Error(`${name} is not catalogued`);
      expect(afterOutage.types.get(name), name).toBe(metric.type);
      const allowed = new Set([...metric.labels, ...metric.optionalLabels, ...(metric.type === 'histogram' ? ['le'] : [])]);
      const samples = afterOutage.samples.filter((x) => familyOf(afterOutage, x.name) === name);
      expect(samples.length, name).toBeGreaterThan(0);
      for (const sample of samples) {
        const keys = Object.keys(sample.labels);
        expect(keys.filter((k) => !allowed.has(k)), `${sample.name} extra labels`).toEqual([]);
        expect(metric.labels.filter((k) => !keys.includes(k)), `${sample.name} missing labels`).toEqual([]);
        expect(['reservations', 'breaker']).toContain(sample.labels.store);
        if (sample.labels.operation !== undefined) expect(OPERATIONS.has(sample.labels.operation), sample.labels.operation).toBe(true);
      }
    }
  });
});

describe('a worker that starts while Redis is down', () => {
  it('logs and counts its switch away from Redis, as any later one', { timeout: 30_000 }, async () => {
    const gone = await OwnRedis.start();
    await gone.stop();
    // The store waits for a connecting client (5 s), then its start's sweep fails.
    const down = await startWorkerHarness({
      pool: { maxSessionsPerTenant: { acme: 8 } },
      run: {
        redis: { url: gone.url, keyPrefix: 'metrics-down:', workerId: 'metrics-down', operationTimeoutMs: OPERATION_TIMEOUT_MS },
        inspect: false,
      },
      observe: { spans: false, logger: { level: 'info' } },
    });
    try {
      const s = await scrape(down.worker.metricsUrl!);
      expect(valueOf(s, 'openrtc_store_errors_total', { store: 'reservations', operation: 'sweep' })).toBe(1);
      expect(valueOf(s, 'openrtc_store_mode_switches_total', { store: 'reservations', from: 'shared', to: 'refusing' })).toBe(1);
      expect(valueOf(s, 'openrtc_store_mode', { store: 'reservations', mode: 'refusing' })).toBe(1);
      expect(down.logs.filter((l) => l.event === 'store_mode_changed')).toMatchObject([
        { level: 40, store: 'reservations', from: 'shared', to: 'refusing', policy: 'fail-closed' },
      ]);
      // fail-closed, the default for reservations: the worker refuses until Redis answers.
      const c = down.call('acme', ['hi']);
      expect(await c.availability).toMatchObject({ available: false });
      expect(down.snapshot().rejectionsByReason.store_unavailable).toBe(1);
    } finally {
      expect(await down.close(1_000)).toBe(0);
    }
  });
});
