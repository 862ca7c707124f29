// The link the dashboards rely on: one tenant call's trace, exported over OTLP/HTTP to a
// local receiver, holds the admission, session and agents-js spans, all with the tenant;
// and the call's log records, exported over OTLP too, carry that trace id (Grafana's Loki
// datasource turns it into a link to Tempo).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdownLogger } from '../../src/telemetry/logger.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { startOtlpReceiver } from '../telemetry/otlp_receiver.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean };
interface KeyValue { key: string; value: AnyValue }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: KeyValue[] }
interface OtlpLog { traceId?: string; body?: AnyValue; attributes: KeyValue[] }

const attr = (attributes: KeyValue[], key: string) => attributes.find((a) => a.key === key)?.value.stringValue;

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let h: Harness;
let jobId: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  h = await startWorkerHarness({
    observe: { telemetry: { otlpTraces: { url: `${receiver.url}/v1/traces` } }, logger: { level: 'info', otlp: { url: `${receiver.url}/v1/logs`, protocol: 'http', scheduledDelayMillis: 50 } } },
    pool: {
      tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (t) => `Acme: ${t}`, provider: 'openai', model: 'gpt-4o' }) } },
      // The default trace policy records agents-js's spans for a tenth of calls; this one call needs them.
      tracing: { agentSpanShare: 1 },
    },
  });
  const call = h.call('acme', ['hello there']);
  jobId = call.jobId;
  await h.settle([call]);
  await h.telemetry!.forceFlush();
}, 60_000);

afterAll(async () => {
  expect((await h?.close()) ?? 0).toBe(0);
  // The logger's shutdown blocks this thread while its transport exports, and this
  // receiver runs on this thread: let the last batches arrive first (the transport sends
  // every 50 ms), so the shutdown has nothing left to send.
  let seen = -1;
  for (let i = 0; i < 50 && seen !== receiver.requests.length; i++) {
    seen = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  if (h) await shutdownLogger(h.logger);
  await receiver?.close();
}, 30_000);

function exportedSpans(): OtlpSpan[] {
  return receiver.requests.filter((r) => r.path === '/v1/traces').flatMap((r) => {
    const body = JSON.parse(r.body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    return body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  });
}

async function exportedLogs(traceId: string): Promise<OtlpLog[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const logs = receiver.requests.filter((r) => r.path === '/v1/logs').flatMap((r) => {
      const body = JSON.parse(r.body.toString('utf8')) as { resourceLogs: { scopeLogs: { logRecords: OtlpLog[] }[] }[] };
      return body.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    });
    const ofCall = logs.filter((l) => l.traceId === traceId);
    if (ofCall.length > 0 || Date.now() > deadline) return ofCall;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('one tenant call over OTLP', () => {
  it('exports one trace with the admission, session and agents-js spans, every one tagged with the tenant', () => {
    const spans = exportedSpans();
    const admission = spans.find((s) => s.name === 'openrtc.admission' && attr(s.attributes, 'livekit.job.id') === jobId);
    expect(admission).toBeDefined();
    const trace = spans.filter((s) => s.traceId === admission!.traceId);
    const names = new Set(trace.map((s) => s.name));
    expect(names.has('openrtc.session')).toBe(true);
    const agentsJs = trace.filter((s) => !s.name.startsWith('openrtc.'));
    expect(agentsJs.length, `agents-js spans among ${[...names].join(', ')}`).toBeGreaterThan(0);
    for (const span of trace) {
      expect(attr(span.attributes, 'openrtc.tenant'), span.name).toBe('acme');
      expect(attr(span.attributes, 'livekit.job.id'), span.name).toBe(jobId);
    }
    // One tree: every span but the admission root has its parent in the same trace.
    const ids = new Set(trace.map((s) => s.spanId));
    for (const span of trace.filter((s) => s !== admission)) expect(ids.has(span.parentSpanId ?? ''), span.name).toBe(true);
    expect(admission!.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('exports the call\'s log records over OTLP with the same trace id and the tenant', async () => {
    const admission = exportedSpans().find((s) => s.name === 'openrtc.admission' && attr(s.attributes, 'livekit.job.id') === jobId)!;
    const logs = await exportedLogs(admission.traceId);
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) expect(attr(log.attributes, 'tenant')).toBe('acme');
    // The same id is in the JSON lines on stdout, where a log shipper would read it.
    const lines = h.logs.filter((l) => l.jobId === jobId);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.trace_id).toBe(admission.traceId);
  });
});
