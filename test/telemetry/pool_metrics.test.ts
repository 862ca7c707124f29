import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';
import type { TelemetryDiagnostic } from '../../src/telemetry/pool_metrics.js';
import { OPENRTC_VERSION } from '../../src/version.js';
import { call, makePool, startSession } from '../helpers/calls.js';
import { REDIS_ONLY_FAMILIES } from '../helpers/store_families.js';
import { type Scrape, familyOf, scrape, valueOf } from './prometheus_text.js';

let telemetry: OpenRtcTelemetry | undefined;

afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

async function start(options: Parameters<typeof startTelemetry>[0] = {}): Promise<OpenRtcTelemetry> {
  telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false, ...options });
  return telemetry;
}

/** Three tenants through a real pool: caps, a breaker that opens, outcomes, usage, expiry. */
async function driveThreeTenants() {
  const { pool, clock } = makePool({
    maxSessionsPerTenant: { acme: 2, globex: 5 },
    maxConcurrentSessions: 10,
    enableTenantCircuitBreaker: true,
    circuitBreaker: { minSamples: 2, failureRatio: 0.5, windowMs: 60_000, cooldownMs: 30_000 },
  });
  const t = await start();
  t.attach(pool);

  // acme: two sessions fill its cap of 2, the third call is refused; one ends well.
  const acme1 = await startSession(pool, clock, 'acme');
  await startSession(pool, clock, 'acme');
  const refusedByCap = await pool.admit(call('acme'));
  expect(refusedByCap).toMatchObject({ accepted: false, reason: 'tenant_cap' });
  clock.advance(90_000);
  await acme1.finish('success');

  // globex: one cancelled, one running, one accepted call whose assignment never comes.
  const globex1 = await startSession(pool, clock, 'globex');
  await globex1.finish('cancelled');
  await startSession(pool, clock, 'globex');
  const waiting = await pool.admit(call('globex'));
  expect(waiting.accepted).toBe(true);
  await clock.advanceAsync(15_000);

  // initech: two failures open its breaker; the next call is refused.
  const initech1 = await startSession(pool, clock, 'initech');
  const initech2 = await startSession(pool, clock, 'initech');
  await initech1.finish('failed');
  await initech2.finish('failed');
  const refusedByBreaker = await pool.admit(call('initech'));
  expect(refusedByBreaker).toMatchObject({ accepted: false, reason: 'circuit_open' });

  // A malformed tenant id.
  const invalid = await pool.admit(call('bad tenant!'));
  expect(invalid).toMatchObject({ accepted: false, reason: 'invalid_tenant' });

  pool.runtime.recordUsage({ tenant: 'acme', agent: 'support', kind: 'llm', provider: 'openai', model: 'gpt-4o', inputTokens: 100, outputTokens: 20, cachedTokens: 0 });
  pool.runtime.recordUsage({ tenant: 'acme', agent: 'support', kind: 'llm', provider: 'openai', model: 'gpt-4o', inputTokens: 50, cachedTokens: 30 });
  pool.runtime.recordUsage({ tenant: 'globex', agent: 'support', kind: 'stt', provider: 'deepgram', model: 'nova-3', audioSeconds: 12.5 });
  pool.runtime.recordUsage({ tenant: 'acme', agent: 'support', kind: 'tts', provider: 'cartesia', model: 'sonic-2', characters: 42 });

  const acmeLlm = { tenant: 'acme', agent: 'support', provider: 'openai', model: 'gpt-4o' };
  const acmeTts = { tenant: 'acme', agent: 'support', provider: 'cartesia', model: 'sonic-2' };
  pool.runtime.recordLatency({ ...acmeLlm, stage: 'llm_ttft', seconds: 0.4 });
  pool.runtime.recordLatency({ ...acmeLlm, stage: 'llm_duration', seconds: 1.2 });
  pool.runtime.recordLatency({ ...acmeTts, stage: 'tts_ttfb', seconds: 0.15 });
  pool.runtime.recordLatency({ ...acmeTts, stage: 'tts_duration', seconds: 0.9 });
  pool.runtime.recordLatency({ tenant: 'acme', agent: 'support', stage: 'end_of_utterance', seconds: 0.6 });
  pool.runtime.recordLatency({ tenant: 'acme', agent: 'support', stage: 'turn', seconds: 1.1 });
  pool.runtime.recordLatency({ tenant: 'acme', agent: 'support', stage: 'turn', seconds: Number.NaN });
  pool.runtime.recordProviderError({ tenant: 'initech', agent: 'support', component: 'llm', provider: 'openai', recoverable: true });
  pool.runtime.recordProviderError({ tenant: 'initech', agent: 'support', component: 'llm', provider: 'openai', recoverable: false });
  pool.runtime.recordProviderError({ tenant: 'initech', agent: 'support', component: 'llm', provider: 'openai', recoverable: false });

  return { pool, telemetry: t };
}

