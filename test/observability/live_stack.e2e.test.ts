// The dashboards and alerts against the real thing: a worker hosting simulated calls of
// four tenants through the stand-in LiveKit server, scraped by Debian's Prometheus, which
// evaluates the shipped alert rules (`for:` shortened to seconds, only here) and sends to a
// real Alertmanager, which posts to a webhook in this test. Every panel query of both
// dashboards runs through Prometheus's HTTP API with the variables substituted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderRuleFile } from '../../alerts/src/render.js';
import type { RuleGroup } from '../../alerts/src/rules.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';
import {
  DASHBOARD_FILES, type PromTarget, prometheusTargets, readDashboard, substitute, variableQuery,
} from './dashboard_json.js';
import { metricNamesIn } from './promql.js';
import { type Stack, type WebhookReceiver, startStack, startWebhookReceiver } from './prom_stack.js';

// Text calls run no speech-to-text, no text-to-speech and no speech to time: queries that
// read only these families have nothing to show here (the pool metrics tests cover them).
const NOT_IN_TEXT_CALLS = new Set([
  'openrtc_stt_audio_seconds_total', 'openrtc_tts_characters_total',
  'openrtc_turn_latency_seconds_bucket', 'openrtc_eou_delay_seconds_bucket', 'openrtc_tts_ttfb_seconds_bucket',
]);
const TENANTS = ['acme', 'globex', 'initech', 'newco'];

let h: Harness;
let webhook: WebhookReceiver;
let stack: Stack;
let instance: string;
/** Onboarding panel results for newco right after its first call, before anything else. */
const newcoFirstCall = new Map<string, { metric: Record<string, string>; value: number }[]>();

const VARS = (tenant: string) => ({
  job: 'openrtc', instance: '.+', tenant, __rate_interval: '5m', __range: '5m', __interval: '1s',
});

/** The shipped rules with every `for:` cut to 2 s, so the alert loop fits in a test. */
function liveRules(): string {
  const file = parse(renderRuleFile()) as { groups: RuleGroup[] };
  for (const group of file.groups) for (const rule of group.rules) rule.for = '2s';
  return stringify(file);
}

