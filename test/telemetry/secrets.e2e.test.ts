import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTTS, ScriptedLLM } from '../../src/testing/index.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';
import { API_SECRET } from '../helpers/server_credentials.js';

// Provider keys, each unique, so a hit names the leak.
const KEYS = {
  acmeLlm: 'sk-live-ACME-llm-7f3a9c1e2b4d',
  acmeTts: 'tts-live-ACME-9e8d7c6b5a41',
  globexLlm: 'sk-live-GLOBEX-llm-0c1d2e3f4a5b',
  initechLlm: 'sk-live-INITECH-llm-5a6b7c8d9e0f',
  initechTts: 'tts-live-INITECH-1f2e3d4c5b6a',
  defaultLlm: 'sk-live-DEFAULT-llm-aa11bb22cc33',
};

let h: Harness;
let metricsText: string;
let snapshotJson: string;
let tenantConfig: Record<string, { llm: ScriptedLLM; tts?: FakeTTS }>;

beforeAll(async () => {
  tenantConfig = {
    acme: {
      llm: new ScriptedLLM({ reply: (t) => `acme: ${t}`, provider: 'openai', model: 'gpt-4o', apiKey: KEYS.acmeLlm }),
      tts: new FakeTTS({ provider: 'openai', model: 'tts-1', apiKey: KEYS.acmeTts }),
    },
    globex: { llm: new ScriptedLLM({ reply: (t) => `globex: ${t}`, apiKey: KEYS.globexLlm }) },
    initech: {
      // A revoked key fails with a generic message, as real providers answer a 401.
      llm: new ScriptedLLM({ failWith: '401 Unauthorized: invalid api key', apiKey: KEYS.initechLlm }),
      tts: new FakeTTS({ failWith: '401 Unauthorized', apiKey: KEYS.initechTts }),
    },
  };
  h = await startWorkerHarness({
    observe: { logger: { level: 'debug' } },
    pool: {
      // Every call records agents-js's spans, so every span they make is checked too.
      tracing: { agentSpanShare: 1 },
      llm: new ScriptedLLM({ apiKey: KEYS.defaultLlm }),
      tenantConfig: (tenant) => Promise.resolve(tenantConfig[tenant] ?? null),
      maxSessionsPerTenant: { globex: 1 },
      enableTenantCircuitBreaker: true,
      circuitBreaker: { minSamples: 2, failureRatio: 0.5, windowMs: 60_000, cooldownMs: 60_000 },
    },
  });
  // Healthy calls, a tenant on the default provider, a cap refusal, failures that open the
  // breaker, a refusal by the open breaker.
  const held = h.call('globex', { turns: ['hold the line'], turnTimeoutMs: 10_000, hangupAfterLastReply: false });
  await h.server.waitFor(() => held.transcript.some((t) => t.from === 'agent'), 'globex to answer');
  const capped = h.call('globex', ['me too']);
  await h.settle([capped, h.call('acme', ['hello', 'my key is safe?']), h.call('umbrella', ['default provider please'])]);
  held.hangup();
  await h.settle([held]);
  for (let i = 0; i < 2; i++) await h.settle([h.call('initech', ['are you there?'])]);
  await h.settle([h.call('initech', ['hello?'])]);
  expect(h.pool.runtimeSnapshot().tenants.initech?.breaker?.state).toBe('open');

  metricsText = await (await fetch(h.worker.metricsUrl!)).text();
  snapshotJson = JSON.stringify(h.pool.runtimeSnapshot());
  await h.telemetry!.forceFlush();
});

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
});

function serializeSpan(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    status: span.status,
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
  });
}

const SECRETS = [...Object.values(KEYS), API_SECRET];

function leaks(text: string): string[] {
  return SECRETS.filter((secret) => text.includes(secret));
}

describe('provider keys and the LiveKit secret', () => {
  it('appear in no log line, debug records included', () => {
    expect(h.logText.length).toBeGreaterThan(50);
    expect(h.logs.some((r) => r.level === 20)).toBe(true);
    // The failing provider's error path ran and was logged.
    expect(h.logText.some((line) => line.includes('401 Unauthorized'))).toBe(true);
    expect(leaks(h.logText.join(''))).toEqual([]);
  });

  it('appear in no span: attributes, events, links, status or resource', () => {
    const spans = h.spans.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(20);
    expect(spans.some((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
    expect(leaks(spans.map(serializeSpan).join('\n'))).toEqual([]);
  });

  it('appear in no /metrics series', () => {
    expect(metricsText).toContain('openrtc_llm_tokens_total');
    expect(leaks(metricsText)).toEqual([]);
  });

  it('appear nowhere in the runtime snapshot', () => {
    expect(snapshotJson).toContain('initech');
    expect(leaks(snapshotJson)).toEqual([]);
  });

  it('never reach a log because the tenant config is never logged', () => {
    const mentionsProviders = h.logs.filter((r) =>
      JSON.stringify(r).includes('ScriptedLLM') || JSON.stringify(r).includes('FakeTTS') || 'tenantConfig' in r || 'providers' in r);
    expect(mentionsProviders.map((r) => r.msg)).toEqual([]);
  });

  it('would stay out of a log line even if the tenant config object were logged', () => {
    const before = h.logText.length;
    h.logger.info({ tenantConfig, providers: tenantConfig.acme, apiKey: KEYS.acmeLlm, llm: { apiKey: KEYS.acmeLlm } }, 'config dump');
    const written = h.logText.slice(before).join('');
    expect(written).toContain('config dump');
    expect(written).toContain('[redacted]');
    expect(leaks(written)).toEqual([]);
  });
});