describe('pool metrics over a real /metrics scrape', () => {
  it('binds port 0 and reports the URL it can be scraped at', async () => {
    const t = await start();
    expect(t.metricsPort).toBeGreaterThan(0);
    expect(t.metricsUrl).toBe(`http://127.0.0.1:${t.metricsPort}/metrics`);
    const response = await fetch(t.metricsUrl.replace('/metrics', '/other'));
    expect(response.status).toBe(404);
  });

  it('keeps the global meter (where agents-js records room and job ids) out of the scrape', async () => {
    const t = await start();
    metrics.getMeter('livekit-agents').createHistogram('lk.agents.event_loop.blocked_duration').record(0.2, { room_id: 'RM_1', job_id: 'AJ_1' });
    const text = await (await fetch(t.metricsUrl)).text();
    expect(text).not.toContain('lk_agents');
    expect(text).not.toContain('RM_1');
  });

  it('closes the metrics server on shutdown, once', async () => {
    const t = await start();
    await t.shutdown();
    await t.shutdown();
    await expect(fetch(t.metricsUrl)).rejects.toThrow();
  });

  it('exports exact series for three tenants', async () => {
    const { telemetry: t } = await driveThreeTenants();
    const s = await scrape(t.metricsUrl);
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(s, name, labels);

    expect(v('openrtc_sessions_started_total', { tenant: 'acme', agent: 'support' })).toBe(2);
    expect(v('openrtc_sessions_started_total', { tenant: 'globex', agent: 'support' })).toBe(2);
    expect(v('openrtc_sessions_started_total', { tenant: 'initech', agent: 'support' })).toBe(2);

    expect(v('openrtc_sessions_ended_total', { tenant: 'acme', agent: 'support', outcome: 'success' })).toBe(1);
    expect(v('openrtc_sessions_ended_total', { tenant: 'globex', agent: 'support', outcome: 'cancelled' })).toBe(1);
    expect(v('openrtc_sessions_ended_total', { tenant: 'initech', agent: 'support', outcome: 'failed' })).toBe(2);
    expect(v('openrtc_session_duration_seconds_count', { tenant: 'acme', agent: 'support', outcome: 'success' })).toBe(1);
    expect(v('openrtc_session_duration_seconds_sum', { tenant: 'acme', agent: 'support', outcome: 'success' })).toBe(90);
    expect(v('openrtc_session_duration_seconds_bucket', { tenant: 'acme', agent: 'support', outcome: 'success', le: '60' })).toBe(0);
    expect(v('openrtc_session_duration_seconds_bucket', { tenant: 'acme', agent: 'support', outcome: 'success', le: '120' })).toBe(1);

    expect(v('openrtc_sessions_active', { tenant: 'acme', agent: 'support' })).toBe(1);
    expect(v('openrtc_sessions_active', { tenant: 'globex', agent: 'support' })).toBe(1);
    expect(v('openrtc_sessions_active', { tenant: 'initech', agent: 'support' })).toBe(0);

    expect(v('openrtc_admissions_total', { tenant: 'acme', agent: 'support', decision: 'accepted' })).toBe(2);
    expect(v('openrtc_admissions_total', { tenant: 'acme', agent: 'support', decision: 'refused' })).toBe(1);
    expect(v('openrtc_admissions_total', { tenant: 'globex', agent: 'support', decision: 'accepted' })).toBe(3);
    expect(v('openrtc_admissions_total', { tenant: 'initech', agent: 'support', decision: 'refused' })).toBe(1);
    // Refused before an agent was chosen: no agent label at all.
    expect(v('openrtc_admissions_total', { tenant: '~invalid', decision: 'refused' })).toBe(1);

    expect(v('openrtc_admission_refusals_total', { tenant: 'acme', reason: 'tenant_cap' })).toBe(1);
    expect(v('openrtc_admission_refusals_total', { tenant: 'initech', reason: 'circuit_open' })).toBe(1);
    expect(v('openrtc_admission_refusals_total', { tenant: '~invalid', reason: 'invalid_tenant' })).toBe(1);
    expect(s.samples.filter((x) => x.name === 'openrtc_admission_refusals_total' && x.value > 0)).toHaveLength(3);
    expect(v('openrtc_admission_duration_seconds_count')).toBe(10);

    expect(v('openrtc_reservations_expired_total', { tenant: 'globex', agent: 'support' })).toBe(1);

    expect(v('openrtc_tenant_session_cap', { tenant: 'acme' })).toBe(2);
    expect(v('openrtc_tenant_session_cap', { tenant: 'globex' })).toBe(5);
    expect(v('openrtc_tenant_session_cap', { tenant: 'initech' })).toBeUndefined();
    expect(v('openrtc_tenant_cap_utilization_ratio', { tenant: 'acme' })).toBe(0.5);
    expect(v('openrtc_tenant_cap_utilization_ratio', { tenant: 'globex' })).toBe(0.2);

    expect(v('openrtc_tenant_breaker_state', { tenant: 'acme' })).toBe(0);
    expect(v('openrtc_tenant_breaker_state', { tenant: 'globex' })).toBe(0);
    expect(v('openrtc_tenant_breaker_state', { tenant: 'initech' })).toBe(2);
    expect(v('openrtc_breaker_transitions_total', { tenant: 'initech', from: 'closed', to: 'open' })).toBe(1);

    expect(v('openrtc_tenant_config_loads_total', { tenant: 'acme', result: 'loaded' })).toBe(1);
    expect(v('openrtc_tenant_config_loads_total', { tenant: 'acme', result: 'cache_hit' })).toBe(2);
    expect(v('openrtc_tenant_config_load_duration_seconds_count', { tenant: 'acme' })).toBe(1);

    expect(v('openrtc_llm_tokens_total', { tenant: 'acme', provider: 'openai', model: 'gpt-4o', type: 'input' })).toBe(150);
    expect(v('openrtc_llm_tokens_total', { tenant: 'acme', provider: 'openai', model: 'gpt-4o', type: 'output' })).toBe(20);
    expect(v('openrtc_llm_tokens_total', { tenant: 'acme', provider: 'openai', model: 'gpt-4o', type: 'cached' })).toBe(30);
    expect(v('openrtc_stt_audio_seconds_total', { tenant: 'globex', provider: 'deepgram', model: 'nova-3' })).toBe(12.5);
    expect(v('openrtc_tts_characters_total', { tenant: 'acme', provider: 'cartesia', model: 'sonic-2' })).toBe(42);

    const llm = { tenant: 'acme', agent: 'support', provider: 'openai', model: 'gpt-4o' };
    const tts = { tenant: 'acme', agent: 'support', provider: 'cartesia', model: 'sonic-2' };
    const acme = { tenant: 'acme', agent: 'support' };
    expect(v('openrtc_llm_ttft_seconds_sum', llm)).toBe(0.4);
    expect(v('openrtc_llm_ttft_seconds_bucket', { ...llm, le: '0.3' })).toBe(0);
    expect(v('openrtc_llm_ttft_seconds_bucket', { ...llm, le: '0.5' })).toBe(1);
    expect(v('openrtc_llm_duration_seconds_sum', llm)).toBe(1.2);
    expect(v('openrtc_tts_ttfb_seconds_sum', tts)).toBe(0.15);
    expect(v('openrtc_tts_duration_seconds_sum', tts)).toBe(0.9);
    expect(v('openrtc_eou_delay_seconds_sum', acme)).toBe(0.6);
    // The NaN turn is dropped.
    expect(v('openrtc_turn_latency_seconds_count', acme)).toBe(1);
    expect(v('openrtc_turn_latency_seconds_sum', acme)).toBe(1.1);
    const initechErrors = { tenant: 'initech', component: 'llm', provider: 'openai' };
    expect(v('openrtc_provider_errors_total', { ...initechErrors, kind: 'recoverable' })).toBe(1);
    expect(v('openrtc_provider_errors_total', { ...initechErrors, kind: 'unrecoverable' })).toBe(2);
    // Seen through usage and latency: acme's providers start at 0.
    expect(v('openrtc_provider_errors_total', { tenant: 'acme', component: 'llm', provider: 'openai', kind: 'unrecoverable' })).toBe(0);
    expect(v('openrtc_provider_errors_total', { tenant: 'acme', component: 'tts', provider: 'cartesia', kind: 'recoverable' })).toBe(0);

    // acme 1 running + globex 1 running, out of 10.
    expect(v('openrtc_worker_load_ratio')).toBe(0.2);
    expect(v('openrtc_worker_draining')).toBe(0);
    expect(v('openrtc_event_loop_lag_seconds', { quantile: '0.99' })).toBeGreaterThanOrEqual(0);
    expect(v('openrtc_event_loop_lag_seconds', { quantile: '1' })).toBeGreaterThanOrEqual(0);
    expect(v('openrtc_build_info', { version: OPENRTC_VERSION, deployment: 'test-deploy' })).toBe(1);

    expectNoIdLabels(s);
  });

  it('exports exactly the catalogued families, with their types and label sets', async () => {
    const { pool, telemetry: t } = await driveThreeTenants();
    pool.runtime.startDraining();
    const s = await scrape(t.metricsUrl);

    const scraped = new Set(s.samples.map((x) => familyOf(s, x.name)).filter((name) => name !== 'target_info'));
    // Cost export has its own families, exported by the voicegateway exporter (tested with it).
    // Shared-store calls happen only with the Redis stores: test/fleet/store_metrics.test.ts checks those families.
    const redisOnly = new Set(REDIS_ONLY_FAMILIES);
    const poolFamilies = METRIC_CATALOG.filter((m) => !m.name.startsWith('openrtc_voicegateway_') && !redisOnly.has(m.name));
    const catalogued = new Set(poolFamilies.map((m) => m.name));
    expect([...scraped].filter((name) => !catalogued.has(name)), 'scraped but not catalogued').toEqual([]);
    expect([...catalogued].filter((name) => !scraped.has(name)), 'catalogued but not scraped').toEqual([]);

    for (const metric of poolFamilies) {
      expect(s.types.get(metric.name), metric.name).toBe(metric.type);
      const allowed = new Set([...metric.labels, ...metric.optionalLabels, ...(metric.type === 'histogram' ? ['le'] : [])]);
      for (const sample of s.samples.filter((x) => familyOf(s, x.name) === metric.name)) {
        const keys = Object.keys(sample.labels);
        expect(keys.filter((k) => !allowed.has(k)), `${sample.name} extra labels`).toEqual([]);
        expect(metric.labels.filter((k) => !keys.includes(k)), `${sample.name} missing labels`).toEqual([]);
      }
    }
    expect(valueOf(s, 'openrtc_worker_draining')).toBe(1);
  });

  it('starts configured tenants\' counters at 0, and a new tenant\'s at its first admission', async () => {
    const { pool, clock } = makePool({ maxSessionsPerTenant: { acme: 2 }, enableTenantCircuitBreaker: true });
    const t = await start();
    t.attach(pool);
    const before = await scrape(t.metricsUrl);
    const zero = (s: Scrape, tenant: string) => ({
      started: valueOf(s, 'openrtc_sessions_started_total', { tenant, agent: 'support' }),
      failed: valueOf(s, 'openrtc_sessions_ended_total', { tenant, agent: 'support', outcome: 'failed' }),
      accepted: valueOf(s, 'openrtc_admissions_total', { tenant, agent: 'support', decision: 'accepted' }),
      capRefusals: valueOf(s, 'openrtc_admission_refusals_total', { tenant, reason: 'tenant_cap' }),
      configErrors: valueOf(s, 'openrtc_tenant_config_loads_total', { tenant, result: 'error' }),
      opened: valueOf(s, 'openrtc_breaker_transitions_total', { tenant, from: 'closed', to: 'open' }),
    });
    const allZero = { started: 0, failed: 0, accepted: 0, capRefusals: 0, configErrors: 0, opened: 0 };
    expect(zero(before, 'acme')).toEqual(allZero);
    expect(zero(before, 'newco').started).toBeUndefined();
    expect(valueOf(before, 'openrtc_admission_refusals_total', { tenant: 'acme', reason: 'invalid_tenant' })).toBeUndefined();

    await startSession(pool, clock, 'newco');
    const after = await scrape(t.metricsUrl);
    expect(zero(after, 'newco')).toEqual({ ...allZero, started: 1, accepted: 1 });
    expect(zero(after, 'acme')).toEqual(allZero);
  });

  it('detach stops counting', async () => {
    const { pool, clock } = makePool();
    const t = await start();
    const handle = t.attach(pool);
    await startSession(pool, clock, 'acme');
    handle.detach();
    await startSession(pool, clock, 'acme');
    const s = await scrape(t.metricsUrl);
    expect(valueOf(s, 'openrtc_sessions_started_total', { tenant: 'acme', agent: 'support' })).toBe(1);
    expect(valueOf(s, 'openrtc_build_info', { version: OPENRTC_VERSION, deployment: 'test-deploy' })).toBeUndefined();
  });
});

