import { telemetry as agentsTelemetry } from '@livekit/agents';
import { type Span, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { type SessionContext, runWithSessionContext } from '../../src/telemetry/session_context.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';

// The tracer agents-js is given: real spans in calls the trace policy chose, stand-ins that
// record nothing (and switch no context) in the others.
let telemetry: OpenRtcTelemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

const call = (tenant: string, jobId: string, agentSpans: boolean): SessionContext => ({
  tenant, agent: 'support', sessionId: jobId, jobId, roomName: `room-${jobId}`, agentSpans,
});

async function start() {
  const exporter = new InMemorySpanExporter();
  telemetry = await startTelemetry({
    host: '127.0.0.1', port: 0, otlpTraces: false, spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { t: telemetry, exporter };
}

/** Runs `fn` as openrtc runs a call: in its session context, under its session span. */
async function inCall<T>(t: OpenRtcTelemetry, session: SessionContext, fn: (sessionSpan: Span) => Promise<T>): Promise<T> {
  return runWithSessionContext(session, async () => {
    const sessionSpan = t.tracer.startSpan('openrtc.session');
    try {
      return await context.with(trace.setSpan(context.active(), sessionSpan), () => fn(sessionSpan));
    } finally {
      sessionSpan.end();
    }
  });
}

describe('the tracer agents-js is given', () => {
  it("records nothing for a call left out, while a chosen call's spans nest under its session span", async () => {
    const { t, exporter } = await start();
    const turn = async (jobId: string) => {
      // Nested, awaiting inside, as agents-js's turn and LLM spans do.
      await agentsTelemetry.tracer.startActiveSpan(async () => {
        await Promise.resolve();
        await agentsTelemetry.tracer.startActiveSpan(async (llm) => {
          llm.setAttribute('job', jobId);
          await Promise.resolve();
        }, { name: 'llm_request' });
      }, { name: 'agent_turn' });
    };
    // Two calls at once, so that their spans interleave.
    await Promise.all([
      inCall(t, call('acme', 'job-left', false), () => turn('job-left')),
      inCall(t, call('globex', 'job-chosen', true), () => turn('job-chosen')),
    ]);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['agent_turn', 'llm_request', 'openrtc.session', 'openrtc.session']);
    const chosenSession = spans.find((s) => s.name === 'openrtc.session' && s.attributes['openrtc.tenant'] === 'globex')!;
    const turnSpan = spans.find((s) => s.name === 'agent_turn')!;
    const llmSpan = spans.find((s) => s.name === 'llm_request')!;
    expect(turnSpan.parentSpanContext?.spanId).toBe(chosenSession.spanContext().spanId);
    expect(llmSpan.parentSpanContext?.spanId).toBe(turnSpan.spanContext().spanId);
    expect(llmSpan.attributes.job).toBe('job-chosen');
  });

  it('hands a left-out call a stand-in that carries its parent and leaves the active span as it was', async () => {
    const { t, exporter } = await start();
    await inCall(t, call('acme', 'job-1', false), async (sessionSpan) => {
      await agentsTelemetry.tracer.startActiveSpan(async (standIn) => {
        expect(standIn.isRecording()).toBe(false);
        expect(standIn.spanContext()).toEqual(sessionSpan.spanContext());
        // What a log record written here reads.
        expect(trace.getActiveSpan()).toBe(sessionSpan);
        // A span openrtc starts inside still joins the session's trace.
        const store = t.tracer.startSpan('openrtc.store');
        store.end();
        await Promise.resolve();
      }, { name: 'agent_turn' });
    });
    const store = exporter.getFinishedSpans().find((s) => s.name === 'openrtc.store')!;
    expect(store.spanContext().traceId).toBe(exporter.getFinishedSpans().find((s) => s.name === 'openrtc.session')!.spanContext().traceId);
  });

  it('runs a left-out span given another context in that context', async () => {
    const { t } = await start();
    const elsewhere = t.tracer.startSpan('elsewhere');
    const other = trace.setSpan(context.active(), elsewhere);
    await inCall(t, call('acme', 'job-2', false), async () => {
      await agentsTelemetry.tracer.startActiveSpan(async (standIn) => {
        expect(standIn.spanContext().spanId).toBe(elsewhere.spanContext().spanId);
        expect(trace.getActiveSpan()?.spanContext().spanId).toBe(elsewhere.spanContext().spanId);
        expect(trace.getActiveSpan()?.isRecording()).toBe(false);
        await Promise.resolve();
      }, { name: 'agent_turn', context: other });
    });
    elsewhere.end();
  });
});
