import { initializeLogger } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { eventually } from '../helpers/eventually.js';
import { harnessPerTest } from '../helpers/worker_harness.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);

describe('PoolWorker when the server connection drops', () => {
  const startHarness = harnessPerTest();

  it('re-registers, keeps the live call running to the end of its script, and accepts new calls', async () => {
    const h = await startHarness({
      pool: {
        tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) } },
      },
    });
    const live = h.call('acme', { turns: ['hello'], hangupAfterLastReply: false });
    await eventually(() => agentReplies(live).length === 1, 'the first reply', 10_000);
    const firstWorker = h.server.workers[0]!.workerId;

    expect(h.server.dropWorker()).toBe(firstWorker);
    const second = await h.server.waitForWorker({ exclude: [firstWorker] }, 10_000);
    expect(second.workerId).not.toBe(firstWorker);
    expect(h.server.workers.map((w) => [w.workerId, w.connected])).toEqual([
      [firstWorker, false],
      [second.workerId, true],
    ]);
    expect(h.worker.activeSessions).toBe(1);

    // The call's room never depended on the worker socket: it carries on and completes.
    live.say('did you hear me?');
    await eventually(() => agentReplies(live).length === 2, 'the first reply after the reconnect', 10_000);
    live.say('bye');
    await eventually(() => agentReplies(live).length === 3, 'the second reply after the reconnect', 10_000);
    live.hangup();
    await expect(live.ended).resolves.toEqual({ reason: 'hangup' });
    expect(live.transcript).toEqual([
      { from: 'user', text: 'hello' },
      { from: 'agent', text: 'acme: hello' },
      { from: 'user', text: 'did you hear me?' },
      { from: 'agent', text: 'acme: did you hear me?' },
      { from: 'user', text: 'bye' },
      { from: 'agent', text: 'acme: bye' },
    ]);
    await expect(h.sessionEnded(live.jobId)).resolves.toMatchObject({ outcome: 'success' });
    // Its end is reported over the new connection. The stand-in now keeps jobs per
    // connection as LiveKit does (`Worker.runningJobs`, dropped in `deregisterWorker`), so
    // the new connection's update for the old connection's job is recorded but ignored;
    // before, the stand-in accepted it. The job itself was forgotten when the socket dropped.
    await h.server.waitFor(() => h.server.jobUpdates.find((u) => u.jobId === live.jobId), 'the job update', 5_000);
    expect(h.server.jobUpdates.filter((u) => u.jobId === live.jobId)).toEqual([
      expect.objectContaining({ workerId: second.workerId, status: 'success', accepted: false }),
    ]);
    expect(live.jobState).toEqual({ status: 'running', error: '', workerId: undefined });

    // New calls go to the re-registered worker and run as usual.
    const fresh = h.call('acme', { turns: ['new call'] });
    await expect(fresh.availability).resolves.toMatchObject({ available: true, workerId: second.workerId });
    await expect(fresh.ended).resolves.toEqual({ reason: 'hangup' });
    expect(agentReplies(fresh)).toEqual(['acme: new call']);
    await h.sessionEnded(fresh.jobId);

    const snap = h.snapshot();
    expect(snap.tenants.acme).toMatchObject({ started: 2, succeeded: 2, failed: 0, cancelled: 0 });
    expect(snap.activeSessions).toBe(0);
  });
});
