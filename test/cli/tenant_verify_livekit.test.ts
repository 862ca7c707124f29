import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { FakeTTS, ScriptedLLM } from '../../src/testing/index.js';
import { cli } from '../helpers/cli_context.js';
import { API_KEY, API_SECRET } from '../helpers/server_credentials.js';
import { type WorkerHarness, startWorkerHarness } from '../helpers/worker_harness.js';

// With LIVEKIT_URL set, `tenant verify` dispatches a job through the server's agent
// dispatch API (livekit-server-sdk's AgentDispatchClient) and checks the live worker on
// this host through its inspector socket. The stand-in server answers that API as LiveKit
// does, and its simulated caller says one line.
let root = '';
let harness: WorkerHarness;
let logFile = '';

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'openrtc-verify-lk-'));
  logFile = path.join(root, 'worker.log');
  harness = await startWorkerHarness({
    pool: {
      llm: new ScriptedLLM({ reply: (t) => `shared ${t}` }),
      tts: new FakeTTS(),
      tenantConfig: { 'acme-corp': { llm: new ScriptedLLM({ reply: (t) => `acme ${t}`, provider: 'openai', model: 'gpt-4o', apiKey: 'acme-secret-key' }) } },
      maxSessionsPerTenant: { 'acme-corp': 5, 'full-co': 1 },
      enableTenantCircuitBreaker: true,
    },
    run: {
      telemetry: { host: '127.0.0.1', port: 0, otlpTraces: false },
      inspect: { dir: path.join(root, 'inspect') },
      logger: createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: true }), otlp: false }),
    },
  });
}, 60_000);

afterAll(async () => {
  await harness?.close();
  await rm(root, { recursive: true, force: true });
});

const env = () => ({ LIVEKIT_URL: harness.server.url, LIVEKIT_API_KEY: API_KEY, LIVEKIT_API_SECRET: API_SECRET });

describe('openrtc tenant verify against a LiveKit server', () => {
  it('passes for a tenant the live worker hosts with its own providers', async () => {
    const { code, out } = await cli(['tenant', 'verify', 'acme-corp', '--inspect-dir', path.join(root, 'inspect'), '--log-file', logFile, '--json'], { env: env() });
    const report = JSON.parse(out) as { passed: boolean; mode: string; items: { id: string; status: string; detail: string }[] };
    expect(report.items.filter((i) => i.status !== 'pass')).toEqual([]);
    expect(report).toMatchObject({ passed: true, mode: 'livekit' });
    expect(code).toBe(0);
    expect(out).not.toContain('acme-secret-key');
  }, 60_000);

  it('fails naming the refusal when the worker refuses the tenant', async () => {
    const holder = harness.call('full-co', { turns: ['hold the only slot'], hangupAfterLastReply: false });
    expect((await holder.availability).available).toBe(true);
    const { code, out } = await cli(['tenant', 'verify', 'full-co', '--inspect-dir', path.join(root, 'inspect'), '--timeout-ms', '3000', '--json'], { env: env() });
    expect(code).toBe(1);
    expect((JSON.parse(out) as { reason: string }).reason).toContain('refused with tenant_cap');
    holder.hangup();
  }, 60_000);

  it('fails when no worker runs on this host', async () => {
    const { code, out } = await cli(['tenant', 'verify', 'acme-corp', '--inspect-dir', path.join(root, 'none'), '--json'], { env: env() });
    expect(code).toBe(1);
    expect((JSON.parse(out) as { reason: string }).reason).toContain('no openrtc worker on this host answers');
  });
});
