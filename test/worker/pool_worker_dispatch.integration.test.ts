import { initializeLogger } from '@livekit/agents';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { eventually } from '../helpers/eventually.js';
import { API_KEY, API_SECRET, tenantMetadata } from '../helpers/server_credentials.js';
import { type WorkerHarness, type WorkerHarnessOptions, startWorkerHarness } from '../helpers/worker_harness.js';

// Our worker against the stand-in with its LiveKit defaults (target load 0.7, weighted
// random choice, a 3 s request deadline, retry after a refusal): the calls LiveKit would
// send us are the calls we host.

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const HOLD: SimulatedCallScript = { turns: ['hello'], hangupAfterLastReply: false };

type Member = WorkerHarness & { workerId: string };

describe('PoolWorker placed by the stand-in as LiveKit would place it', () => {
  let server: DispatchServer;
  const members: Member[] = [];
  let room = 0;

  const join = async (pool: AgentPoolOptions, run: WorkerHarnessOptions['run'] = {}): Promise<Member> => {
    const known = new Set(server.workers.map((w) => w.workerId));
    const harness = await startWorkerHarness({ server, pool, run: { telemetry: false, ...run } });
    const record = await server.waitFor(() => server.workers.find((w) => w.connected && !known.has(w.workerId)), 'the new worker');
    const member = { ...harness, workerId: record.workerId };
    members.push(member);
    return member;
  };
  const call = (tenant: string): DispatchedCall =>
    server.dispatch({ roomName: `room-${tenant}-${++room}`, jobMetadata: tenantMetadata(tenant), simulated: HOLD });
  const firstReply = (c: DispatchedCall): Promise<unknown> =>
    eventually(() => c.transcript.some((t) => t.from === 'agent'), `the first reply in ${c.roomName}`, 15_000);
  const reported = (m: Member) => server.workers.find((w) => w.workerId === m.workerId);

  afterEach(async () => {
    await Promise.all(members.splice(0).map((m) => m.close(2_000)));
    await server.waitFor(() => server.openSockets === 0, 'every socket to close', 5_000).catch(() => undefined);
    expect((await server.close()).openSockets).toBe(0);
  });

  it('fills its whole session cap: its load reaches the 0.7 target only with the last slot', async () => {
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    const m = await join({ tenantConfig: { acme: { llm: new ScriptedLLM() } }, maxConcurrentSessions: 5 });
    const live: DispatchedCall[] = [];
    for (let i = 0; i < 4; i++) {
      const c = call('acme');
      await expect(c.availability).resolves.toMatchObject({ available: true, workerId: m.workerId });
      live.push(c);
    }
    await Promise.all(live.map(firstReply));
    // 4 of 5 sessions: the server hears 0.56, below the target, so it still offers the fifth.
    await server.waitFor(() => Math.abs((reported(m)?.load ?? 0) - 0.56) < 1e-6, 'a load report of 4/5 x 0.7', 6_000);
    expect(reported(m)?.status).toBe('available');
    const fifth = call('acme');
    await expect(fifth.availability).resolves.toMatchObject({ available: true, workerId: m.workerId });
    live.push(fifth);
    // Full for us is full for the server, at once rather than at the next interval.
    await server.waitFor(() => reported(m)?.status === 'full', 'WS_FULL with the last slot', 2_000);
    expect(reported(m)?.load).toBeCloseTo(0.7, 6);
    await expect(call('acme').availability).resolves.toMatchObject({ available: false, reason: 'no_worker' });
    expect(m.pool.runtimeSnapshot().activeSessions + m.pool.runtimeSnapshot().reservedSessions).toBe(5);
  });

  it('shares a burst between two workers: a refusal moves the call to the other one', async () => {
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    const config = { tenantConfig: { acme: { llm: new ScriptedLLM() } }, maxConcurrentSessions: 4 };
    const a = await join(config);
    const b = await join(config);
    const burst = Array.from({ length: 8 }, () => call('acme'));
    const answers = await Promise.all(burst.map((c) => c.availability));
    expect(answers.every((r) => r.available)).toBe(true);
    expect(answers.filter((r) => r.workerId === a.workerId)).toHaveLength(4);
    expect(answers.filter((r) => r.workerId === b.workerId)).toHaveLength(4);
    // Some calls were refused by the worker asked first (full for itself) and placed on the other.
    expect(burst.some((c) => c.attempts.length === 2 && !c.attempts[0]!.available)).toBe(true);
    await Promise.all(burst.map(firstReply));
    await server.waitFor(() => reported(a)?.status === 'full' && reported(b)?.status === 'full', 'both workers full', 2_000);
    await expect(call('acme').availability).resolves.toMatchObject({ available: false, reason: 'no_worker' });
  });

  it('answers unavailable in time when its loader is slower than the deadline, keeps no slot, and the call goes to the other worker', async () => {
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    const fast = await join({ tenantConfig: { acme: { llm: new ScriptedLLM() } } });
    // A misconfigured loader timeout longer than the answer deadline: the deadline decides.
    const slow = await join(
      {
        tenantConfig: async () => {
          await new Promise((resolve) => setTimeout(resolve, 2_500));
          return { llm: new ScriptedLLM() };
        },
        tenantConfigTimeoutMs: 10_000,
      },
      { availabilityTimeoutMs: 1_500 },
    );
    const c = call('acme');
    // With the default seed and equal loads the second worker registered is asked first.
    await expect(c.availability).resolves.toMatchObject({ available: true, workerId: fast.workerId });
    expect(c.attempts.map((r) => [r.workerId, r.available])).toEqual([
      [slow.workerId, false],
      [fast.workerId, true],
    ]);
    expect(server.lateAnswers).toEqual([]);
    await firstReply(c);
    // The slow loader finishes afterwards: admission refuses it as answer_timeout, no slot is held.
    await eventually(() => slow.pool.runtimeSnapshot().rejectionsByReason.answer_timeout === 1, 'the answer_timeout refusal', 5_000);
    expect(slow.pool.runtimeSnapshot()).toMatchObject({ activeSessions: 0, reservedSessions: 0 });
    expect(slow.diagnostics.some((d) => d.includes('availability_timeout'))).toBe(true);
  });
});