beforeAll(async () => {
  const providers: Record<string, { llm: ScriptedLLM }> = {
    acme: { llm: new ScriptedLLM({ reply: (t) => `Acme: ${t}`, provider: 'openai', model: 'gpt-4o' }) },
    globex: { llm: new ScriptedLLM({ reply: (t) => `Globex: ${t}`, provider: 'anthropic', model: 'claude-sonnet' }) },
    initech: { llm: new ScriptedLLM({ failWith: 'provider unavailable', provider: 'openai', model: 'gpt-4o-mini' }) },
    newco: { llm: new ScriptedLLM({ reply: (t) => `Newco: ${t}`, provider: 'openai', model: 'gpt-4o-mini' }) },
  };
  h = await startWorkerHarness({
    observe: { spans: false },
    pool: {
      tenantConfig: (tenant) => Promise.resolve(providers[tenant] ?? null),
      maxSessionsPerTenant: { globex: 1 },
      maxConcurrentSessions: 20,
      enableTenantCircuitBreaker: true,
      circuitBreaker: { minSamples: 2, failureRatio: 0.5, windowMs: 120_000, cooldownMs: 120_000 },
    },
  });
  instance = new URL(h.worker.metricsUrl!).host;
  webhook = await startWebhookReceiver();
  stack = await startStack({ target: instance, rules: liveRules(), webhookUrl: webhook.url, interval: '1s' });
  // Prometheus applies new targets on a ~5 s tick.
  await stack.waitFor('up{job="openrtc"} == 1', (r) => r.length === 1, 'the first scrape');

  // Each call ends in its own scrape, so rate() and histogram_quantile() see every tenant's
  // second observation (a series' first sample is invisible to them).
  const ended = async (tenant: string, outcome: string, count: number) => stack.waitFor(
    `openrtc_sessions_ended_total{tenant="${tenant}", outcome="${outcome}"} >= ${count}`, (r) => r.length === 1,
    `${count} ${outcome} ${tenant} sessions in Prometheus`);

  // initech first, so the alert loop runs while the other tenants call: two failures open its breaker.
  for (let i = 1; i <= 2; i++) {
    await h.settle([h.call('initech', ['are you there?'])]);
    await ended('initech', 'failed', i);
  }
  expect(await h.call('initech', ['hello?']).availability).toMatchObject({ available: false });

  // newco: its very first call, held until Prometheus has seen it running, then read the
  // onboarding panels as an operator verifying the onboarding would.
  const first = h.call('newco', { turns: ['hello, first call'], turnTimeoutMs: 10_000, hangupAfterLastReply: false });
  await h.server.waitFor(() => first.transcript.some((t) => t.from === 'agent'), 'newco to answer');
  await stack.waitFor('openrtc_sessions_active{tenant="newco"} == 1', (r) => r.length === 1, 'newco running');
  first.hangup();
  await h.settle([first]);
  await ended('newco', 'success', 1);
  const tenantDashboard = readDashboard('openrtc-tenant.json');
  for (const target of prometheusTargets(tenantDashboard).filter((t) => ONBOARDING.includes(t.panel))) {
    newcoFirstCall.set(`${target.panel}/${target.refId}`, await stack.query(substitute(target.expr, VARS('newco'))));
  }
  await h.settle([h.call('newco', ['and a second one'])]);
  await ended('newco', 'success', 2);

  for (let i = 1; i <= 2; i++) {
    await h.settle([h.call('acme', ['hello there', 'what time is it?'])]);
    await ended('acme', 'success', i);
  }

  // globex: one call holds its only slot, a second one is refused meanwhile; then one more.
  const held = h.call('globex', { turns: ['open a ticket'], turnTimeoutMs: 10_000, hangupAfterLastReply: false });
  await h.server.waitFor(() => held.transcript.some((t) => t.from === 'agent'), 'globex to answer');
  expect(await h.call('globex', ['me too']).availability).toMatchObject({ available: false });
  held.hangup();
  await h.settle([held]);
  await ended('globex', 'success', 1);
  await h.settle([h.call('globex', ['another ticket'])]);
  await ended('globex', 'success', 2);

  expect(await h.call('bad tenant!', ['hi']).availability).toMatchObject({ available: false });
  // Two scrapes of the last refusal, so increase() has a pair of samples for it too.
  await stack.waitFor('count_over_time(openrtc_admission_refusals_total{tenant="~invalid"}[5m]) >= 2', (r) => r.length === 1, 'the invalid call');
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await webhook?.close();
  expect((await h?.close()) ?? 0).toBe(0);
}, 30_000);

const ONBOARDING = ['First session seen', 'Sessions since worker start, by agent', 'Admission decisions since worker start',
  'Refusals by reason since worker start', 'Config loads by result'];

function onlyTextLess(target: PromTarget): boolean {
  const names = metricNamesIn(target.expr);
  return names.length > 0 && names.every((n) => NOT_IN_TEXT_CALLS.has(n));
}

