import { readFileSync } from 'node:fs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import { SPAN_SESSION } from '../../src/telemetry/attributes.js';
import { type DispatchedCall, FakeTTS, ScriptedLLM, type StoredRequest } from '../../src/testing/index.js';
import { costByTenantSql, costRowsByTraceSql } from '../../src/voicegateway/cost_queries.js';
import { type Scrape, familyOf, scrape, valueOf } from '../telemetry/prometheus_text.js';
import { spanOfJob } from '../telemetry/span_query.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';
import { API_SECRET } from '../helpers/server_credentials.js';
import { SUPPORT_INSTRUCTIONS, SupportAgent } from '../helpers/test_agent.js';
import { InstantPlayout } from '../helpers/audio_io.js';
import { expandGrafanaSql } from './grafana_macros.js';
import { type PgCollector, startPgCollector, virtualKey } from './pg_collector.js';

// Calls of three tenants through a real worker and real agents-js sessions, exported to a
// local voicegateway collector over PostgreSQL: acme and globex send under their own
// virtual keys, initech has none and goes under the agency's fallback key, umbrella's key
// is one the collector does not know.
const KEYS = { acme: virtualKey(), globex: virtualKey(), umbrella: virtualKey() };
const AGENCY_KEY = virtualKey();
const PRICES = {
  'openai/gpt-4o': { usdPerInputUnit: 2.5e-6, usdPerOutputUnit: 1e-5 },
  'openai/gpt-4o-mini': { usdPerInputUnit: 1.5e-7, usdPerOutputUnit: 6e-7 },
  'cartesia/sonic-2': { usdPerInputUnit: 3e-5 },
};
const reply = (tenant: string) => (text: string) => `${tenant} answers: ${text}.`;
const TURNS: Record<string, string[][]> = {
  acme: [['hello there', 'what is my balance?'], ['bye']],
  globex: [['open a ticket']],
  initech: [['one', 'two', 'three']],
  umbrella: [['anyone home?']],
};
const MODELS: Record<string, { provider: string; model: string }> = {
  acme: { provider: 'openai', model: 'gpt-4o' },
  globex: { provider: 'anthropic', model: 'claude-sonnet' },
  initech: { provider: 'openai', model: 'gpt-4o-mini' },
  umbrella: { provider: 'openai', model: 'gpt-4o' },
};

// Replies are spoken (to nobody), so the session's TTS runs for every reply.
class SpeakingSupportAgent extends SupportAgent {
  override async onEnter(): Promise<void> {
    this.session.output.audio = new InstantPlayout(24_000);
    await Promise.resolve();
  }
}

let c: PgCollector;
let acmeTts: FakeTTS;
let h: Harness;
let llms: Record<string, ScriptedLLM>;
const calls: { tenant: string; call: DispatchedCall; turns: string[] }[] = [];
let beforeDrain: Scrape;
let requestsBeforeDrain: number;
let afterDrain: Scrape;
let rows: StoredRequest[];
let spans: ReadableSpan[];
let startedAt: number;

