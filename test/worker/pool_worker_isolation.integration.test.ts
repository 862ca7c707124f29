import { initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { harnessPerTest } from '../helpers/worker_harness.js';
import { SupportAgent } from '../helpers/test_agent.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** The agent of tenant `crashy`: its entry throws before the session exists. */
class CrashingAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'never used' });
    throw new Error('CrashingAgent refuses to start');
  }
}

const SCRIPT: SimulatedCallScript = { turns: ['hello', 'thanks, bye'] };
const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);

describe('PoolWorker isolation between tenants', () => {
  const startHarness = harnessPerTest();

  it('a crashing entry and a hung turn fail only their own sessions; the worker stays up', async () => {
    const h = await startHarness({
      pool: {
        agents: { support: SupportAgent, crashing: CrashingAgent },
        router: ({ tenant }) => (tenant === 'crashy' ? 'crashing' : 'support'),
        tenantConfig: {
          healthy: { llm: new ScriptedLLM({ reply: (text) => `healthy: ${text}` }) },
          crashy: { llm: new ScriptedLLM() },
          hung: { llm: new ScriptedLLM({ hang: true }) },
        },
      },
      run: { sessionTimeouts: { turnMs: 300 } },
    });

    const crashy = [h.call('crashy', SCRIPT), h.call('crashy', SCRIPT)];
    const hung = [h.call('hung', SCRIPT), h.call('hung', SCRIPT)];
    const healthy = [h.call('healthy', SCRIPT), h.call('healthy', SCRIPT), h.call('healthy', SCRIPT)];
    const all = [...crashy, ...hung, ...healthy];
    for (const answer of await Promise.all(all.map((c) => c.availability))) expect(answer.available).toBe(true);

    for (const call of healthy) {
      await expect(call.ended).resolves.toEqual({ reason: 'hangup' });
      expect(agentReplies(call)).toEqual(['healthy: hello', 'healthy: thanks, bye']);
    }
    for (const call of crashy) {
      const end = await h.sessionEnded(call.jobId);
      expect(end).toMatchObject({ tenant: 'crashy', agent: 'crashing', outcome: 'failed' });
      expect(end.detail).toContain('entry failed: CrashingAgent refuses to start');
      // The agent left the room without a word.
      await expect(call.ended).resolves.toEqual({ reason: 'agent_left' });
      expect(agentReplies(call)).toEqual([]);
    }
    for (const call of hung) {
      const end = await h.sessionEnded(call.jobId);
      expect(end).toMatchObject({ tenant: 'hung', agent: 'support', outcome: 'failed' });
      expect(end.detail).toContain('answering a turn took longer than 300 ms');
      await expect(call.ended).resolves.toEqual({ reason: 'agent_left' });
      expect(agentReplies(call)).toEqual([]);
    }
    await Promise.all(healthy.map((c) => h.sessionEnded(c.jobId)));

    let snap = h.snapshot();
    expect(snap.tenants.healthy).toMatchObject({ started: 3, succeeded: 3, failed: 0 });
    expect(snap.tenants.crashy).toMatchObject({ started: 2, succeeded: 0, failed: 2 });
    expect(snap.tenants.hung).toMatchObject({ started: 2, succeeded: 0, failed: 2 });
    expect(snap.activeSessions).toBe(0);
    // The server was told which jobs failed, and why (the update follows the sessionEnded event).
    await h.server.waitFor(() => all.every((c) => h.server.jobUpdates.some((u) => u.jobId === c.jobId)), 'a job update for every call', 5_000);
    for (const call of [...crashy, ...hung]) {
      expect(h.server.jobUpdates.find((u) => u.jobId === call.jobId)).toMatchObject({ status: 'failed', error: expect.any(String) as unknown });
    }
    for (const call of healthy) expect(h.server.jobUpdates.find((u) => u.jobId === call.jobId)).toMatchObject({ status: 'success' });

    // Still registered and still hosting.
    expect(h.server.workers).toHaveLength(1);
    expect(h.server.workers[0]?.connected).toBe(true);
    const after = h.call('healthy', { turns: ['are you ok?'] });
    await expect(after.ended).resolves.toEqual({ reason: 'hangup' });
    expect(agentReplies(after)).toEqual(['healthy: are you ok?']);
    await h.sessionEnded(after.jobId);
    snap = h.snapshot();
    expect(snap.tenants.healthy).toMatchObject({ succeeded: 4, failed: 0 });
    expect(snap.totals).toMatchObject({ started: 8, succeeded: 4, failed: 4, cancelled: 0 });
  });
});