describe('the dashboards on a real Prometheus scraping a real worker', () => {
  it('lists the job, the instance and every tenant in the variables', async () => {
    for (const file of DASHBOARD_FILES) {
      for (const variable of readDashboard(file).templating.list.filter((v) => v.type === 'query')) {
        const match = /^label_values\((.*), (\w+)\)$/.exec(variableQuery(variable));
        expect(match, variable.name).not.toBeNull();
        const selector = substitute(match![1]!, VARS('.+'));
        let values = await stack.labelValues(match![2]!, selector.includes('{') ? selector : `${selector}{}`);
        if (variable.regex) {
          const pattern = new RegExp(variable.regex.slice(1, -1));
          values = values.filter((v) => pattern.test(v));
        }
        const expected = { job: ['openrtc'], instance: [instance], tenant: TENANTS }[variable.name];
        expect(values.sort(), `${file} $${variable.name}`).toEqual(expected);
      }
    }
  });

  it('answers every panel query with finite values where calls ran', async () => {
    let checked = 0;
    for (const file of DASHBOARD_FILES) {
      for (const target of prometheusTargets(readDashboard(file))) {
        const where = `${file}: ${target.panel} (${target.refId})`;
        const result = await stack.query(substitute(target.expr, VARS('.+')));
        if (onlyTextLess(target)) {
          expect(result, `${where}: text calls cannot produce it`).toEqual([]);
          continue;
        }
        expect(result.length, `${where}: ${target.expr}`).toBeGreaterThan(0);
        for (const sample of result) expect(Number.isFinite(sample.value), `${where} ${JSON.stringify(sample)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('shows each tenant that ran calls on its own view of the tenant dashboard', async () => {
    for (const tenant of TENANTS) {
      const results = await Promise.all([
        'Sessions since worker start, by agent', 'Failure ratio', 'Session outcomes', 'Breaker state', 'Session duration p50 / p95',
      ].map(async (panel) => {
        const target = prometheusTargets(readDashboard('openrtc-tenant.json')).find((t) => t.panel === panel)!;
        return { panel, result: await stack.query(substitute(target.expr, VARS(tenant))) };
      }));
      for (const { panel, result } of results) {
        expect(result.length, `${tenant}: ${panel}`).toBeGreaterThan(0);
        for (const sample of result) {
          if (sample.metric.tenant !== undefined) expect(sample.metric.tenant).toBe(tenant);
          expect(Number.isFinite(sample.value), `${tenant}: ${panel}`).toBe(true);
        }
      }
    }
    const ratio = prometheusTargets(readDashboard('openrtc-tenant.json')).find((t) => t.panel === 'Failure ratio')!;
    expect((await stack.query(substitute(ratio.expr, VARS('initech'))))[0]?.value).toBe(1);
    expect((await stack.query(substitute(ratio.expr, VARS('acme'))))[0]?.value).toBe(0);
  });

  it('shows a tenant\'s first call on the onboarding panels', () => {
    const at = (panel: string, refId = 'A') => newcoFirstCall.get(`${panel}/${refId}`) ?? [];
    const firstSeen = at('First session seen');
    expect(firstSeen).toHaveLength(1);
    expect(firstSeen[0]!.metric.tenant).toBe('newco');
    expect(firstSeen[0]!.value).toBeGreaterThan(Date.now() - 300_000);
    expect(firstSeen[0]!.value).toBeLessThanOrEqual(Date.now());
    expect(at('Sessions since worker start, by agent')).toEqual([{ metric: { tenant: 'newco', agent: 'support' }, value: 1 }]);
    expect(at('Admission decisions since worker start')).toEqual(expect.arrayContaining([
      { metric: { tenant: 'newco', decision: 'accepted' }, value: 1 },
      { metric: { tenant: 'newco', decision: 'refused' }, value: 0 },
    ]));
    expect(at('Refusals by reason since worker start').every((s) => s.value === 0)).toBe(true);
    expect(at('Config loads by result')).toEqual(expect.arrayContaining([{ metric: { tenant: 'newco', result: 'loaded' }, value: 1 }]));
  });
});

describe('the shipped alerts on the same Prometheus', () => {
  it('fire OpenRtcTenantBreakerOpen for the failing tenant alone, in Prometheus, Alertmanager and the receiver', async () => {
    const firing = async () => {
      const data = await (await fetch(`${stack.prometheus.url}/api/v1/alerts`)).json() as {
        data: { alerts: { labels: Record<string, string>; state: string; annotations: Record<string, string> }[] };
      };
      return data.data.alerts.filter((a) => a.labels.alertname === 'OpenRtcTenantBreakerOpen');
    };
    const deadline = Date.now() + 30_000;
    while (!(await firing()).some((a) => a.state === 'firing') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const alerts = await firing();
    expect(alerts.map((a) => [a.labels.tenant, a.state])).toEqual([['initech', 'firing']]);
    expect(alerts[0]!.labels).toMatchObject({ severity: 'critical', job: 'openrtc' });
    expect(alerts[0]!.annotations.runbook_url).toMatch(/docs\/runbooks\/alerts\.md#openrtctenantbreakeropen$/);

    const inAlertmanager = async () => {
      const list = await (await fetch(`${stack.alertmanager.url}/api/v2/alerts?filter=${encodeURIComponent('alertname="OpenRtcTenantBreakerOpen"')}`)).json() as
        { labels: Record<string, string> }[];
      return list.map((a) => a.labels.tenant);
    };
    while ((await inAlertmanager()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await inAlertmanager()).toEqual(['initech']);
    while (!webhook.alerts.some((a) => a.labels.alertname === 'OpenRtcTenantBreakerOpen') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const received = webhook.alerts.filter((a) => a.labels.alertname === 'OpenRtcTenantBreakerOpen');
    expect(received.map((a) => [a.labels.tenant, a.status])).toEqual([['initech', 'firing']]);
    expect(received[0]!.annotations.description).toContain('tenant initech');
  }, 45_000);
});