describe('tenant label cardinality', () => {
  it('never labels an invalid tenant id', async () => {
    const { pool } = makePool();
    const t = await start();
    t.attach(pool);
    for (const bad of ['bad tenant!', 'x'.repeat(200), '../etc', '']) {
      expect((await pool.admit(call(bad))).accepted).toBe(false);
    }
    const s = await scrape(t.metricsUrl);
    const tenants = new Set(s.samples.map((x) => x.labels.tenant).filter((x) => x !== undefined));
    expect([...tenants]).toEqual(['~invalid']);
    expect(valueOf(s, 'openrtc_admission_refusals_total', { tenant: '~invalid', reason: 'invalid_tenant' })).toBe(4);
  });

  it('folds tenants past the limit into ~other and warns once', async () => {
    const diagnostics: TelemetryDiagnostic[] = [];
    const { pool, clock } = makePool();
    const t = await start({ tenantLabelLimit: 3, onDiagnostic: (d) => diagnostics.push(d) });
    t.attach(pool);
    for (const tenant of ['t1', 't2', 't3', 't4', 't5', 't6', 't1', 't5']) await startSession(pool, clock, tenant);

    const s = await scrape(t.metricsUrl);
    const started = (tenant: string) => valueOf(s, 'openrtc_sessions_started_total', { tenant, agent: 'support' });
    expect(started('t1')).toBe(2);
    expect(started('t2')).toBe(1);
    expect(started('t3')).toBe(1);
    expect(started('~other')).toBe(4);
    expect(started('t4')).toBeUndefined();
    expect(valueOf(s, 'openrtc_sessions_active', { tenant: '~other', agent: 'support' })).toBe(4);
    const tenants = new Set(s.samples.map((x) => x.labels.tenant).filter((x) => x !== undefined));
    expect([...tenants].sort()).toEqual(['t1', 't2', 't3', '~other']);

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'tenant_label_limit' });
    expect(diagnostics[0]!.message).toContain('3');
  });

  it('gives labels to admitted tenants only, so refused tenants never use up the budget', async () => {
    const diagnostics: TelemetryDiagnostic[] = [];
    // The loader refuses every tenant whose id starts with "rnd-" (random valid ids).
    const { pool, clock } = makePool({
      tenantConfig: (tenant) => {
        if (tenant.startsWith('rnd-')) throw new Error('unknown tenant');
        return null;
      },
    });
    const t = await start({ tenantLabelLimit: 3, onDiagnostic: (d) => diagnostics.push(d) });
    t.attach(pool);
    for (let i = 0; i < 50; i++) expect(await pool.admit(call(`rnd-${i}`))).toMatchObject({ accepted: false, reason: 'config_error' });
    for (const tenant of ['t1', 't2', 't3']) await startSession(pool, clock, tenant);

    const s = await scrape(t.metricsUrl);
    const tenants = new Set(s.samples.map((x) => x.labels.tenant).filter((x) => x !== undefined));
    expect([...tenants].sort()).toEqual(['t1', 't2', 't3', '~other']);
    expect(valueOf(s, 'openrtc_admission_refusals_total', { tenant: '~other', reason: 'config_error' })).toBe(50);
    expect(valueOf(s, 'openrtc_sessions_started_total', { tenant: 't3', agent: 'support' })).toBe(1);
    expect(diagnostics).toEqual([]);
  });

  it('rejects a bad tenantLabelLimit', async () => {
    const { pool } = makePool();
    const t = await start();
    expect(() => t.attach(pool, { tenantLabelLimit: 0 })).toThrow(/tenantLabelLimit/);
  });
});

function expectNoIdLabels(s: Scrape): void {
  for (const sample of s.samples) {
    for (const key of Object.keys(sample.labels)) {
      expect(['room', 'room_name', 'job', 'job_id', 'session', 'session_id', 'room_id']).not.toContain(key);
    }
    for (const value of Object.values(sample.labels)) {
      expect(value).not.toMatch(/^(job|room)-\d+$/);
    }
  }
}
