import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTR_AGENT_SPANS, ATTR_TENANT, SPAN_ADMISSION, SPAN_SESSION } from '../../src/telemetry/attributes.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { spanOfJob, traceOf } from './span_query.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';

// Whole calls through the pool, the worker and agents-js: the trace policy is decided at
// admission and holds for everything the call's session does.
let h: Harness;
const PINO_INFO = 30;
const PINO_WARN = 40;

beforeAll(async () => {
  const llm = () => new ScriptedLLM({ reply: (t) => `ok: ${t}`, provider: 'openai', model: 'gpt-4o' });
  h = await startWorkerHarness({
    observe: true,
    pool: {
      tenantConfig: { acme: { llm: llm() }, globex: { llm: llm() }, initech: { llm: llm() } },
      tracing: { agentSpanShare: 0, fullTrace: (call) => call.tenant === 'globex' },
    },
  });
});

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
});

async function traceOfCall(jobId: string): Promise<{ admission: ReadableSpan; names: Set<string>; spans: ReadableSpan[] }> {
  await h.telemetry!.forceFlush();
  const all = h.spans.getFinishedSpans();
  const admission = spanOfJob(all, SPAN_ADMISSION, jobId);
  const spans = traceOf(all, admission.spanContext().traceId);
  return { admission, names: new Set(spans.map((s) => s.name)), spans };
}

describe('the trace policy of whole calls', () => {
  it('records openrtc\'s spans but no agents-js span for a call left out (share 0)', async () => {
    const call = h.call('acme', ['hello', 'thanks']);
    await h.settle([call]);
    const { admission, names, spans } = await traceOfCall(call.jobId);
    expect(admission.attributes[ATTR_AGENT_SPANS]).toBe(false);
    expect([...names].sort()).toEqual([SPAN_ADMISSION, SPAN_SESSION]);
    expect(spanOfJob(spans, SPAN_SESSION, call.jobId).attributes[ATTR_TENANT]).toBe('acme');
  });

  it("keeps a left-out call's openrtc lines and agents-js's warnings, not agents-js's detail, while a chosen call of another tenant keeps all", async () => {
    // At once, so that the two calls' records are written interleaved.
    const left = h.call('acme', ['hello', 'what is my balance?']);
    const chosen = h.call('globex', ['hello', 'thanks']);
    await h.settle([left, chosen]);
    const leftTrace = (await traceOfCall(left.jobId)).admission.spanContext().traceId;
    const chosenTrace = (await traceOfCall(chosen.jobId)).admission.spanContext().traceId;
    const agentsLines = (traceId: string) => h.logs.filter((r) => r.component === 'livekit-agents' && r.trace_id === traceId);
    const events = (traceId: string) => h.logs.filter((r) => r.trace_id === traceId && typeof r.event === 'string').map((r) => r.event);

    expect(agentsLines(leftTrace).filter((r) => Number(r.level) < PINO_WARN)).toEqual([]);
    expect(agentsLines(chosenTrace).filter((r) => Number(r.level) < PINO_WARN).length).toBeGreaterThan(0);
    for (const record of agentsLines(chosenTrace)) expect(record.tenant).toBe('globex');
    // Both calls get openrtc's own start and end lines, in their own trace.
    expect(events(leftTrace)).toEqual(['session_started', 'session_ended']);
    expect(events(chosenTrace)).toEqual(['session_started', 'session_ended']);
    expect(h.logs.find((r) => r.event === 'session_ended' && r.jobId === left.jobId)).toMatchObject({
      level: PINO_INFO, tenant: 'acme', agent: 'support', sessionId: left.jobId, outcome: 'success',
    });
  });

  it('records every span of a call the fullTrace callback chose', async () => {
    const call = h.call('globex', ['hello']);
    await h.settle([call]);
    const { admission, names, spans } = await traceOfCall(call.jobId);
    expect(admission.attributes[ATTR_AGENT_SPANS]).toBe(true);
    for (const name of [SPAN_SESSION, 'agent_session', 'agent_turn', 'llm_request']) expect(names.has(name), name).toBe(true);
    for (const span of spans) expect(span.attributes[ATTR_TENANT], span.name).toBe('globex');
  });

  it('records every span of a call whose job metadata asks for "trace": "full"', async () => {
    const call = h.call('initech', ['hello'], { metadata: { trace: 'full' } });
    await h.settle([call]);
    const { admission, names } = await traceOfCall(call.jobId);
    expect(admission.attributes[ATTR_AGENT_SPANS]).toBe(true);
    for (const name of ['agent_session', 'agent_turn', 'llm_request']) expect(names.has(name), name).toBe(true);
  });
});
