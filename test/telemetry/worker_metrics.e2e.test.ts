import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { OPENRTC_VERSION } from '../../src/version.js';
import { REDIS_ONLY_FAMILIES } from '../helpers/store_families.js';
import { type Scrape, familyOf, scrape, valueOf } from './prometheus_text.js';
import { addTokens, expectedTokens } from './token_math.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';
import { SUPPORT_INSTRUCTIONS } from '../helpers/test_agent.js';

// Three tenants through a real worker: acme is healthy, globex may run one call at a
// time, initech's provider fails every request until its breaker opens.
const acmeReply = (text: string) => `Acme here, about "${text}": done.`;
const globexReply = (text: string) => `Globex noted: ${text}`;
const ACME_CALLS = [['hello there', 'what time is it?'], ['bye now']];
const GLOBEX_TURNS = ['open a ticket'];

// Text calls never run speech-to-text or text-to-speech (agents-js drops both in a
// text-only session), and have no speech to time, so those families cannot appear here.
const NOT_IN_TEXT_CALLS = [
  'openrtc_stt_audio_seconds_total', 'openrtc_tts_characters_total', 'openrtc_turn_latency_seconds',
  'openrtc_eou_delay_seconds', 'openrtc_tts_ttfb_seconds', 'openrtc_tts_duration_seconds',
  // The voicegateway delivery families exist only when the pool exports costs (not here).
  'openrtc_voicegateway_records_sent_total', 'openrtc_voicegateway_records_duplicate_total',
  'openrtc_voicegateway_records_retried_total', 'openrtc_voicegateway_records_dropped_total',
  'openrtc_voicegateway_buffered_records',
  // Shared-store calls, errors and mode switches happen only with the Redis stores
  // (checked by test/fleet/store_metrics.test.ts).
  ...REDIS_ONLY_FAMILIES,
];

let h: Harness;
let whileGlobexRuns: Scrape;
let final: Scrape;
const jobIds: string[] = [];
const roomNames: string[] = [];

beforeAll(async () => {
  const providers: Record<string, { llm: ScriptedLLM }> = {
    acme: { llm: new ScriptedLLM({ reply: acmeReply, provider: 'openai', model: 'gpt-4o' }) },
    globex: { llm: new ScriptedLLM({ reply: globexReply, provider: 'anthropic', model: 'claude-sonnet' }) },
    initech: { llm: new ScriptedLLM({ failWith: 'provider unavailable', provider: 'openai', model: 'gpt-4o-mini' }) },
  };
  h = await startWorkerHarness({
    observe: { spans: false },
    pool: {
      // A loader, so config loads and their durations are measured.
      tenantConfig: (tenant) => Promise.resolve(providers[tenant] ?? null),
      maxSessionsPerTenant: { globex: 1 },
      maxConcurrentSessions: 20,
      enableTenantCircuitBreaker: true,
      circuitBreaker: { minSamples: 2, failureRatio: 0.5, windowMs: 60_000, cooldownMs: 60_000 },
      assignmentTimeoutMs: 1_000,
    },
  });
  const track = <T extends { jobId: string; roomName: string }>(call: T): T => {
    jobIds.push(call.jobId);
    roomNames.push(call.roomName);
    return call;
  };

  // acme: two calls one after the other, then one whose assignment the server loses.
  for (const turns of ACME_CALLS) await h.settle([track(h.call('acme', turns))]);
  await h.settle([track(h.call('acme', ['anyone?'], { withholdAssignment: true }))]);

  // globex: the first call holds its one slot; a second one is refused meanwhile.
  const held = track(h.call('globex', { turns: GLOBEX_TURNS, turnTimeoutMs: 10_000, hangupAfterLastReply: false }));
  await h.server.waitFor(() => held.transcript.some((t) => t.from === 'agent'), 'globex to answer');
  const refused = track(h.call('globex', ['me too']));
  expect(await refused.availability).toMatchObject({ available: false });
  whileGlobexRuns = await scrape(h.worker.metricsUrl!);
  held.hangup();
  await h.settle([held]);

  // initech: two failed calls open the breaker; the third is refused.
  for (let i = 0; i < 2; i++) await h.settle([track(h.call('initech', ['are you there?']))]);
  const confined = track(h.call('initech', ['hello?']));
  expect(await confined.availability).toMatchObject({ available: false });

  // A malformed tenant id.
  const invalid = track(h.call('bad tenant!', ['hi']));
  expect(await invalid.availability).toMatchObject({ available: false });

  final = await scrape(h.worker.metricsUrl!);
}, 60_000);

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
});

