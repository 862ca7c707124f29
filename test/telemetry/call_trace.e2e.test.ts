import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_AGENT, ATTR_BREAKER_FROM, ATTR_BREAKER_REASON, ATTR_BREAKER_TO, ATTR_CAP, ATTR_DECISION, ATTR_JOB_ID, ATTR_OUTCOME,
  ATTR_REASON, ATTR_TENANT, EVENT_BREAKER_TRANSITION, EVENT_CAP_REFUSED, SPAN_ADMISSION, SPAN_SESSION,
} from '../../src/telemetry/attributes.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { parentId, spanOfJob, traceOf } from './span_query.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';

// What agents-js 1.9 creates for a text call answered by an LLM (no audio, no tools):
// the session, the activity starting and draining with the agent's hooks, each reply and
// its LLM request, and the user turn committed when the session closes.
const AGENTS_SPANS = [
  'agent_session', 'start_agent_activity', 'on_enter', 'agent_turn', 'llm_node', 'llm_request', 'llm_request_run',
  'agent_speaking', 'user_turn', 'drain_agent_activity', 'on_exit',
];

let h: Harness;

beforeAll(async () => {
  h = await startWorkerHarness({
    observe: true,
    pool: {
      tenantConfig: {
        acme: { llm: new ScriptedLLM({ reply: (t) => `acme: ${t}`, provider: 'openai', model: 'gpt-4o' }) },
        globex: { llm: new ScriptedLLM({ reply: (t) => `globex: ${t}`, provider: 'anthropic', model: 'claude-sonnet' }) },
        initech: { llm: new ScriptedLLM({ failWith: 'provider unavailable' }) },
      },
      maxSessionsPerTenant: { globex: 1 },
      enableTenantCircuitBreaker: true,
      circuitBreaker: { minSamples: 2, failureRatio: 0.5, windowMs: 60_000, cooldownMs: 60_000 },
      // Every call records agents-js's spans here; trace_policy.e2e.test.ts covers the share.
      tracing: { agentSpanShare: 1 },
    },
  });
});

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
});

const finished = async (): Promise<ReadableSpan[]> => {
  await h.telemetry!.forceFlush();
  return h.spans.getFinishedSpans();
};

