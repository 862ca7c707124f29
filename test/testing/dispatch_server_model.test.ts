import { ParticipantPermission, WorkerStatus } from '@livekit/protocol';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { DispatchServerOptions } from '../../src/testing/dispatch_types.js';
import { ManualClock } from '../../src/testing/manual_clock.js';
import { JobType } from '@livekit/protocol';
import { eventually } from '../helpers/eventually.js';
import { RawWorker, autoAnswer } from '../helpers/raw_worker.js';
import { API_KEY, API_SECRET } from '../helpers/server_credentials.js';

// The stand-in's defaults follow LiveKit's own dispatch (livekit/livekit pkg/agent and
// pkg/service/agentservice.go; docs/architecture.md has the table). Each test pins one rule.

describe('DispatchServer models LiveKit dispatch', () => {
  let server: DispatchServer;
  let clock: ManualClock;
  const raws: RawWorker[] = [];

  const start = async (options: Partial<DispatchServerOptions> = {}): Promise<void> => {
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET, clock, ...options });
  };
  const worker = async (agentName = 'support', deployment = ''): Promise<{ raw: RawWorker; id: string }> => {
    const raw = await RawWorker.open(server.url);
    raws.push(raw);
    const id = await raw.register(agentName, deployment);
    return { raw, id };
  };
  const report = async (raw: RawWorker, id: string, load: number, status = WorkerStatus.WS_AVAILABLE): Promise<void> => {
    const before = server.workers.find((w) => w.workerId === id)?.updates ?? 0;
    raw.send({ case: 'updateWorker', value: { status, load } });
    await server.waitFor(() => (server.workers.find((w) => w.workerId === id)?.updates ?? 0) > before, 'the load update');
  };

  beforeEach(() => {
    clock = new ManualClock();
  });

  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.socket.terminate();
    await server?.close();
  });

  it('offers nothing while every matching worker reports a load at or above the target (0.7)', async () => {
    await start();
    const { raw, id } = await worker();
    await report(raw, id, 0.7);
    await expect(server.dispatch({ roomName: 'at-target', agentName: 'support' }).availability).resolves.toMatchObject({ reason: 'no_worker' });
    expect(raw.offers()).toEqual([]);
    await report(raw, id, 0.69);
    const below = server.dispatch({ roomName: 'below-target', agentName: 'support' });
    await eventually(() => raw.offers().includes(below.jobId), 'the offer below the target');
    // A test that wants to see the worker's own refusal can still ask it.
    await report(raw, id, 0.9);
    const forced = server.dispatch({ roomName: 'forced', agentName: 'support' }, { ignoreWorkerStatus: true });
    await eventually(() => raw.offers().includes(forced.jobId), 'the forced offer');
  });

  it('chooses among workers at random weighted by 1 - load, the same way for the same seed', async () => {
    const firstChoices = async (seed: number): Promise<string[]> => {
      await start({ seed });
      const a = await worker();
      const b = await worker();
      autoAnswer(a.raw, () => ({ available: false }));
      autoAnswer(b.raw, () => ({ available: false }));
      await report(a.raw, a.id, 0);
      await report(b.raw, b.id, 0.6);
      const calls = Array.from({ length: 40 }, (_, i) => server.dispatch({ roomName: `r${i}`, agentName: 'support' }));
      await Promise.all(calls.map((c) => c.availability));
      const choices = calls.map((c) => (c.attempts[0]?.workerId === a.id ? 'light' : 'heavy'));
      // A refusal moves the job to the other worker: each call asked both, then settled on the last refusal.
      expect(calls.every((c) => c.attempts.length === 2)).toBe(true);
      for (const raw of raws.splice(0)) raw.socket.terminate();
      await server.close();
      return choices;
    };
    const first = await firstChoices(7);
    expect(await firstChoices(7)).toEqual(first);
    // Weights 1 and 0.4: the lighter worker is asked first about 5 times in 7.
    const light = first.filter((c) => c === 'light').length;
    expect(light).toBeGreaterThan(20);
    expect(light).toBeLessThan(40);
  });

  it('moves a refused job to the next worker', async () => {
    await start();
    const refuser = await worker();
    const taker = await worker();
    autoAnswer(refuser.raw, () => ({ available: false }));
    autoAnswer(taker.raw, (jobId) => ({ available: true, participantIdentity: `agent-${jobId}` }));
    await report(taker.raw, taker.id, 0.5);
    const calls = Array.from({ length: 6 }, (_, i) => server.dispatch({ roomName: `retry-${i}`, agentName: 'support' }));
    await Promise.all(calls.map((c) => c.assigned));
    for (const call of calls) {
      expect(call.attempts.at(-1)).toMatchObject({ workerId: taker.id, available: true });
      expect(call.attempts.slice(0, -1)).toEqual(call.attempts.length === 2 ? [expect.objectContaining({ workerId: refuser.id, available: false })] : []);
      expect(call.jobState).toEqual({ status: 'running', error: '', workerId: taker.id });
    }
    // The lighter refuser (weight 1 against 0.5) is asked first for some of them.
    expect(calls.some((c) => c.attempts.length === 2)).toBe(true);
  });

  it('moves a job whose worker closed mid-request to the next worker', async () => {
    await start();
    const dropper = await worker();
    const taker = await worker();
    autoAnswer(taker.raw, (jobId) => ({ available: true, participantIdentity: `agent-${jobId}` }));
    dropper.raw.socket.on('message', () => dropper.raw.socket.terminate());
    await report(taker.raw, taker.id, 0.9);
    const call = server.dispatch({ roomName: 'closed-mid-request', agentName: 'support' });
    await expect(call.availability).resolves.toMatchObject({ available: true, workerId: taker.id });
    // The seeded choice asks the dropper first (weight 1 against 0.1); its socket closes instead of answering.
    expect(dropper.raw.offers()).toEqual([call.jobId]);
    expect(call.attempts).toEqual([expect.objectContaining({ workerId: taker.id, available: true })]);
  });

  it('gives up at the deadline (3 s by default), records a late answer, ignores it and offers the job to nobody else', async () => {
    await start();
    const slow = await worker();
    const other = await worker();
    await report(other.raw, other.id, 0.99);
    await report(slow.raw, slow.id, 0);
    // The other worker weighs 0.01 against 1: pin the first offer to the slow worker.
    const call = server.dispatch({ roomName: 'late', agentName: 'support' }, { workerId: slow.id });
    await eventually(() => slow.raw.offers().includes(call.jobId), 'the offer');
    clock.advance(2999);
    clock.advance(1);
    await expect(call.availability).resolves.toMatchObject({ available: false, reason: 'timeout', workerId: slow.id });
    slow.raw.send({ case: 'availability', value: { jobId: call.jobId, available: true, participantIdentity: 'late' } });
    await server.waitFor(() => server.lateAnswers.length === 1, 'the late answer');
    expect(server.lateAnswers[0]).toMatchObject({ jobId: call.jobId, workerId: slow.id, available: true });
    await expect(call.assigned).rejects.toThrow(/timeout/);
    expect(slow.raw.all('assignment')).toEqual([]);
    expect(other.raw.offers()).toEqual([]);
  });

  it('keeps jobs per connection: updates from another connection or after a reconnect are ignored, terminations stop', async () => {
    await start();
    const owner = await worker();
    const stranger = await worker();
    await report(stranger.raw, stranger.id, 0.9, WorkerStatus.WS_FULL);
    autoAnswer(owner.raw, (jobId) => ({ available: true, participantIdentity: `agent-${jobId}` }));
    const call = server.dispatch({ roomName: 'owned', agentName: 'support' });
    await call.assigned;
    stranger.raw.send({ case: 'updateJob', value: { jobId: call.jobId, status: 2, error: '' } });
    await server.waitFor(() => server.jobUpdates.length === 1, 'the stranger update');
    expect(server.jobUpdates[0]).toMatchObject({ workerId: stranger.id, accepted: false });
    expect(call.jobState?.status).toBe('running');

    server.dropWorker(owner.id);
    await server.waitFor(() => call.jobState?.workerId === undefined, 'the job to be forgotten');
    const again = await worker();
    again.raw.send({ case: 'updateJob', value: { jobId: call.jobId, status: 2, error: '' } });
    await server.waitFor(() => server.jobUpdates.length === 2, 'the update after the reconnect');
    expect(server.jobUpdates[1]).toMatchObject({ workerId: again.id, accepted: false });
    call.terminate();
    expect(again.raw.all('termination')).toEqual([]);
    expect(call.jobState).toEqual({ status: 'running', error: '', workerId: undefined });
  });

  it('terminates a job as failed when its agent leaves the room before reporting an end, and not after', async () => {
    await start();
    const w = await worker();
    autoAnswer(w.raw, (jobId) => ({ available: true, participantIdentity: `agent-${jobId}` }));
    const join = async (token: string): Promise<WebSocket> => {
      const socket = new WebSocket(`${server.wsUrl}/sim/room?access_token=${token}`);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      return socket;
    };
    const tokenOf = (jobId: string): string => {
      const found = w.raw.all('assignment').find((m) => m.case === 'assignment' && m.value.job?.id === jobId);
      return found?.case === 'assignment' ? found.value.token : '';
    };

    const abrupt = server.dispatch({ roomName: 'abrupt', agentName: 'support', simulated: { turns: [] } });
    await abrupt.assigned;
    await eventually(() => tokenOf(abrupt.jobId), 'the assignment');
    (await join(tokenOf(abrupt.jobId))).close();
    await server.waitFor(() => abrupt.jobState?.status === 'failed', 'the job to fail');
    expect(abrupt.jobState).toEqual({ status: 'failed', error: 'agent worker left the room', workerId: w.id });
    await eventually(() => w.raw.all('termination').length === 1, 'the termination');

    const tidy = server.dispatch({ roomName: 'tidy', agentName: 'support', simulated: { turns: [] } });
    await tidy.assigned;
    await eventually(() => tokenOf(tidy.jobId), 'the assignment');
    const room = await join(tokenOf(tidy.jobId));
    w.raw.send({ case: 'updateJob', value: { jobId: tidy.jobId, status: 2, error: '' } });
    await server.waitFor(() => tidy.jobState?.status === 'success', 'the success update');
    room.close();
    await expect(tidy.ended).resolves.toEqual({ reason: 'agent_left' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(tidy.jobState).toEqual({ status: 'success', error: '', workerId: w.id });
    expect(w.raw.all('termination')).toHaveLength(1);
  });

  it('assigns with no url and a token built from the answer and the registered permissions', async () => {
    await start();
    const raw = await RawWorker.open(server.url);
    raws.push(raw);
    raw.send({
      case: 'register',
      value: {
        type: JobType.JT_ROOM,
        agentName: 'support',
        version: 'raw',
        allowedPermissions: new ParticipantPermission({ canPublish: false, canSubscribe: true, canPublishData: true, canUpdateMetadata: false, hidden: true, agent: true }),
      },
    });
    await raw.next('register');
    autoAnswer(raw, () => ({ available: true, participantIdentity: 'agent-7' }));
    const call = server.dispatch({ roomName: 'shape', agentName: 'support' });
    await call.assigned;
    const assignment = await raw.next('assignment');
    if (assignment.case !== 'assignment') throw new Error('unreachable');
    expect(assignment.value.url).toBe('');
    const grants = await new TokenVerifier(API_KEY, API_SECRET).verify(assignment.value.token);
    expect(grants).toMatchObject({ sub: 'agent-7', kind: 'agent', attributes: { 'lk.agent_name': 'support' } });
    expect(grants.video).toMatchObject({ room: 'shape', roomJoin: true, agent: true, canPublish: false, canSubscribe: true, hidden: true, canUpdateOwnMetadata: false });
  });

  it('matches jobs to workers by deployment', async () => {
    await start();
    const blue = await worker('support', 'blue');
    autoAnswer(blue.raw, () => ({ available: false }));
    expect(server.workers[0]?.deployment).toBe('blue');
    await expect(server.dispatch({ roomName: 'none', agentName: 'support' }).availability).resolves.toMatchObject({ reason: 'no_worker' });
    await expect(server.dispatch({ roomName: 'blue', agentName: 'support', deployment: 'blue' }).availability).resolves.toMatchObject({ workerId: blue.id });
  });

  it('pings every worker every 10 s and drops a socket that has not registered within 10 s', async () => {
    await start();
    const { raw } = await worker();
    let pings = 0;
    raw.socket.on('ping', () => pings++);
    clock.advance(10_000);
    clock.advance(10_000);
    await eventually(() => pings === 2 && 'pinged', 'two pings');

    const silent = await RawWorker.open(server.url);
    raws.push(silent);
    const closed = new Promise<number>((resolve) => silent.socket.once('close', resolve));
    clock.advance(10_000);
    expect(await closed).toBe(1008);
  });
});
