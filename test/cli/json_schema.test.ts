import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeTTS, ScriptedLLM } from '../../src/testing/index.js';
import { cli } from '../helpers/cli_context.js';
import { type WorkerHarness, startWorkerHarness } from '../helpers/worker_harness.js';

// Every `--json` output, pinned: `.strict()` fails on a field added or removed without
// a decision (and a schemaVersion bump when a field changes meaning or disappears).
const header = <K extends string>(kind: K) => ({ kind: z.literal(kind), schemaVersion: z.literal(1) });
const providerSource = z.enum(['tenant', 'shared', 'none']);
const breakerPolicy = z.object({ failureRatio: z.number(), windowMs: z.number(), minSamples: z.number(), cooldownMs: z.number(), halfOpenProbes: z.number(), probeTimeoutMs: z.number() }).strict();

const topSchema = z.object({
  ...header('openrtc.top'),
  workers: z.array(z.object({
    pid: z.number(), workerId: z.string().nullable(), openrtcVersion: z.string(), deploymentVersion: z.string(), load: z.number(),
    draining: z.boolean(), activeSessions: z.number(), maxConcurrentSessions: z.number().nullable(), uptimeMs: z.number(),
  }).strict()),
  sessions: z.array(z.object({
    pid: z.number(), jobId: z.string(), tenant: z.string(), agent: z.string(), startedAt: z.number(), durationMs: z.number(), state: z.string(),
    turns: z.number(), lastLatencyMs: z.number().nullable(), providers: z.object({ stt: providerSource, llm: providerSource, tts: providerSource }).strict(),
  }).strict()),
  tenants: z.array(z.object({
    tenant: z.string(), active: z.number(), cap: z.number().nullable(), breaker: z.enum(['closed', 'open', 'half_open']).nullable(), refusalsLastMinute: z.number(),
  }).strict()),
  filter: z.object({ sort: z.enum(['duration', 'tenant', 'agent', 'state', 'turns', 'latency']), tenant: z.string().optional(), agent: z.string().optional() }).strict(),
}).strict();

const listSchema = z.object({
  ...header('openrtc.list'),
  pools: z.array(z.object({
    source: z.string(), deploymentVersion: z.string(), agents: z.array(z.string()), maxConcurrentSessions: z.number().nullable(),
    tenants: z.array(z.object({ tenant: z.string(), cap: z.number().nullable() }).strict()), breakerPolicy: breakerPolicy.nullable(),
  }).strict()),
}).strict();

const verifySchema = z.object({
  ...header('openrtc.tenant-verify'),
  tenant: z.string(),
  mode: z.enum(['embedded', 'livekit']),
  passed: z.boolean(),
  reason: z.string().nullable(),
  items: z.array(z.object({
    id: z.enum(['accepted', 'inspector', 'providers', 'logs', 'snapshot', 'metrics', 'usage']), title: z.string(), status: z.enum(['pass', 'fail', 'skipped']), detail: z.string(),
  }).strict()).length(7),
}).strict();

let root = '';
let harness: WorkerHarness;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'openrtc-json-'));
  harness = await startWorkerHarness({
    pool: {
      maxSessionsPerTenant: { 'acme-corp': 5 }, maxConcurrentSessions: 10, enableTenantCircuitBreaker: true,
      llm: new ScriptedLLM({ reply: (t) => `ok ${t}` }), tts: new FakeTTS(),
    },
    run: { telemetry: false, inspect: { dir: path.join(root, 'inspect') } },
  });
  const call = harness.call('acme-corp', { turns: ['hello'], hangupAfterLastReply: false });
  await harness.server.waitFor(() => call.transcript.some((e) => e.from === 'agent'), 'the reply', 20_000);
}, 40_000);

afterAll(async () => {
  await harness?.close();
  await rm(root, { recursive: true, force: true });
});

describe('--json outputs', () => {
  it('top --json', async () => {
    const { code, out } = await cli(['top', '--json', '--tenant', 'acme-corp', '--inspect-dir', path.join(root, 'inspect')]);
    expect(code).toBe(0);
    const doc = topSchema.parse(JSON.parse(out));
    expect(doc.sessions).toHaveLength(1);
    expect(doc.sessions[0]).toMatchObject({ tenant: 'acme-corp', turns: 1 });
    expect(doc.tenants).toEqual([{ tenant: 'acme-corp', active: 1, cap: 5, breaker: 'closed', refusalsLastMinute: 0 }]);
  });

  it('list --json, of a live worker and of a pool module', async () => {
    const live = listSchema.parse(JSON.parse((await cli(['list', '--json', '--inspect-dir', path.join(root, 'inspect')])).out));
    expect(live.pools).toHaveLength(1);
    expect(live.pools[0]!.tenants).toContainEqual({ tenant: 'acme-corp', cap: 5 });
    const fromModule = listSchema.parse(JSON.parse((await cli(['list', 'examples/agency/demo_pool.ts', '--json'])).out));
    expect(fromModule.pools[0]).toMatchObject({ agents: ['support', 'concierge'], maxConcurrentSessions: 40 });
    expect(fromModule.pools[0]!.tenants.map((t) => t.tenant)).toEqual(['acme-corp', 'globex', 'initech', 'umbrella']);
  });

  it('tenant verify --json', async () => {
    const { out } = await cli(['tenant', 'verify', 'full-co', '--pool', 'test/fixtures/cli_pool/verify_pool.ts', '--json']);
    expect(verifySchema.parse(JSON.parse(out)).passed).toBe(false);
  }, 60_000);
});