beforeAll(async () => {
  startedAt = Date.now();
  c = await startPgCollector({ keys: { [KEYS.acme]: 'acme', [KEYS.globex]: 'globex', [AGENCY_KEY]: 'agency' } });
  llms = Object.fromEntries(Object.keys(TURNS).map((tenant) => [tenant, new ScriptedLLM({ reply: reply(tenant), ...MODELS[tenant] })]));
  acmeTts = new FakeTTS({ provider: 'cartesia', model: 'sonic-2', msPerCharacter: 1 });
  h = await startWorkerHarness({
    observe: true,
    pool: {
      // Every call records agents-js's spans, so every span they make is checked too.
      tracing: { agentSpanShare: 1 },
      agents: { support: SpeakingSupportAgent },
      tenantConfig: {
        acme: { llm: llms.acme!, tts: acmeTts, voiceGatewayKey: KEYS.acme },
        globex: { llm: llms.globex!, voiceGatewayKey: KEYS.globex },
        initech: { llm: llms.initech! },
        umbrella: { llm: llms.umbrella!, voiceGatewayKey: KEYS.umbrella },
      },
      // Rows wait for a full batch or the interval; the drain must send them.
      voiceGateway: { url: c.collector.url, fallbackKey: AGENCY_KEY, prices: PRICES, project: 'agency-e2e', flushIntervalMs: 600_000 },
    },
  });
  // Tenants call at the same time; a tenant's own calls follow each other, since agents-js
  // reports a shared provider object's usage to every session listening on it.
  await Promise.all(Object.entries(TURNS).map(async ([tenant, callTurns]) => {
    for (const turns of callTurns) {
      const call = h.call(tenant, turns);
      calls.push({ tenant, call, turns });
      await h.settle([call]);
    }
  }));
  beforeDrain = await scrape(h.telemetry!.metricsUrl);
  requestsBeforeDrain = c.collector.requests.length;
  await h.pool.drain();
  afterDrain = await scrape(h.telemetry!.metricsUrl);
  await h.telemetry!.forceFlush();
  spans = h.spans.getFinishedSpans();
  rows = await c.rows();
}, 60_000);

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
  await c?.close();
});

/** Per request: what ScriptedLLM reports, worked out independently (instructions + history, 4 chars a token). */
function expectedRequests(tenant: string, turns: string[]): { input: number; output: number }[] {
  const history = [SUPPORT_INSTRUCTIONS];
  return turns.map((turn) => {
    history.push(turn);
    const input = Math.ceil(history.reduce((n, t) => n + t.length, 0) / 4);
    const answer = reply(tenant)(turn);
    history.push(answer);
    return { input, output: Math.ceil(answer.length / 4) };
  });
}

const metadataOf = (row: StoredRequest) => JSON.parse(row.metadata ?? '{}') as Record<string, string>;
const rowsOf = (tenant: string) => rows.filter((r) => metadataOf(r).tenant_id === tenant);

