import { setTimeout as sleep } from 'node:timers/promises';
import { telemetry as agentsTelemetry } from '@livekit/agents';
import { context, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, InMemorySpanExporter, type Sampler, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenRtcError } from '../../src/errors.js';
import { type SessionContext, runWithSessionContext } from '../../src/telemetry/session_context.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';

let telemetry: OpenRtcTelemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

async function start(options: { sampler?: Sampler; env?: Record<string, string> } = {}) {
  const exporter = new InMemorySpanExporter();
  telemetry = await startTelemetry({
    host: '127.0.0.1', port: 0, otlpTraces: false, spanProcessors: [new SimpleSpanProcessor(exporter)], env: options.env ?? {},
    ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
  });
  return { t: telemetry, names: () => exporter.getFinishedSpans().map((s) => s.name).sort(), exporter };
}

const session = (agentSpans: boolean | undefined): SessionContext => ({
  tenant: 'acme', agent: 'support', sessionId: 'job-1', jobId: 'job-1', roomName: 'room-1',
  ...(agentSpans === undefined ? {} : { agentSpans }),
});

/** An openrtc session span with an agents-js turn inside it, and an openrtc span inside the turn. */
async function oneCall(t: OpenRtcTelemetry, agentSpans: boolean | undefined) {
  let activeInTurn: string | undefined;
  await runWithSessionContext(session(agentSpans), async () => {
    const parent = t.tracer.startSpan('openrtc.session');
    await context.with(trace.setSpan(context.active(), parent), async () => {
      await agentsTelemetry.tracer.startActiveSpan(async () => {
        await sleep(1);
        activeInTurn = trace.getActiveSpan()?.spanContext().spanId;
        agentsTelemetry.tracer.startSpan({ name: 'llm_request' }).end();
        t.tracer.startSpan('openrtc.store').end();
      }, { name: 'agent_turn' });
    });
    parent.end();
  });
  return { activeInTurn };
}

describe('agents-js spans under the trace policy', () => {
  it('records none for a session the policy left out, keeping openrtc\'s spans and their parents', async () => {
    const { t, exporter, names } = await start();
    const { activeInTurn } = await oneCall(t, false);
    expect(names()).toEqual(['openrtc.session', 'openrtc.store']);
    const [sessionSpan, store] = ['openrtc.session', 'openrtc.store'].map((n) => exporter.getFinishedSpans().find((s) => s.name === n)!);
    // Inside the left-out turn the session span stands in: logs and child spans point at it.
    expect(activeInTurn).toBe(sessionSpan!.spanContext().spanId);
    expect(store!.parentSpanContext?.spanId).toBe(sessionSpan!.spanContext().spanId);
  });

  it('records them for a session the policy chose, and for a session context without a choice', async () => {
    const { t, names } = await start();
    await oneCall(t, true);
    expect(names()).toEqual(['agent_turn', 'llm_request', 'openrtc.session', 'openrtc.store']);
    await telemetry!.shutdown();
    const second = await start();
    await oneCall(second.t, undefined);
    expect(second.names()).toEqual(['agent_turn', 'llm_request', 'openrtc.session', 'openrtc.store']);
  });
});

describe('the head sampler', () => {
  it('uses the sampler option for openrtc\'s and agents-js\'s spans alike', async () => {
    const { t, names } = await start({ sampler: new AlwaysOffSampler() });
    await oneCall(t, true);
    expect(names()).toEqual([]);
  });

  it('reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG from the telemetry env', async () => {
    const off = await start({ env: { OTEL_TRACES_SAMPLER: 'always_off' } });
    await oneCall(off.t, true);
    expect(off.names()).toEqual([]);
    await telemetry!.shutdown();
    const ratioZero = await start({ env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' } });
    await oneCall(ratioZero.t, true);
    expect(ratioZero.names()).toEqual([]);
    await telemetry!.shutdown();
    const on = await start({ env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' } });
    await oneCall(on.t, true);
    expect(on.names()).toHaveLength(4);
  });

  it('refuses to start on a sampler it does not know', async () => {
    for (const [env, message] of [
      [{ OTEL_TRACES_SAMPLER: 'sometimes' }, /`OTEL_TRACES_SAMPLER` must be one of .*; got "sometimes"/],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, /`OTEL_TRACES_SAMPLER_ARG` must be a number from 0 to 1; got "2"/],
    ] as const) {
      const error = await startTelemetry({ port: 0, host: '127.0.0.1', otlpTraces: false, env }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenRtcError);
      expect((error as OpenRtcError).message).toMatch(message);
    }
    const bad = await startTelemetry({ port: 0, host: '127.0.0.1', sampler: {} as Sampler }).catch((e: unknown) => e);
    expect((bad as OpenRtcError).message).toMatch(/`sampler` must be an OpenTelemetry Sampler/);
  });
});
