import { setTimeout as sleep } from 'node:timers/promises';
import { telemetry as agentsTelemetry } from '@livekit/agents';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { type SessionContext, runWithSessionContext } from '../../src/telemetry/session_context.js';
import { ATTR_AGENT, ATTR_JOB_ID, ATTR_TENANT } from '../../src/telemetry/attributes.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';

let telemetry: OpenRtcTelemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

const session = (tenant: string, jobId: string): SessionContext => ({
  tenant, agent: 'support', sessionId: jobId, jobId, roomName: `room-${jobId}`,
});

async function start() {
  const exporter = new InMemorySpanExporter();
  telemetry = await startTelemetry({
    host: '127.0.0.1', port: 0, otlpTraces: false, spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { telemetry, exporter };
}

describe('TenantSpanProcessor', () => {
  it('tags spans started inside a session, including agents-js spans, and nothing outside', async () => {
    const { telemetry: t, exporter } = await start();
    t.tracer.startSpan('outside').end();
    await runWithSessionContext(session('acme', 'job-1'), async () => {
      const parent = t.tracer.startSpan('openrtc.session');
      await context.with(trace.setSpan(context.active(), parent), async () => {
        // agents-js's own tracer, given our provider by setTracerProvider.
        await agentsTelemetry.tracer.startActiveSpan(async () => sleep(1), { name: 'agent_turn' });
      });
      parent.end();
    });

    const spans = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
    expect(spans.outside?.attributes[ATTR_TENANT]).toBeUndefined();
    expect(spans['openrtc.session']?.attributes).toMatchObject({ [ATTR_TENANT]: 'acme', [ATTR_AGENT]: 'support', [ATTR_JOB_ID]: 'job-1' });
    expect(spans.agent_turn?.attributes).toMatchObject({ [ATTR_TENANT]: 'acme', [ATTR_AGENT]: 'support', [ATTR_JOB_ID]: 'job-1' });
    expect(spans.agent_turn?.parentSpanContext?.spanId).toBe(spans['openrtc.session']?.spanContext().spanId);
  });

  it('never mixes tenants between concurrent sessions', async () => {
    const { telemetry: t, exporter } = await start();
    const run = (tenant: string, jobId: string) =>
      runWithSessionContext(session(tenant, jobId), async () => {
        for (let i = 0; i < 20; i++) {
          await agentsTelemetry.tracer.startActiveSpan(async () => {
            await sleep(Math.random() * 3);
            t.tracer.startSpan(`${tenant}-inner`).end();
          }, { name: `${tenant}-step` });
          await sleep(0);
        }
      });
    await Promise.all([run('acme', 'job-a'), run('globex', 'job-g'), run('initech', 'job-i')]);

    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(120);
    for (const span of spans) {
      const tenant = span.name.split('-')[0];
      expect(span.attributes[ATTR_TENANT], span.name).toBe(tenant);
      expect(span.attributes[ATTR_JOB_ID]).toBe(`job-${tenant![0]}`);
    }
  });
});
