import { getJobContext, initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { ManualClock } from '../../src/testing/manual_clock.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { eventually } from '../helpers/eventually.js';
import type { JobAssignment } from '../../src/session/job_assignment.js';
import type { JobHandler } from '../../src/worker/job_handler.js';
import { WorkerConnection } from '../../src/worker/worker_connection.js';
import { harnessPerTest } from '../helpers/worker_harness.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const HOLD: SimulatedCallScript = { turns: ['hello'], hangupAfterLastReply: false };

const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);

/** An agent whose job shutdown callback takes a while, so its teardown outlasts a short drain. */
class SlowToLeaveAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You help callers.' });
    getJobContext().addShutdownCallback(() => new Promise<void>((resolve) => setTimeout(resolve, 1_000)));
  }
}

describe('PoolWorker drain', () => {
  const startHarness = harnessPerTest();

  it('refuses new calls with WS_FULL and `draining`, lets live sessions end, and cancels the one left at the timeout', async () => {
    // The drain deadline runs on the pool's clock: the test moves it, so the session left
    // running is still running when the deadline passes, however busy the machine is.
    const clock = new ManualClock();
    const h = await startHarness({
      pool: {
        clock,
        tenantConfig: {
          acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) },
          globex: { llm: new ScriptedLLM({ reply: (text) => `globex: ${text}` }) },
        },
      },
    });
    const finishing = h.call('acme', HOLD);
    const lingering = h.call('globex', HOLD);
    const unassigned = h.call('acme', HOLD, { withholdAssignment: true });
    await unassigned.availability;
    await eventually(() => agentReplies(finishing).length === 1 && agentReplies(lingering).length === 1, 'both first replies', 10_000);

    const drained = h.pool.drain(1_500);
    expect(h.snapshot().draining).toBe(true);
    await h.server.waitFor(() => h.server.workers[0]?.status === 'full', 'WS_FULL from the draining worker', 2_000);
    // The server no longer offers calls; one offered anyway is refused by admission.
    await expect(h.call('acme', HOLD).availability).resolves.toMatchObject({ available: false, reason: 'no_worker' });
    const refused = h.call('acme', HOLD, { ignoreWorkerStatus: true });
    await expect(refused.availability).resolves.toMatchObject({ available: false });
    expect(h.snapshot().rejectionsByReason.draining).toBe(1);
    expect(h.snapshot().tenants.acme?.rejectionsByReason).toEqual({ draining: 1 });

    // A live session keeps answering during the drain, and ends when its caller leaves.
    finishing.say('are you still there?');
    await eventually(() => agentReplies(finishing).length === 2, 'the reply during the drain', 5_000);
    expect(agentReplies(finishing)).toEqual(['acme: hello', 'acme: are you still there?']);
    finishing.hangup();
    await expect(h.sessionEnded(finishing.jobId)).resolves.toMatchObject({ outcome: 'success' });

    // The other is still running at the drain timeout: cancelled, not failed.
    clock.advance(1_499);
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.sessionsEnded.find((e) => e.jobId === lingering.jobId), 'cancelled before the deadline').toBeUndefined();
    clock.advance(1);
    await expect(drained).resolves.toEqual({ completed: 1, cancelled: 1 });
    await expect(lingering.ended).resolves.toEqual({ reason: 'agent_left' });
    await expect(h.sessionEnded(lingering.jobId)).resolves.toMatchObject({ outcome: 'cancelled', detail: 'drain timeout reached' });
    await h.worker.stopped;

    const snap = h.snapshot();
    expect(snap.tenants.acme).toMatchObject({ started: 1, succeeded: 1, failed: 0, cancelled: 0 });
    expect(snap.tenants.globex).toMatchObject({ started: 1, succeeded: 0, failed: 0, cancelled: 1 });
    // The accepted call that never got its assignment holds no slot once the worker stopped.
    expect(snap).toMatchObject({ activeSessions: 0, reservedSessions: 0 });
    expect(snap.totals).toMatchObject({ admitted: 3, started: 2, succeeded: 1, cancelled: 1, failed: 0 });
    // The server heard that the cancelled job ended without failing.
    expect(h.server.jobUpdates.filter((u) => u.jobId === lingering.jobId).map((u) => u.status)).toEqual(['success']);
  });
});

describe('PoolWorker drain, edge cases', () => {
  const startHarness = harnessPerTest();

  it('hosts a call whose assignment arrives during the drain until it ends, instead of abandoning it', async () => {
    // The worker connection is the real one; only assignments can be held back by the test.
    const held: JobAssignment[] = [];
    let holdAssignments = false;
    let deliver: (assignment: JobAssignment) => void = () => undefined;
    const h = await startHarness({
      pool: { tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) } } },
      run: {
        connection: (handler, settings) => {
          deliver = (assignment) => handler.onAssignment(assignment);
          const delaying: JobHandler = {
            onAvailability: (request) => handler.onAvailability(request),
            onAssignment: (assignment) => (holdAssignments ? held.push(assignment) : handler.onAssignment(assignment)),
            onTermination: (jobId) => handler.onTermination(jobId),
            load: () => handler.load(),
          };
          return new WorkerConnection({ ...settings, handler: delaying });
        },
      },
    });
    const first = h.call('acme', HOLD);
    await eventually(() => agentReplies(first).length === 1, 'the first call\'s reply', 10_000);
    holdAssignments = true;
    const late = h.call('acme', HOLD);
    await expect(late.availability).resolves.toMatchObject({ available: true });
    await eventually(() => held.length === 1, 'the held assignment', 5_000);

    const drained = h.pool.drain(10_000);
    deliver(held[0]!);
    await eventually(() => agentReplies(late).length === 1, 'the late call\'s reply', 10_000);
    first.hangup();
    await h.sessionEnded(first.jobId);
    // The drain waits for the late call too: it is live, it was accepted before the drain.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.sessionsEnded.find((e) => e.jobId === late.jobId)).toBeUndefined();
    late.say('one more thing');
    await eventually(() => agentReplies(late).length === 2, 'the late call\'s second reply', 10_000);
    late.hangup();
    await expect(drained).resolves.toEqual({ completed: 2, cancelled: 0 });
    await expect(h.sessionEnded(late.jobId)).resolves.toMatchObject({ outcome: 'success' });
    expect(h.snapshot().tenants.acme).toMatchObject({ started: 2, succeeded: 2, cancelled: 0, failed: 0 });
  });

  it('counts a session that ended by itself but is still tearing down at the timeout as completed, not cancelled', async () => {
    const h = await startHarness({
      pool: {
        agent: SlowToLeaveAgent,
        tenantConfig: { acme: { llm: new ScriptedLLM({ reply: (text) => `acme: ${text}` }) } },
      },
    });
    const call = h.call('acme', { turns: ['hello', 'bye'] });
    await expect(call.ended).resolves.toEqual({ reason: 'hangup' });
    // The caller has left; the session's teardown (its slow shutdown callback) is under way.
    await expect(h.pool.drain(200)).resolves.toEqual({ completed: 1, cancelled: 0 });
    await expect(h.sessionEnded(call.jobId)).resolves.toMatchObject({ outcome: 'success' });
    expect(h.snapshot().tenants.acme).toMatchObject({ succeeded: 1, cancelled: 0 });
  });
});