describe('voicegateway cost rows of real calls', () => {
  it('are sent when the worker drains (none before: the interval had not come)', () => {
    expect(requestsBeforeDrain).toBe(0);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('are one row per LLM request, with the right tokens, model, job, room, trace and agent', () => {
    for (const { tenant, call, turns } of calls.filter((x) => x.tenant !== 'umbrella')) {
      const mine = rows.filter((r) => metadataOf(r).job_id === call.jobId);
      const traceId = spanOfJob(spans, SPAN_SESSION, call.jobId).spanContext().traceId;
      const llm = mine.filter((r) => r.modality === 'llm');
      const units = llm.map((r) => ({ input: r.input_units, output: r.output_units })).sort((a, b) => a.input! - b.input!);
      expect(units, `${tenant} ${call.jobId}`).toEqual(expectedRequests(tenant, turns));
      for (const row of mine) {
        expect(metadataOf(row)).toEqual({ tenant_id: tenant, agent: 'support', room: call.roomName, job_id: call.jobId, trace_id: traceId });
        expect(row).toMatchObject({
          session_id: call.jobId, agent_id: 'support', project: 'agency-e2e', revision: 'e2e-deploy', status: 'success',
        });
        expect(row.id.startsWith(`${call.jobId}:${row.modality}:`)).toBe(true);
      }
      for (const row of llm) {
        expect(row).toMatchObject({
          provider: MODELS[tenant]!.provider, model_id: `${MODELS[tenant]!.provider}/${MODELS[tenant]!.model}`, cached_input_units: 0,
        });
      }
    }
    // Every LLM request the providers answered is exactly one row: no more, no fewer.
    for (const tenant of ['acme', 'globex', 'initech']) {
      expect(rowsOf(tenant).filter((r) => r.modality === 'llm')).toHaveLength(llms[tenant]!.received.length);
    }
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it('are one row per text-to-speech request, billed in the characters the TTS was asked to speak', () => {
    const tts = rows.filter((r) => r.modality === 'tts');
    // Only acme's calls speak through a TTS; agents-js's sentence splitting decides the requests.
    expect(new Set(tts.map((r) => metadataOf(r).tenant_id))).toEqual(new Set(['acme']));
    expect(acmeTts.spoken.length).toBeGreaterThanOrEqual(3);
    expect(tts.map((r) => r.input_units).sort()).toEqual(acmeTts.spoken.map((text) => text.length).sort());
    for (const row of tts) {
      expect(row).toMatchObject({ provider: 'cartesia', model_id: 'cartesia/sonic-2', output_units: null, pricing_source: 'openrtc-price-table' });
      expect(row.ttfb_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('land under the tenant of the key, or the fallback key\'s tenant with the call\'s tenant in the metadata', () => {
    expect(new Set(rowsOf('acme').map((r) => r.tenant_id))).toEqual(new Set(['acme']));
    expect(new Set(rowsOf('globex').map((r) => r.tenant_id))).toEqual(new Set(['globex']));
    expect(new Set(rowsOf('initech').map((r) => r.tenant_id))).toEqual(new Set(['agency']));
    // The collector refused umbrella's key: nothing stored, every row counted as dropped.
    expect(rowsOf('umbrella')).toEqual([]);
    expect(valueOf(afterDrain, 'openrtc_voicegateway_records_dropped_total', { tenant: 'umbrella', reason: 'unauthorized' }))
      .toBe(llms.umbrella!.received.length);
  });

  it('add up, per tenant, to the pool\'s own usage counters, and every sent row is counted', () => {
    for (const tenant of ['acme', 'globex', 'initech']) {
      const { provider, model } = MODELS[tenant]!;
      const sum = (field: 'input_units' | 'output_units') =>
        rowsOf(tenant).filter((r) => r.modality === 'llm').reduce((n, r) => n + (r[field] ?? 0), 0);
      expect(sum('input_units'), tenant).toBe(valueOf(beforeDrain, 'openrtc_llm_tokens_total', { tenant, provider, model, type: 'input' }));
      expect(sum('output_units'), tenant).toBe(valueOf(beforeDrain, 'openrtc_llm_tokens_total', { tenant, provider, model, type: 'output' }));
      expect(valueOf(afterDrain, 'openrtc_voicegateway_records_sent_total', { tenant })).toBe(rowsOf(tenant).length);
    }
    const characters = rowsOf('acme').filter((r) => r.modality === 'tts').reduce((n, r) => n + r.input_units!, 0);
    expect(characters).toBe(valueOf(beforeDrain, 'openrtc_tts_characters_total', { tenant: 'acme', provider: 'cartesia', model: 'sonic-2' }));
    expect(valueOf(afterDrain, 'openrtc_voicegateway_buffered_records')).toBe(0);
  });

  it('carry cost_usd from the price table, and none for models it does not list', () => {
    for (const row of [...rowsOf('acme'), ...rowsOf('initech')]) {
      const price: { usdPerInputUnit: number; usdPerOutputUnit?: number } = PRICES[row.model_id as keyof typeof PRICES];
      expect(row.cost_usd).toBeCloseTo(row.input_units! * price.usdPerInputUnit + (row.output_units ?? 0) * (price.usdPerOutputUnit ?? 0), 12);
      expect(row.pricing_source).toBe('openrtc-price-table');
    }
    for (const row of rowsOf('globex')) expect([row.cost_usd, row.pricing_source]).toEqual([null, null]);
  });

  it('export delivery metrics with the catalogued types and labels', () => {
    for (const metric of METRIC_CATALOG.filter((m) => m.name.startsWith('openrtc_voicegateway_'))) {
      const samples = afterDrain.samples.filter((x) => familyOf(afterDrain, x.name) === metric.name);
      if (metric.name !== 'openrtc_voicegateway_records_retried_total' && metric.name !== 'openrtc_voicegateway_records_duplicate_total') {
        expect(samples.length, metric.name).toBeGreaterThan(0);
      }
      expect(afterDrain.types.get(metric.name) ?? metric.type).toBe(metric.type);
      for (const sample of samples) expect(Object.keys(sample.labels).sort(), sample.name).toEqual([...metric.labels].sort());
    }
  });
});

describe('the Grafana queries over the rows', () => {
  const range = () => ({ fromMs: startedAt - 60_000, toMs: Date.now() + 60_000 });

  /** The SQL of a panel of the committed tenant dashboard, exactly as Grafana would get it. */
  function panelSql(title: string): string {
    const dashboard = JSON.parse(readFileSync(new URL('../../dashboards/openrtc-tenant.json', import.meta.url), 'utf8')) as {
      panels: { title?: string; targets?: { rawSql?: string }[] }[];
    };
    const sql = dashboard.panels.find((p) => p.title === title)?.targets?.[0]?.rawSql;
    if (sql === undefined) throw new Error(`no SQL panel "${title}" in the tenant dashboard`);
    return sql;
  }

  /** Runs SQL that names the bare `requests` table, as the panels do, against this run's schema. */
  async function asDashboard<T extends object>(sql: string): Promise<T[]> {
    const client = await c.db.connect();
    try {
      await client.query(`SET search_path TO ${c.table.table.split('.')[0]!}`);
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.query('RESET search_path');
      client.release();
    }
  }

  it('the committed "Cost by tenant" panel returns each tenant\'s cost as the sum of its rows, for the chosen tenants or All', async () => {
    const sql = panelSql('Cost by tenant');
    const all = await asDashboard<{ tenant: string; cost_usd: number; requests: string }>(expandGrafanaSql(sql, { ...range(), allValues: { tenant: '.+' } }));
    expect(all.map((r) => r.tenant).sort()).toEqual(['acme', 'globex', 'initech']);
    for (const row of all) {
      expect(row.cost_usd, row.tenant).toBeCloseTo(rowsOf(row.tenant).reduce((n, r) => n + (r.cost_usd ?? 0), 0), 12);
      expect(Number(row.requests)).toBe(rowsOf(row.tenant).length);
    }
    const one = await asDashboard<{ tenant: string }>(expandGrafanaSql(sql, { ...range(), variables: { tenant: 'initech' } }));
    expect(one.map((r) => r.tenant)).toEqual(['initech']);
  });

  it('the committed "Cost rows of a trace" panel lists exactly the call\'s rows', async () => {
    const { call } = calls.find((x) => x.tenant === 'acme')!;
    const traceId = spanOfJob(spans, SPAN_SESSION, call.jobId).spanContext().traceId;
    const result = await asDashboard<{ id: string }>(expandGrafanaSql(panelSql('Cost rows of a trace'), { ...range(), variables: { trace_id: traceId } }));
    const expected = rows.filter((r) => metadataOf(r).job_id === call.jobId).map((r) => r.id).sort();
    expect(result.map((r) => r.id).sort()).toEqual(expected);
    // LLM and TTS rows of that one call.
    expect(new Set(rows.filter((r) => expected.includes(r.id)).map((r) => r.modality))).toEqual(new Set(['llm', 'tts']));
  });

  it('"Cost by tenant" returns each tenant\'s cost equal to the sum of its rows', async () => {
    const sql = expandGrafanaSql(costByTenantSql({ table: c.table.table }), range());
    const result = await c.db.query<{ tenant: string; cost_usd: number; requests: string }>(sql);
    const byTenant = Object.fromEntries(result.rows.map((r) => [r.tenant, { cost: r.cost_usd, requests: Number(r.requests) }]));
    expect(Object.keys(byTenant).sort()).toEqual(['acme', 'globex', 'initech']);
    for (const tenant of ['acme', 'globex', 'initech']) {
      const sum = rowsOf(tenant).reduce((n, r) => n + (r.cost_usd ?? 0), 0);
      expect(byTenant[tenant]!.cost, tenant).toBeCloseTo(sum, 12);
      expect(byTenant[tenant]!.requests).toBe(rowsOf(tenant).length);
    }
    expect(byTenant.acme!.cost).toBeGreaterThan(0);
    expect(byTenant.globex!.cost).toBe(0);
    // Most expensive first.
    expect(result.rows[0]!.tenant).toBe('acme');
  });

  it('keeps only the chosen tenants, or all of them with the All value', async () => {
    const sql = costByTenantSql({ table: c.table.table, tenantVariable: 'tenant' });
    const chosen = await c.db.query<{ tenant: string }>(expandGrafanaSql(sql, { ...range(), variables: { tenant: ['initech', 'globex'] } }));
    expect(chosen.rows.map((r) => r.tenant).sort()).toEqual(['globex', 'initech']);
    const all = await c.db.query<{ tenant: string }>(expandGrafanaSql(sql, { ...range(), allValues: { tenant: '.+' } }));
    expect(all.rows.map((r) => r.tenant).sort()).toEqual(['acme', 'globex', 'initech']);
  });

  it('returns nothing for a time range before the calls', async () => {
    const sql = expandGrafanaSql(costByTenantSql({ table: c.table.table }), { fromMs: startedAt - 7_200_000, toMs: startedAt - 3_600_000 });
    expect((await c.db.query(sql)).rows).toEqual([]);
  });

  it('goes from a trace id to exactly that call\'s cost rows', async () => {
    for (const { call } of calls.filter((x) => x.tenant !== 'umbrella')) {
      const traceId = spanOfJob(spans, SPAN_SESSION, call.jobId).spanContext().traceId;
      const sql = expandGrafanaSql(costRowsByTraceSql({ table: c.table.table }), { ...range(), variables: { trace_id: traceId } });
      const result = await c.db.query<{ id: string; session_id: string; cost_usd: number | null }>(sql);
      const expected = rows.filter((r) => metadataOf(r).job_id === call.jobId).map((r) => r.id).sort();
      expect(result.rows.map((r) => r.id).sort()).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
    }
    const none = expandGrafanaSql(costRowsByTraceSql({ table: c.table.table }), { ...range(), variables: { trace_id: "x' OR '1'='1" } });
    expect((await c.db.query(none)).rows).toEqual([]);
  });
});

describe('virtual keys', () => {
  const SECRETS = [...Object.values(KEYS), AGENCY_KEY, API_SECRET];
  const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

  it('appear in no log line, the refused key\'s drop included', () => {
    expect(h.logs.some((r) => r.event === 'voicegateway_dropped' && r.tenant === 'umbrella')).toBe(true);
    expect(leaks(h.logText.join(''))).toEqual([]);
  });

  it('appear in no span', () => {
    expect(spans.length).toBeGreaterThan(10);
    expect(leaks(JSON.stringify(spans.map((s) => ({ n: s.name, a: s.attributes, e: s.events, st: s.status, r: s.resource.attributes }))))).toEqual([]);
  });

  it('appear in no metric and not in the snapshot', async () => {
    const text = await (await fetch(h.telemetry!.metricsUrl)).text();
    expect(text).toContain('openrtc_voicegateway_records_sent_total');
    expect(leaks(text)).toEqual([]);
    expect(leaks(JSON.stringify(h.pool.runtimeSnapshot()))).toEqual([]);
  });

  it('are never echoed by option errors', async () => {
    const { AgentPool } = await import('../../src/pool/agent_pool.js');
    const bad = `${AGENCY_KEY}x`;
    expect(() => new AgentPool({ voiceGateway: { url: c.collector.url, fallbackKey: bad } })).toThrow(/virtual key/);
    try {
      new AgentPool({ voiceGateway: { url: c.collector.url, fallbackKey: bad } });
    } catch (error: unknown) {
      expect(String(error)).not.toContain(bad.slice(3, 20));
    }
    expect(() => new AgentPool({ tenantConfig: { acme: { voiceGatewayKey: 'sk-live-oops' } } })).toThrow(/voiceGatewayKey/);
  });
});
