import { JobType, WorkerStatus } from '@livekit/protocol';
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import { RawWorker } from '../helpers/raw_worker.js';
import { API_KEY, API_SECRET } from '../helpers/server_credentials.js';


describe('DispatchServer', () => {
  let server: DispatchServer;
  const raws: RawWorker[] = [];

  beforeEach(async () => {
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  });

  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.socket.terminate();
    await server.close();
  });

  it('listens on loopback with a free port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.wsUrl).toBe(server.url.replace('http', 'ws'));
  });

  it('refuses a missing token, a bad signature and a token without the agent grant with 401', async () => {
    const attempt = async (headers: Record<string, string>): Promise<number | undefined> =>
      new Promise((resolve) => {
        const socket = new WebSocket(`${server.wsUrl}/agent`, { headers });
        socket.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode);
          socket.terminate();
        });
        socket.on('open', () => {
          resolve(101);
          socket.terminate();
        });
        socket.on('error', () => resolve(undefined));
      });
    const forged = new AccessToken(API_KEY, 'another-secret-another-secret-0000');
    forged.addGrant({ agent: true });
    const noAgent = new AccessToken(API_KEY, API_SECRET, { identity: 'someone' });
    noAgent.addGrant({ roomJoin: true, room: 'r' });
    expect(await attempt({})).toBe(401);
    expect(await attempt({ authorization: `Bearer ${await forged.toJwt()}` })).toBe(401);
    expect(await attempt({ authorization: `Bearer ${await noAgent.toJwt()}` })).toBe(401);
    expect(server.rejectedConnections).toBe(3);
  });

  it('insists on register first, answers it with a worker id, and records worker_token', async () => {
    const raw = await RawWorker.open(server.url, { agent: true }, '?worker_token=wt-1');
    raws.push(raw);
    const workerId = await raw.register('support');
    expect(workerId).toMatch(/^AW_/);
    const worker = await server.waitForWorker({ agentName: 'support' });
    expect(worker).toMatchObject({ workerId, workerToken: 'wt-1', status: 'available', connected: true });

    const early = await RawWorker.open(server.url);
    raws.push(early);
    const closed = new Promise<number>((resolve) => early.socket.once('close', resolve));
    early.send({ case: 'updateWorker', value: { load: 0.5 } });
    expect(await closed).toBe(1008);
  });

  it('keeps the latest status, load and job count; a status-less update keeps the status', async () => {
    const raw = await RawWorker.open(server.url);
    raws.push(raw);
    await raw.register('a');
    raw.send({ case: 'updateWorker', value: { status: WorkerStatus.WS_FULL, load: 0.75, jobCount: 4 } });
    await server.waitFor(() => server.workers[0]?.updates === 1, 'the update');
    expect(server.workers[0]).toMatchObject({ status: 'full', load: 0.75, jobCount: 4 });
    raw.send({ case: 'updateWorker', value: { load: 0.25, jobCount: 1 } });
    await server.waitFor(() => server.workers[0]?.updates === 2, 'the second update');
    expect(server.workers[0]).toMatchObject({ status: 'full', load: 0.25, jobCount: 1 });
  });

  it('answers ping with pong carrying the ping timestamp', async () => {
    const raw = await RawWorker.open(server.url);
    raws.push(raw);
    await raw.register('a');
    raw.send({ case: 'ping', value: { timestamp: 12345n } });
    const pong = await raw.next('pong');
    expect(pong.case === 'pong' && pong.value.lastTimestamp).toBe(12345n);
    expect(server.pings).toBe(1);
  });

  it('offers jobs with the real Job shape, assigns with a room token, and sends termination', async () => {
    const raw = await RawWorker.open(server.url);
    raws.push(raw);
    const workerId = await raw.register('support');
    const call = server.dispatch({
      roomName: 'call-1',
      agentName: 'support',
      jobMetadata: '{"tenant":"acme-corp"}',
      roomMetadata: '{"plan":"gold"}',
      attributes: { region: 'eu' },
      jobId: 'AJ_fixed',
    });
    const offer = await raw.next('availability');
    if (offer.case !== 'availability') throw new Error('unreachable');
    expect(offer.value.resuming).toBe(false);
    expect(offer.value.job).toMatchObject({
      id: 'AJ_fixed',
      type: JobType.JT_ROOM,
      agentName: 'support',
      metadata: '{"tenant":"acme-corp"}',
      room: { name: 'call-1', metadata: '{"plan":"gold"}' },
      attributes: { region: 'eu' },
    });
    expect(offer.value.job?.dispatchId).toMatch(/^AD_/);
    expect(offer.value.job?.room?.sid).toMatch(/^RM_/);

    raw.send({
      case: 'availability',
      value: { jobId: 'AJ_fixed', available: true, participantIdentity: 'agent-x', participantName: 'X', participantMetadata: 'm', participantAttributes: { a: 'b' } },
    });
    await expect(call.availability).resolves.toEqual({
      jobId: 'AJ_fixed',
      workerId,
      available: true,
      participantIdentity: 'agent-x',
      participantName: 'X',
      participantMetadata: 'm',
      participantAttributes: { a: 'b' },
    });
    await call.assigned;
    const assignment = await raw.next('assignment');
    if (assignment.case !== 'assignment') throw new Error('unreachable');
    // LiveKit OSS sends no url (the worker joins where it connected); the stand-in used to send its own.
    expect(assignment.value.url).toBe('');
    expect(assignment.value.job?.state?.participantIdentity).toBe('agent-x');
    const grants = await new TokenVerifier(API_KEY, API_SECRET).verify(assignment.value.token);
    expect(grants.sub).toBe('agent-x');
    expect(grants.video).toMatchObject({ room: 'call-1', roomJoin: true, agent: true });

    call.terminate();
    const termination = await raw.next('termination');
    expect(termination.case === 'termination' && termination.value.jobId).toBe('AJ_fixed');
    await expect(call.ended).resolves.toEqual({ reason: 'terminated' });
  });

  it('picks only workers with the right agent name and skips full ones unless told not to', async () => {
    const full = await RawWorker.open(server.url);
    raws.push(full);
    await full.register('support');
    full.send({ case: 'updateWorker', value: { status: WorkerStatus.WS_FULL, load: 1 } });
    await server.waitFor(() => server.workers[0]?.status === 'full', 'WS_FULL');

    await expect(server.dispatch({ roomName: 'r1', agentName: 'support' }).availability).resolves.toMatchObject({ available: false, reason: 'no_worker' });
    await expect(server.dispatch({ roomName: 'r2', agentName: 'sales' }).availability).resolves.toMatchObject({ reason: 'no_worker' });
    const forced = server.dispatch({ roomName: 'r3', agentName: 'support' }, { ignoreWorkerStatus: true });
    const offer = await full.next('availability');
    expect(offer.case === 'availability' && offer.value.job?.room?.name).toBe('r3');
    full.send({ case: 'availability', value: { jobId: forced.jobId, available: false } });
    const answer = await forced.availability;
    expect(answer.available).toBe(false);
    expect(answer.reason).toBeUndefined();
    await expect(forced.assigned).rejects.toThrow(/refused/);
    expect(server.answers.map((a) => a.reason ?? 'answered')).toEqual(['no_worker', 'no_worker', 'answered']);
  });

  it('withholds the assignment when told to, and answers for a worker that drops mid-request', async () => {
    const raw = await RawWorker.open(server.url);
    raws.push(raw);
    await raw.register('');
    const withheld = server.dispatch({ roomName: 'w' }, { withholdAssignment: true });
    await raw.next('availability');
    raw.send({ case: 'availability', value: { jobId: withheld.jobId, available: true, participantIdentity: 'a' } });
    await withheld.availability;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(raw.received.some((m) => m.message.case === 'assignment')).toBe(false);

    const orphan = server.dispatch({ roomName: 'o' });
    await raw.next('availability');
    expect(server.dropWorker()).toBe(server.workers[0]?.workerId);
    await expect(orphan.availability).resolves.toMatchObject({ available: false, reason: 'worker_disconnected' });
    expect(server.workers[0]?.connected).toBe(false);
  });

  it('reports and terminates sockets still open at close', async () => {
    const raw = await RawWorker.open(server.url);
    await raw.register('');
    const closed = new Promise((resolve) => raw.socket.once('close', resolve));
    await expect(server.close()).resolves.toEqual({ openSockets: 1 });
    await closed;
    await expect(server.waitForWorker({ agentName: 'never' }, 50)).rejects.toThrow(/timed out after 50 ms waiting for a worker/);
  });

  it('validates its options', async () => {
    await expect(DispatchServer.start({ apiKey: '', apiSecret: 's' })).rejects.toThrow(/`apiKey` must be a non-empty string/);
    await expect(DispatchServer.start({ apiKey: 'k', apiSecret: 's', port: 70000 })).rejects.toThrow(/`port` must be an integer from 0 to 65535; got 70000/);
    expect(() => server.dispatch({ roomName: '' })).toThrow(/`roomName` must be a non-empty string/);
  });
});