describe('one call, one trace', () => {
  it('puts admission, session and agents-js spans of each of two concurrent calls in their own trace, tagged with their tenant', async () => {
    const acmeCall = h.call('acme', ['hello there', 'what is my balance?']);
    const globexCall = h.call('globex', ['open a ticket', 'thanks']);
    await h.settle([acmeCall, globexCall]);
    const spans = await finished();

    const traces = new Map<string, string>();
    for (const [tenant, call] of [['acme', acmeCall], ['globex', globexCall]] as const) {
      const admission = spanOfJob(spans, SPAN_ADMISSION, call.jobId);
      const session = spanOfJob(spans, SPAN_SESSION, call.jobId);
      const traceId = admission.spanContext().traceId;
      traces.set(tenant, traceId);

      // The admission span starts the trace; the session continues it.
      expect(parentId(admission)).toBeUndefined();
      expect(admission.attributes).toMatchObject({ [ATTR_TENANT]: tenant, [ATTR_AGENT]: 'support', [ATTR_DECISION]: 'accepted' });
      expect(session.spanContext().traceId).toBe(traceId);
      expect(parentId(session)).toBe(admission.spanContext().spanId);
      expect(session.attributes).toMatchObject({ [ATTR_OUTCOME]: 'success' });

      const trace = traceOf(spans, traceId);
      const names = new Set(trace.map((s) => s.name));
      for (const name of AGENTS_SPANS) expect(names.has(name), `${tenant}: ${name}`).toBe(true);
      const agentSession = trace.find((s) => s.name === 'agent_session')!;
      expect(parentId(agentSession)).toBe(session.spanContext().spanId);
      expect(trace.filter((s) => s.name === 'agent_turn')).toHaveLength(2);

      // One connected tree rooted at the admission span.
      const ids = new Set(trace.map((s) => s.spanContext().spanId));
      for (const span of trace) {
        if (span !== admission) expect(ids.has(parentId(span) ?? ''), `${span.name} has its parent in the trace`).toBe(true);
        expect(span.attributes[ATTR_TENANT], `${tenant}: ${span.name}`).toBe(tenant);
        expect(span.attributes[ATTR_JOB_ID], `${tenant}: ${span.name}`).toBe(call.jobId);
        if (span !== admission) expect(span.attributes[ATTR_AGENT], `${tenant}: ${span.name}`).toBe('support');
      }
      // And no span of this tenant lives outside its call's trace.
      for (const span of spans.filter((s) => s.attributes[ATTR_TENANT] === tenant)) {
        expect(span.spanContext().traceId, `${tenant}: ${span.name}`).toBe(traceId);
      }
    }
    expect(traces.get('acme')).not.toBe(traces.get('globex'));
  });

  it('records a tenant cap refusal as an event on the refused call\'s admission span', async () => {
    const held = h.call('globex', { turns: ['first'], turnTimeoutMs: 10_000, hangupAfterLastReply: false });
    await h.server.waitFor(() => held.transcript.some((t) => t.from === 'agent'), 'globex to answer');
    const refused = h.call('globex', ['second']);
    expect(await refused.availability).toMatchObject({ available: false });
    held.hangup();
    await h.settle([held]);
    const spans = await finished();

    const admission = spanOfJob(spans, SPAN_ADMISSION, refused.jobId);
    expect(admission.attributes).toMatchObject({ [ATTR_TENANT]: 'globex', [ATTR_DECISION]: 'refused', [ATTR_REASON]: 'tenant_cap' });
    expect(admission.events.map((e) => ({ name: e.name, attributes: e.attributes }))).toEqual([
      { name: EVENT_CAP_REFUSED, attributes: { [ATTR_REASON]: 'tenant_cap', [ATTR_CAP]: 1 } },
    ]);
    // A refused call has no session, so its trace is the admission span alone.
    expect(traceOf(spans, admission.spanContext().traceId)).toEqual([admission]);
    expect(spanOfJob(spans, SPAN_ADMISSION, held.jobId).events).toEqual([]);
  });

  it('records the breaker opening on the session span of the call whose failure opened it', async () => {
    const first = h.call('initech', ['are you there?']);
    await h.settle([first]);
    const second = h.call('initech', ['hello?']);
    await h.settle([second]);
    const confined = h.call('initech', ['anyone?']);
    expect(await confined.availability).toMatchObject({ available: false });
    const spans = await finished();

    const failedFirst = spanOfJob(spans, SPAN_SESSION, first.jobId);
    const opening = spanOfJob(spans, SPAN_SESSION, second.jobId);
    expect(failedFirst.attributes[ATTR_OUTCOME]).toBe('failed');
    expect(failedFirst.events.filter((e) => e.name === EVENT_BREAKER_TRANSITION)).toEqual([]);
    expect(opening.events.filter((e) => e.name === EVENT_BREAKER_TRANSITION).map((e) => e.attributes)).toEqual([
      { [ATTR_TENANT]: 'initech', [ATTR_BREAKER_FROM]: 'closed', [ATTR_BREAKER_TO]: 'open', [ATTR_BREAKER_REASON]: 'failure_ratio' },
    ]);
    const refusal = spanOfJob(spans, SPAN_ADMISSION, confined.jobId);
    expect(refusal.attributes).toMatchObject({ [ATTR_TENANT]: 'initech', [ATTR_DECISION]: 'refused', [ATTR_REASON]: 'circuit_open' });

    // The failing calls' agents-js spans (the failed LLM request included) carry initech too.
    for (const call of [first, second]) {
      const trace = traceOf(spans, spanOfJob(spans, SPAN_SESSION, call.jobId).spanContext().traceId);
      expect(trace.some((s) => s.name === 'llm_request_run' && s.events.some((e) => e.name === 'exception'))).toBe(true);
      for (const span of trace) expect(span.attributes[ATTR_TENANT], span.name).toBe('initech');
    }
  });
});
