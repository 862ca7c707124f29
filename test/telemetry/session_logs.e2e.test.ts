import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPAN_SESSION } from '../../src/telemetry/attributes.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { spanOfJob } from './span_query.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';

const PINO_DEBUG = 20;
const PINO_WARN = 40;

let h: Harness;
const calls = new Map<string, { jobId: string; traceId: string }>();

beforeAll(async () => {
  h = await startWorkerHarness({
    observe: { logger: { level: 'debug' } },
    pool: {
      // Every call keeps agents-js's detail lines here; trace_policy.e2e.test.ts covers the default.
      tracing: { agentLogs: 'all' },
      tenantConfig: {
        acme: { llm: new ScriptedLLM({ reply: (t) => `acme: ${t}`, provider: 'openai', model: 'gpt-4o' }) },
        globex: { llm: new ScriptedLLM({ reply: (t) => `globex: ${t}`, provider: 'anthropic', model: 'claude-sonnet' }) },
        initech: { llm: new ScriptedLLM({ failWith: 'provider unavailable' }) },
      },
    },
  });
  // Three calls at once: two healthy tenants and one whose provider fails.
  const dispatched = {
    acme: h.call('acme', ['hello there', 'what is my balance?']),
    globex: h.call('globex', ['open a ticket', 'thanks']),
    initech: h.call('initech', ['are you there?']),
  };
  await h.settle(Object.values(dispatched));
  await h.telemetry!.forceFlush();
  const spans = h.spans.getFinishedSpans();
  for (const [tenant, call] of Object.entries(dispatched)) {
    calls.set(tenant, { jobId: call.jobId, traceId: spanOfJob(spans, SPAN_SESSION, call.jobId).spanContext().traceId });
  }
});

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
});

describe('logs written during concurrent sessions', () => {
  it('label every record of a session, openrtc\'s and agents-js\'s, with its tenant, agent, ids and trace', () => {
    for (const [tenant, { jobId, traceId }] of calls) {
      const inSession = h.logs.filter((r) => r.trace_id === traceId);
      const fromAgents = inSession.filter((r) => r.component === 'livekit-agents');
      expect(fromAgents.length, `${tenant}: agents-js records`).toBeGreaterThan(0);
      expect(fromAgents.some((r) => r.level === PINO_DEBUG), `${tenant}: an agents-js debug record`).toBe(true);
      for (const record of inSession) {
        expect(record, `${tenant}: ${String(record.msg)}`).toMatchObject({ tenant, agent: 'support', jobId, sessionId: jobId });
        expect(record.span_id).toMatch(/^[0-9a-f]{16}$/);
      }
      // Every record naming this job belongs to its trace.
      for (const record of h.logs.filter((r) => r.jobId === jobId)) {
        expect(record.trace_id, `${tenant}: ${String(record.msg)}`).toBe(traceId);
      }
    }
  });

  it('label openrtc\'s own record of the failed session the same way', () => {
    const { jobId, traceId } = calls.get('initech')!;
    const failed = h.logs.filter((r) => r.event === 'session_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: PINO_WARN, tenant: 'initech', agent: 'support', jobId, sessionId: jobId, trace_id: traceId,
    });
  });

  it('give no record a tenant other than its session\'s', () => {
    const tenantOfTrace = new Map([...calls].map(([tenant, { traceId }]) => [traceId, tenant]));
    const tenantOfJob = new Map([...calls].map(([tenant, { jobId }]) => [jobId, tenant]));
    for (const record of h.logs) {
      const byTrace = tenantOfTrace.get(String(record.trace_id));
      const byJob = tenantOfJob.get(String(record.jobId));
      if (byTrace !== undefined) expect(record.tenant, String(record.msg)).toBe(byTrace);
      if (byJob !== undefined) expect(record.tenant, String(record.msg)).toBe(byJob);
    }
  });

  it('leave no agents-js record of a session unlabelled', () => {
    const traces = new Set([...calls.values()].map((c) => c.traceId));
    const unlabelled = h.logs.filter(
      (r) => r.component === 'livekit-agents' && (r.tenant === undefined || !traces.has(String(r.trace_id))),
    );
    expect(unlabelled.map((r) => r.msg)).toEqual([]);
  });
});