describe('a worker\'s /metrics after real calls of three tenants', () => {
  const v = (name: string, labels: Record<string, string> = {}) => valueOf(final, name, labels);
  // Series that counted something; the zeros every tenant starts with are checked apart.
  const series = (s: Scrape, name: string) =>
    s.samples.filter((x) => x.name === name && x.value !== 0).map((x) => ({ ...x.labels, value: x.value }));
  const gauges = (s: Scrape, name: string) => s.samples.filter((x) => x.name === name).map((x) => ({ ...x.labels, value: x.value }));

  it('counts sessions started and ended by outcome, per tenant and agent', () => {
    expect(series(final, 'openrtc_sessions_started_total')).toEqual(expect.arrayContaining([
      { tenant: 'acme', agent: 'support', value: 2 },
      { tenant: 'globex', agent: 'support', value: 1 },
      { tenant: 'initech', agent: 'support', value: 2 },
    ]));
    expect(series(final, 'openrtc_sessions_started_total')).toHaveLength(3);
    expect(series(final, 'openrtc_sessions_ended_total')).toEqual(expect.arrayContaining([
      { tenant: 'acme', agent: 'support', outcome: 'success', value: 2 },
      { tenant: 'globex', agent: 'support', outcome: 'success', value: 1 },
      { tenant: 'initech', agent: 'support', outcome: 'failed', value: 2 },
    ]));
    expect(series(final, 'openrtc_sessions_ended_total')).toHaveLength(3);
    expect(v('openrtc_session_duration_seconds_count', { tenant: 'initech', agent: 'support', outcome: 'failed' })).toBe(2);
    for (const tenant of ['acme', 'globex', 'initech']) {
      expect(v('openrtc_sessions_active', { tenant, agent: 'support' })).toBe(0);
    }
    expect(valueOf(whileGlobexRuns, 'openrtc_sessions_active', { tenant: 'globex', agent: 'support' })).toBe(1);
  });

  it('counts admissions and refusals by stable reason', () => {
    expect(series(final, 'openrtc_admissions_total')).toEqual(expect.arrayContaining([
      { tenant: 'acme', agent: 'support', decision: 'accepted', value: 3 },
      { tenant: 'globex', agent: 'support', decision: 'accepted', value: 1 },
      { tenant: 'globex', agent: 'support', decision: 'refused', value: 1 },
      { tenant: 'initech', agent: 'support', decision: 'accepted', value: 2 },
      { tenant: 'initech', agent: 'support', decision: 'refused', value: 1 },
      { tenant: '~invalid', decision: 'refused', value: 1 },
    ]));
    expect(series(final, 'openrtc_admissions_total')).toHaveLength(6);
    expect(series(final, 'openrtc_admission_refusals_total')).toEqual(expect.arrayContaining([
      { tenant: 'globex', reason: 'tenant_cap', value: 1 },
      { tenant: 'initech', reason: 'circuit_open', value: 1 },
      { tenant: '~invalid', reason: 'invalid_tenant', value: 1 },
    ]));
    expect(series(final, 'openrtc_admission_refusals_total')).toHaveLength(3);
    expect(v('openrtc_admission_duration_seconds_count')).toBe(9);
    expect(series(final, 'openrtc_reservations_expired_total')).toEqual([{ tenant: 'acme', agent: 'support', value: 1 }]);
  });

  it('reports caps, utilization and breaker state per tenant', () => {
    expect(gauges(final, 'openrtc_tenant_session_cap')).toEqual([{ tenant: 'globex', value: 1 }]);
    expect(gauges(final, 'openrtc_tenant_cap_utilization_ratio')).toEqual([{ tenant: 'globex', value: 0 }]);
    expect(valueOf(whileGlobexRuns, 'openrtc_tenant_cap_utilization_ratio', { tenant: 'globex' })).toBe(1);
    expect(gauges(final, 'openrtc_tenant_breaker_state')).toEqual(expect.arrayContaining([
      { tenant: 'acme', value: 0 },
      { tenant: 'globex', value: 0 },
      { tenant: 'initech', value: 2 },
    ]));
    expect(gauges(final, 'openrtc_tenant_breaker_state')).toHaveLength(3);
    expect(series(final, 'openrtc_breaker_transitions_total')).toEqual([{ tenant: 'initech', from: 'closed', to: 'open', value: 1 }]);
  });

  it('counts tenant config loads through the loader', () => {
    expect(series(final, 'openrtc_tenant_config_loads_total')).toEqual(expect.arrayContaining([
      { tenant: 'acme', result: 'loaded', value: 1 },
      { tenant: 'acme', result: 'cache_hit', value: 2 },
      { tenant: 'globex', result: 'loaded', value: 1 },
      { tenant: 'globex', result: 'cache_hit', value: 1 },
      { tenant: 'initech', result: 'loaded', value: 1 },
      { tenant: 'initech', result: 'cache_hit', value: 2 },
    ]));
    expect(series(final, 'openrtc_tenant_config_loads_total')).toHaveLength(6);
    for (const tenant of ['acme', 'globex', 'initech']) {
      expect(v('openrtc_tenant_config_load_duration_seconds_count', { tenant })).toBe(1);
    }
  });

  it('counts the LLM tokens ScriptedLLM reported, by tenant, provider and model', () => {
    const acme = addTokens(...ACME_CALLS.map((turns) => expectedTokens(SUPPORT_INSTRUCTIONS, turns, acmeReply)));
    const globex = expectedTokens(SUPPORT_INSTRUCTIONS, GLOBEX_TURNS, globexReply);
    expect(acme.input).toBeGreaterThan(0);
    // No cached tokens were reported, and the failing provider reported none at all.
    expect(series(final, 'openrtc_llm_tokens_total')).toEqual(expect.arrayContaining([
      { tenant: 'acme', provider: 'openai', model: 'gpt-4o', type: 'input', value: acme.input },
      { tenant: 'acme', provider: 'openai', model: 'gpt-4o', type: 'output', value: acme.output },
      { tenant: 'globex', provider: 'anthropic', model: 'claude-sonnet', type: 'input', value: globex.input },
      { tenant: 'globex', provider: 'anthropic', model: 'claude-sonnet', type: 'output', value: globex.output },
    ]));
    expect(series(final, 'openrtc_llm_tokens_total')).toHaveLength(4);
  });

  it('times each tenant\'s LLM requests and counts the failing provider\'s errors', () => {
    for (const [tenant, provider, model, replies] of [['acme', 'openai', 'gpt-4o', 3], ['globex', 'anthropic', 'claude-sonnet', 1]] as const) {
      const labels = { tenant, agent: 'support', provider, model };
      expect(v('openrtc_llm_ttft_seconds_count', labels), tenant).toBe(replies);
      expect(v('openrtc_llm_duration_seconds_count', labels), tenant).toBe(replies);
      // agents-js truncates time to first token to whole milliseconds, so a scripted reply that
      // starts within 1 ms reads 0: the counts above prove each request was timed.
      expect(v('openrtc_llm_ttft_seconds_sum', labels)).toBeGreaterThanOrEqual(0);
      expect(v('openrtc_llm_ttft_seconds_sum', labels)).toBeLessThan(replies * 5);
    }
    // Each failed initech call reported its provider's unrecoverable error; nobody else's.
    expect(series(final, 'openrtc_provider_errors_total').map(({ value: _value, ...labels }) => labels)).toEqual([
      { tenant: 'initech', component: 'llm', provider: 'openai', kind: 'unrecoverable' },
    ]);
    expect(v('openrtc_provider_errors_total', { tenant: 'initech', component: 'llm', provider: 'openai', kind: 'unrecoverable' })).toBeGreaterThanOrEqual(2);
  });

  it('started each tenant\'s counters at 0 at its first admission', () => {
    expect(v('openrtc_sessions_ended_total', { tenant: 'acme', agent: 'support', outcome: 'failed' })).toBe(0);
    expect(v('openrtc_admission_refusals_total', { tenant: 'acme', reason: 'circuit_open' })).toBe(0);
    expect(v('openrtc_breaker_transitions_total', { tenant: 'globex', from: 'closed', to: 'open' })).toBe(0);
    expect(v('openrtc_tenant_config_loads_total', { tenant: 'globex', result: 'error' })).toBe(0);
    expect(v('openrtc_provider_errors_total', { tenant: 'acme', component: 'llm', provider: 'openai', kind: 'unrecoverable' })).toBe(0);
  });

  it('reports worker-wide gauges', () => {
    expect(v('openrtc_worker_draining')).toBe(0);
    expect(v('openrtc_worker_load_ratio')).toBeGreaterThanOrEqual(0);
    expect(v('openrtc_worker_load_ratio')).toBeLessThanOrEqual(1);
    expect(v('openrtc_event_loop_lag_seconds', { quantile: '0.99' })).toBeGreaterThanOrEqual(0);
    expect(v('openrtc_event_loop_lag_seconds', { quantile: '1' })).toBeGreaterThanOrEqual(0);
    expect(v('openrtc_build_info', { version: OPENRTC_VERSION, deployment: 'e2e-deploy' })).toBe(1);
  });

  it('exports every catalogued family a text call can produce, with the catalogued label sets', () => {
    const scraped = new Set(final.samples.map((x) => familyOf(final, x.name)).filter((name) => name !== 'target_info'));
    const catalogued = METRIC_CATALOG.map((m) => m.name);
    expect([...scraped].filter((name) => !catalogued.includes(name)), 'scraped but not catalogued').toEqual([]);
    expect(catalogued.filter((name) => !scraped.has(name)), 'catalogued but not scraped').toEqual(NOT_IN_TEXT_CALLS);
    for (const metric of METRIC_CATALOG) {
      const allowed = new Set([...metric.labels, ...metric.optionalLabels, ...(metric.type === 'histogram' ? ['le'] : [])]);
      for (const sample of final.samples.filter((x) => familyOf(final, x.name) === metric.name)) {
        const keys = Object.keys(sample.labels);
        expect(keys.filter((k) => !allowed.has(k)), `${sample.name} extra labels`).toEqual([]);
        expect(metric.labels.filter((k) => !keys.includes(k)), `${sample.name} missing labels`).toEqual([]);
      }
    }
  });

  it('never labels by job or room', () => {
    const values = new Set(final.samples.flatMap((x) => Object.values(x.labels)));
    for (const id of [...jobIds, ...roomNames]) expect(values.has(id), id).toBe(false);
  });
});
