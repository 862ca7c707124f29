import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenRtcError } from '../../src/errors.js';
import { shutdownLogger } from '../../src/telemetry/logger.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { eventually } from '../helpers/eventually.js';
import { startOtlpReceiver } from './otlp_receiver.js';
import { type WorkerHarness as Harness, startWorkerHarness } from '../helpers/worker_harness.js';
import { API_SECRET } from '../helpers/server_credentials.js';

// Each key unique and shaped the way real ones are, so a hit names the leak.
const KEYS = {
  // The real OpenAI plugin sends it; the local "OpenAI" answers 401 quoting it back.
  openai: 'sk-proj-ACME7f3a9c1e2b4d5e6f7a8b9c0d',
  // Deepgram's TTS keeps its key in a public `opts.apiKey`: found by walking the loader result.
  deepgram: 'dg-GLOBEX-0c1d2e3f4a5b6c7d8e9f',
  // Only ever inside an error message, in a `password=` pair.
  loaderPassword: 'hunter2-INITECH-9a8b7c6d',
  // A bearer token in a provider's error text.
  bearer: 'tok-UMBRELLA-5a6b7c8d9e0f1a2b',
};
const SECRETS = [...Object.values(KEYS), API_SECRET];
const leaks = (text: string): string[] => SECRETS.filter((secret) => text.includes(secret));

/** Answers every request as OpenAI answers a revoked key, quoting the key back. */
async function startUnauthorizedOpenAi(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    req.resume();
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let h: Harness;
let fakeOpenAi: Awaited<ReturnType<typeof startUnauthorizedOpenAi>>;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
const stdout: string[] = [];
const events: unknown[] = [];
const thrown: string[] = [];
let restoreStdout: () => void = () => undefined;

beforeAll(async () => {
  fakeOpenAi = await startUnauthorizedOpenAi();
  receiver = await startOtlpReceiver();
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stdout.push(String(chunk));
    return write(chunk, ...rest);
  });
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stdout.push(String(chunk));
    return writeErr(chunk, ...rest);
  });
  restoreStdout = () => {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  };

  h = await startWorkerHarness({
    observe: { logger: { level: 'debug', otlp: { url: `${receiver.url}/v1/logs`, protocol: 'http', scheduledDelayMillis: 50 } }, telemetry: { otlpTraces: { url: `${receiver.url}/v1/traces` } } },
    pool: {
      // Every call records agents-js's spans, so every span they make is checked too.
      tracing: { agentSpanShare: 1 },
      tenantConfig: async (tenant) => {
        await Promise.resolve();
        switch (tenant) {
          case 'acme':
            return { llm: new openai.LLM({ model: 'gpt-4o-mini', apiKey: KEYS.openai, baseURL: fakeOpenAi.url }) };
          case 'globex':
            return {
              tts: new deepgram.TTS({ apiKey: KEYS.deepgram }),
              llm: new ScriptedLLM({ failWith: `upstream refused key ${KEYS.deepgram}` }),
            };
          case 'initech':
            throw new Error(`could not read the roster: connect failed password=${KEYS.loaderPassword}`);
          case 'umbrella':
            return { llm: new ScriptedLLM({ failWith: `401 for Authorization: Bearer ${KEYS.bearer}` }) };
          default:
            return null;
        }
      },
    },
  });
  for (const name of ['admission', 'sessionStarted', 'sessionEnded', 'breakerTransition', 'configLoad', 'usage', 'providerError'] as const) {
    h.pool.on(name, (event: unknown) => events.push(event));
  }
  await h.settle([h.call('acme', ['hello']), h.call('globex', ['hello']), h.call('initech', ['hello']), h.call('umbrella', ['hello'])]);
  expect(fakeOpenAi.requests).toBeGreaterThan(0);
  // An error a caller of openrtc's API gets: the message of a thrown OpenRtcError.
  thrown.push(new OpenRtcError('config_error', `loader said: Bearer ${KEYS.bearer} and ${KEYS.openai}`).message);
  await h.telemetry!.forceFlush();
  h.logger.info('secrets test: last record');
  await eventually(
    () => receiver.requests.some((r) => r.path === '/v1/logs' && r.body.toString('utf8').includes('secrets test: last record')),
    'the last log record to reach the OTLP receiver',
    15_000,
  );
}, 60_000);

afterAll(async () => {
  restoreStdout();
  expect((await h?.close()) ?? 0).toBe(0);
  if (h && receiver) {
    // Let what the worker logged while closing reach the receiver, so the transport has
    // nothing left to export at shutdown: shutting the logger down blocks this thread, and
    // a receiver on this thread could not answer then.
    h.logger.info('secrets test: closed');
    await eventually(
      () => receiver.requests.some((r) => r.path === '/v1/logs' && r.body.toString('utf8').includes('secrets test: closed')),
      'the closing log records to reach the OTLP receiver',
      15_000,
    ).catch(() => undefined);
  }
  await receiver?.close();
  if (h) await shutdownLogger(h.logger);
  await fakeOpenAi?.close();
}, 40_000);

const spanText = (span: ReadableSpan) =>
  JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, status: span.status });

describe('secrets carried by provider errors, provider objects and loader results', () => {
  it('the failures really carried the secrets (so the checks below can fail)', () => {
    const ended = events.filter((e): e is { tenant: string; outcome: string; detail: string } =>
      typeof e === 'object' && e !== null && 'outcome' in e);
    expect(ended.find((e) => e.tenant === 'acme')).toMatchObject({ outcome: 'failed' });
    expect(ended.find((e) => e.tenant === 'acme')?.detail).toMatch(/401|Incorrect API key/);
    expect(ended.find((e) => e.tenant === 'globex')?.detail).toContain('upstream refused key [redacted]');
    expect(ended.find((e) => e.tenant === 'umbrella')?.detail).toContain('Bearer [redacted]');
    expect(h.logText.join('')).toContain('password=[redacted]');
  });

  it('reach no log line, on stdout or over OTLP', () => {
    expect(leaks(h.logText.join(''))).toEqual([]);
    expect(leaks(stdout.join(''))).toEqual([]);
    const otlpLogs = receiver.requests.filter((r) => r.path === '/v1/logs').map((r) => r.body.toString('utf8')).join('');
    expect(otlpLogs).toContain('session_failed');
    expect(leaks(otlpLogs)).toEqual([]);
  });

  it('reach no span: status, attributes or exception events, in memory or over OTLP', () => {
    const spans = h.spans.getFinishedSpans();
    expect(spans.some((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
    expect(spans.some((s) => s.status.message?.includes('[redacted]'))).toBe(true);
    expect(leaks(spans.map(spanText).join('\n'))).toEqual([]);
    const otlpTraces = receiver.requests.filter((r) => r.path === '/v1/traces').map((r) => r.body.toString('utf8')).join('');
    expect(otlpTraces.length).toBeGreaterThan(100);
    expect(leaks(otlpTraces)).toEqual([]);
  });

  it('reach neither the LiveKit server (updateJob) nor the pool events, snapshot or thrown errors', () => {
    const failedUpdates = h.server.jobUpdates.filter((u) => u.status === 'failed');
    expect(failedUpdates.length).toBe(3);
    expect(leaks(JSON.stringify(h.server.jobUpdates))).toEqual([]);
    expect(leaks(JSON.stringify(events))).toEqual([]);
    expect(leaks(JSON.stringify(h.pool.runtimeSnapshot()))).toEqual([]);
    expect(thrown[0]).toContain('[redacted]');
    expect(leaks(thrown.join(''))).toEqual([]);
  });
});
