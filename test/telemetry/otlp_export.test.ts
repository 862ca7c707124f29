import { afterEach, describe, expect, it } from 'vitest';
import { type SessionContext, runWithSessionContext } from '../../src/telemetry/session_context.js';
import { createLogger, shutdownLogger } from '../../src/telemetry/logger.js';
import { type OpenRtcTelemetry, resolveOtlpTracesUrl, startTelemetry } from '../../src/telemetry/setup.js';
import { captureLines } from './log_capture.js';
import { startOtlpReceiver } from './otlp_receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const globex: SessionContext = { tenant: 'globex', agent: 'support', sessionId: 'job-42', jobId: 'job-42', roomName: 'room-42' };

describe('OTLP export', () => {
  it('sends spans with the tenant to the endpoint named by OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const telemetry: OpenRtcTelemetry = await startTelemetry({
      host: '127.0.0.1', port: 0, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    cleanups.push(() => telemetry.shutdown());
    expect(telemetry.otlpTracesUrl).toBe(`${receiver.url}/v1/traces`);

    runWithSessionContext(globex, () => telemetry.tracer.startSpan('openrtc.session').end());
    await telemetry.forceFlush();

    const [request] = await receiver.waitFor('/v1/traces');
    const body = request!.body.toString('utf8');
    expect(body).toContain('openrtc.session');
    expect(body).toContain('"openrtc.tenant"');
    expect(body).toContain('"globex"');
    expect(body).toContain('job-42');
  });

  it('sends log records with the tenant over OTLP/HTTP', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const out = captureLines();
    const logger = createLogger({
      destination: out,
      level: 'info',
      otlp: { url: `${receiver.url}/v1/logs`, protocol: 'http', scheduledDelayMillis: 50 },
    });
    cleanups.push(() => shutdownLogger(logger));
    runWithSessionContext(globex, () => logger.info({ apiKey: 'sk-secret' }, 'hello from a session'));

    // Wait for the batch to arrive before shutting down: shutdown blocks this thread while
    // the transport exports, and this receiver runs on this thread.
    const [request] = await receiver.waitFor('/v1/logs');
    const body = request!.body.toString('utf8');
    expect(body).toContain('hello from a session');
    expect(body).toContain('globex');
    expect(body).not.toContain('sk-secret');
    expect(out.records[0]).toMatchObject({ tenant: 'globex' });
  });

  it('reads the standard variables for the traces URL', () => {
    expect(resolveOtlpTracesUrl(undefined, {})).toBeUndefined();
    expect(resolveOtlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(resolveOtlpTracesUrl(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom',
    })).toBe('http://t:4318/custom');
    expect(resolveOtlpTracesUrl(false, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBeUndefined();
  });
});
