import { initializeLogger } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { scrape, valueOf } from '../telemetry/prometheus_text.js';
import { eventually } from '../helpers/eventually.js';
import { harnessPerTest } from '../helpers/worker_harness.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);

describe('PoolWorker and the connection LiveKit keeps with it', () => {
  const startHarness = harnessPerTest();

  it('replaces a socket that went silent within the liveness timeout plus one backoff, while the live call goes on', async () => {
    const livenessTimeoutMs = 1_500;
    const h = await startHarness({
      pool: { tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) } } },
      run: { livenessTimeoutMs, telemetry: false },
    });
    const live = h.call('acme', { turns: ['hello'], hangupAfterLastReply: false });
    await eventually(() => agentReplies(live).length === 1, 'the first reply', 10_000);
    const first = h.server.workers[0]!.workerId;

    // Half-open: no close, no error, just nothing. Only the worker's own check can notice.
    const silencedAt = Date.now();
    h.server.silenceWorker(first);
    const second = await h.server.waitForWorker({ exclude: [first] }, 10_000);
    const replacedAfterMs = Date.now() - silencedAt;
    // Documented: livenessTimeoutMs after the last thing heard, then the first reconnect
    // backoff. The exact times are pinned with a manual clock in worker_connection.test.ts;
    // here, on real time, only what load cannot break: the worker pings every third of the
    // timeout, so it last heard the server at most a third before the silence began and
    // cannot have given up sooner than two thirds of the timeout after it. (No upper bound:
    // a loaded machine may run the timers late.)
    expect(replacedAfterMs).toBeGreaterThanOrEqual((livenessTimeoutMs * 2) / 3);
    const silent = h.diagnostics.find((d) => d.includes('nothing from the server'));
    const silentMs = Number(/for (\d+) ms/.exec(silent ?? '')?.[1]);
    expect(silentMs).toBeGreaterThanOrEqual(livenessTimeoutMs);

    // The call never depended on the worker socket.
    live.say('still there?');
    await eventually(() => agentReplies(live).length === 2, 'a reply after the reconnect', 10_000);
    // LiveKit forgot the job with the old connection: a termination no longer reaches
    // anyone, and the end the worker reports over the new connection is ignored.
    expect(live.jobState?.workerId).toBeUndefined();
    live.hangup();
    await expect(h.sessionEnded(live.jobId)).resolves.toMatchObject({ outcome: 'success' });
    await h.server.waitFor(() => h.server.jobUpdates.find((u) => u.jobId === live.jobId), 'the job update', 5_000);
    expect(h.server.jobUpdates.filter((u) => u.jobId === live.jobId)).toEqual([
      expect.objectContaining({ workerId: second.workerId, status: 'success', accepted: false }),
    ]);
    // New calls go to the new connection.
    const fresh = h.call('acme', { turns: ['new call'] });
    await expect(fresh.availability).resolves.toMatchObject({ available: true, workerId: second.workerId });
    await expect(fresh.ended).resolves.toEqual({ reason: 'hangup' });
    await h.server.waitFor(() => fresh.jobState?.status === 'success', 'the new job to end as success', 5_000);
  });

  it('ends a job whose agent was removed from the room as failed, in LiveKit, the breaker and the metrics', async () => {
    const h = await startHarness({
      pool: {
        tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) } },
        enableTenantCircuitBreaker: true,
        circuitBreaker: { minSamples: 1, failureRatio: 0.5 },
      },
    });
    const live = h.call('acme', { turns: ['hello'], hangupAfterLastReply: false });
    await eventually(() => agentReplies(live).length === 1, 'the first reply', 10_000);

    live.removeAgent();
    await expect(live.ended).resolves.toEqual({ reason: 'agent_left' });
    await expect(h.sessionEnded(live.jobId)).resolves.toMatchObject({ outcome: 'failed', detail: 'agent left the room: agent_removed' });
    // LiveKit's verdict: failed, whether the worker's report or the server's own termination came first.
    await h.server.waitFor(() => live.jobState?.status === 'failed', 'the job to end as failed', 5_000);
    expect(h.snapshot().tenants.acme).toMatchObject({ failed: 1, succeeded: 0, cancelled: 0 });
    expect(h.transitions).toEqual([expect.objectContaining({ tenant: 'acme', from: 'closed', to: 'open' })]);
    const metrics = await scrape(h.worker.metricsUrl!);
    expect(valueOf(metrics, 'openrtc_sessions_ended_total', { tenant: 'acme', agent: 'support', outcome: 'failed' })).toBe(1);
  });

  it('reports a normal end before leaving the room, so LiveKit records success', async () => {
    const h = await startHarness({ pool: { tenantConfig: { acme: { llm: new ScriptedLLM() } } }, run: { telemetry: false } });
    const calls = Array.from({ length: 3 }, () => h.call('acme', { turns: ['hello', 'bye'] }));
    await Promise.all(calls.map((c) => c.ended));
    await Promise.all(calls.map((c) => h.sessionEnded(c.jobId)));
    await h.server.waitFor(() => calls.every((c) => c.jobState?.status === 'success'), 'every job to end as success', 5_000);
    // No termination was needed: the end arrived before the agent left.
    expect(calls.map((c) => c.jobState)).toEqual(calls.map(() => ({ status: 'success', error: '', workerId: h.server.workers[0]!.workerId })));
  });
});
