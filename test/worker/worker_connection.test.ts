import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenRtcError } from '../../src/errors.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import { ManualClock } from '../../src/testing/manual_clock.js';
import type { AvailabilityAnswer } from '../../src/worker/job_handler.js';
import { WorkerConnection } from '../../src/worker/worker_connection.js';
import type { WorkerConnectionOptions, WorkerDiagnostic } from '../../src/worker/worker_connection_options.js';
import { eventually } from '../helpers/eventually.js';
import { RecordingHandler } from '../helpers/recording_handler.js';
import { API_KEY, API_SECRET } from '../helpers/server_credentials.js';


describe('WorkerConnection against the stand-in dispatch server', () => {
  let server: DispatchServer;
  let clock: ManualClock;
  let handler: RecordingHandler;
  let diagnostics: WorkerDiagnostic[];
  const connections: WorkerConnection[] = [];

  const connect = (overrides: Partial<WorkerConnectionOptions> = {}): WorkerConnection => {
    const connection = new WorkerConnection({
      url: server.url,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      agentName: 'support',
      version: '0.1.0-test',
      handler,
      clock,
      random: () => 0.5,
      onDiagnostic: (event) => diagnostics.push(event),
      ...overrides,
    });
    connections.push(connection);
    return connection;
  };

  beforeEach(async () => {
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    clock = new ManualClock();
    handler = new RecordingHandler();
    diagnostics = [];
  });

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
    await server.waitFor(() => server.openSockets === 0, 'every socket to close');
    const { openSockets } = await server.close();
    expect(openSockets).toBe(0);
  });

  it('registers and learns its worker id, then reports its load at once', async () => {
    const connection = connect({ workerToken: 'cloud-worker-token' });
    const registered = new Promise((resolve) => connection.on('registered', resolve));
    await connection.start();
    expect(connection.connected).toBe(true);
    const [worker] = server.workers;
    expect(worker).toMatchObject({ agentName: 'support', version: '0.1.0-test', jobType: 'room', workerToken: 'cloud-worker-token' });
    expect(connection.workerId).toBe(worker?.workerId);
    await expect(registered).resolves.toMatchObject({ workerId: worker?.workerId, reconnected: false });
    await server.waitFor(() => server.workers[0]?.updates === 1, 'the first updateWorker');
  });

  it('carries accept and reject answers, assignments and terminations', async () => {
    handler.decide = (request) =>
      request.jobMetadata === 'refuse'
        ? { accept: false, reason: 'tenant_cap' }
        : {
            accept: true,
            participantIdentity: 'agent-acme',
            participantName: 'Acme support',
            participantMetadata: '{"tenant":"acme-corp"}',
            participantAttributes: { tenant: 'acme-corp', agent: 'support' },
          };
    await connect().start();

    const accepted = server.dispatch({ roomName: 'room-a', agentName: 'support', jobMetadata: '{"tenant":"acme-corp"}', roomMetadata: 'rm' });
    await expect(accepted.availability).resolves.toMatchObject({
      jobId: accepted.jobId,
      available: true,
      participantIdentity: 'agent-acme',
      participantName: 'Acme support',
      participantMetadata: '{"tenant":"acme-corp"}',
      participantAttributes: { tenant: 'acme-corp', agent: 'support' },
    });
    await accepted.assigned;
    expect(handler.requests[0]).toMatchObject({
      jobId: accepted.jobId,
      agentName: 'support',
      roomName: 'room-a',
      jobMetadata: '{"tenant":"acme-corp"}',
      roomMetadata: 'rm',
    });
    expect(handler.requests[0]?.roomSid).toMatch(/^RM_/);
    const assignment = await eventually(() => handler.assignments[0], 'the assignment');
    // LiveKit OSS assigns with no url (the worker joins where it connected); the stand-in now does too.
    expect(assignment).toMatchObject({ job: { jobId: accepted.jobId, roomName: 'room-a' }, url: '' });
    expect(assignment.token.split('.')).toHaveLength(3);

    const refused = server.dispatch({ roomName: 'room-b', agentName: 'support', jobMetadata: 'refuse' });
    await expect(refused.availability).resolves.toMatchObject({ available: false, participantIdentity: '' });
    await expect(refused.assigned).rejects.toThrow(/refused/);
    expect(server.answers.map((a) => a.available)).toEqual([true, false]);

    accepted.terminate();
    await eventually(() => handler.terminations.includes(accepted.jobId), 'the termination');
    expect(handler.assignments).toHaveLength(1);
  });

  it('reports load, job count and WS_FULL on the update interval, and at once when draining', async () => {
    const connection = connect({ updateIntervalMs: 1000 });
    await connection.start();
    await server.waitFor(() => server.workers[0]?.updates === 1, 'the first update');

    // load is a float32 on the wire: 0.5 survives exactly.
    handler.currentLoad = { load: 0.5, jobCount: 3, full: false };
    clock.advance(999);
    expect(server.workers[0]?.updates).toBe(1);
    clock.advance(1);
    await server.waitFor(() => server.workers[0]?.updates === 2, 'the interval update');
    expect(server.workers[0]).toMatchObject({ load: 0.5, jobCount: 3, status: 'available' });

    handler.currentLoad = { load: 1, jobCount: 5, full: true };
    clock.advance(1000);
    await server.waitFor(() => server.workers[0]?.status === 'full', 'WS_FULL');
    expect(server.workers[0]).toMatchObject({ load: 1, jobCount: 5 });

    // Real LiveKit skips a full worker; forcing the request shows what the worker answers.
    const skipped = server.dispatch({ roomName: 'room-full', agentName: 'support' });
    await expect(skipped.availability).resolves.toMatchObject({ available: false, reason: 'no_worker', workerId: undefined });
    expect(handler.requests).toHaveLength(0);
    handler.decide = () => ({ accept: false, reason: 'global_cap' });
    const forced = server.dispatch({ roomName: 'room-full', agentName: 'support' }, { ignoreWorkerStatus: true });
    await expect(forced.availability).resolves.toMatchObject({ available: false, workerId: server.workers[0]?.workerId });

    handler.currentLoad = { load: 0.1, jobCount: 1, full: false };
    connection.refreshStatus();
    await server.waitFor(() => server.workers[0]?.status === 'available', 'available again without waiting for the interval');
    connection.setDraining();
    await server.waitFor(() => server.workers[0]?.status === 'full', 'WS_FULL on drain without waiting for the interval');
  });

  it('sends updateJob with the job outcome', async () => {
    const connection = connect();
    await connection.start();
    expect(connection.updateJobStatus('AJ_1', 'success')).toBe(true);
    expect(connection.updateJobStatus('AJ_2', 'failed', 'entry threw')).toBe(true);
    await server.waitFor(() => server.jobUpdates.length === 2, 'two job updates');
    expect(server.jobUpdates.map(({ jobId, status, error }) => ({ jobId, status, error }))).toEqual([
      { jobId: 'AJ_1', status: 'success', error: '' },
      { jobId: 'AJ_2', status: 'failed', error: 'entry threw' },
    ]);
  });

  it('rejects start() with connection_error on bad credentials', async () => {
    const connection = connect({ apiSecret: 'not-the-secret-not-the-secret-0000' });
    const error = await connection.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenRtcError);
    expect((error as OpenRtcError).code).toBe('connection_error');
    expect((error as OpenRtcError).message).toMatch(/HTTP 401/);
    expect((error as OpenRtcError).message).toContain(server.url);
    expect((error as OpenRtcError).message).not.toContain('not-the-secret');
    expect(server.rejectedConnections).toBe(1);
    expect(connection.connected).toBe(false);
  });

  it('reconnects with backoff after the socket drops and registers again, keeping its handler', async () => {
    const connection = connect();
    const events: string[] = [];
    connection.on('disconnected', () => events.push('disconnected'));
    connection.on('reconnecting', (e) => events.push(`reconnecting:${e.attempt}:${e.delayMs}`));
    connection.on('registered', (e) => events.push(`registered:${e.reconnected}`));
    await connection.start();
    const first = connection.workerId!;

    const pending = server.dispatch({ roomName: 'room-r', agentName: 'support' }, { withholdAssignment: true });
    await pending.availability;
    server.dropWorker();
    await eventually(() => events.includes('reconnecting:1:438'), 'the first reconnect to be scheduled');
    expect(connection.connected).toBe(false);
    // Jitter 0.25 at random 0.5 takes 12.5% off the 500 ms initial delay.
    clock.advance(437);
    expect(server.workers.filter((w) => w.connected)).toHaveLength(0);
    clock.advance(1);
    const second = await server.waitForWorker({ exclude: [first] });
    await eventually(() => connection.connected, 'the connection to re-register');
    expect(connection.workerId).toBe(second.workerId);
    expect(second.workerId).not.toBe(first);
    expect(events).toEqual(['registered:false', 'disconnected', 'reconnecting:1:438', 'registered:true']);
    // A lost socket is no reason to end a hosted job.
    expect(handler.terminations).toEqual([]);

    const after = server.dispatch({ roomName: 'room-after', agentName: 'support' });
    await expect(after.availability).resolves.toMatchObject({ available: true, workerId: second.workerId });
    await eventually(() => handler.assignments.some((a) => a.job.jobId === after.jobId), 'the assignment on the new socket');
  });

  it('keeps a job outcome reported while disconnected and sends it once registered again', async () => {
    const connection = connect();
    await connection.start();
    const first = connection.workerId!;
    server.dropWorker();
    await eventually(() => !connection.connected, 'the socket to drop');
    expect(connection.updateJobStatus('AJ_during_outage', 'failed', 'llm down')).toBe(false);
    clock.advance(10_000);
    await server.waitForWorker({ exclude: [first] });
    await eventually(
      () => server.jobUpdates.some((u) => u.jobId === 'AJ_during_outage'),
      'the held job update to reach the server',
    );
    // The stand-in, like LiveKit, ignores an update for a job not running on the connection
    // that sends it (here a job it never assigned); it used to accept any update.
    expect(server.jobUpdates.find((u) => u.jobId === 'AJ_during_outage')).toMatchObject({ status: 'failed', error: 'llm down', accepted: false });
  });

  it('backs off further while the server refuses, and resets after a success', async () => {
    const connection = connect();
    const delays: number[] = [];
    connection.on('reconnecting', (e) => delays.push(e.delayMs));
    await connection.start();
    // Refuse every reconnect by closing the server; a fresh one takes the same port later.
    const port = Number(new URL(server.url).port);
    await server.close();
    await eventually(() => delays.length === 1, 'the first reconnect');
    clock.advance(delays[0]!);
    await eventually(() => delays.length === 2, 'the second reconnect after a refused attempt');
    clock.advance(delays[1]!);
    await eventually(() => delays.length === 3, 'the third reconnect');
    expect(delays).toEqual([438, 875, 1750]);
    expect(diagnostics.filter((d) => d.kind === 'connect_failed')).toHaveLength(2);

    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET, port });
    clock.advance(delays[2]!);
    await server.waitForWorker();
    await eventually(() => connection.connected, 're-registration');
    server.dropWorker();
    await eventually(() => delays.length === 4, 'a reconnect after the next drop');
    expect(delays[3]).toBe(438);
  });

  it('close() stops reconnecting and leaves no open sockets', async () => {
    const connection = connect();
    await connection.start();
    await connection.close();
    expect(connection.connected).toBe(false);
    await server.waitFor(() => server.openSockets === 0, 'the worker socket to close');
    clock.advance(60_000);
    expect(server.workers.filter((w) => w.connected)).toHaveLength(0);
    await connection.close();
  });

  it('does not reconnect after close() during a backoff wait', async () => {
    const connection = connect();
    await connection.start();
    server.dropWorker();
    await eventually(() => !connection.connected, 'the drop');
    await connection.close();
    clock.advance(60_000);
    expect(clock.pendingTimers).toBe(0);
    expect(server.workers).toHaveLength(1);
  });

  it('answers unavailable at the deadline, aborts the decision, and releases the accept that comes later', async () => {
    let decide!: (answer: AvailabilityAnswer) => void;
    handler.decide = () => new Promise<AvailabilityAnswer>((resolve) => (decide = resolve));
    await connect({ availabilityTimeoutMs: 2000 }).start();
    const call = server.dispatch({ roomName: 'slow', agentName: 'support' });
    await eventually(() => handler.requests.length === 1, 'the request');
    clock.advance(1999);
    expect(handler.signals[0]?.aborted).toBe(false);
    clock.advance(1);
    expect(handler.signals[0]?.aborted).toBe(true);
    await expect(call.availability).resolves.toMatchObject({ available: false, workerId: server.workers[0]?.workerId });
    expect(diagnostics.map((d) => d.kind)).toContain('availability_timeout');
    decide({ accept: true, participantIdentity: 'late', participantName: '', participantMetadata: '', participantAttributes: {} });
    await eventually(() => handler.released.length === 1, 'the release');
    expect(handler.released).toEqual([[call.jobId, 'deadline']]);
    expect(server.lateAnswers).toEqual([]);
  });

  it('releases an accept whose socket is lost before the assignment, and never sends an answer on another socket', async () => {
    const connection = connect();
    await connection.start();
    const first = connection.workerId!;
    const withheld = server.dispatch({ roomName: 'withheld', agentName: 'support' }, { withholdAssignment: true });
    await withheld.availability;
    let decide!: (answer: AvailabilityAnswer) => void;
    handler.decide = () => new Promise<AvailabilityAnswer>((resolve) => (decide = resolve));
    const pending = server.dispatch({ roomName: 'pending', agentName: 'support' });
    await eventually(() => handler.requests.length === 2, 'the second request');
    server.dropWorker();
    await eventually(() => handler.released.length === 1, 'the release of the withheld accept');
    expect(handler.released).toEqual([[withheld.jobId, 'socket_lost']]);
    await expect(pending.availability).resolves.toMatchObject({ reason: 'worker_disconnected' });
    clock.advance(1000);
    await server.waitForWorker({ exclude: [first] });
    decide({ accept: true, participantIdentity: 'orphan', participantName: '', participantMetadata: '', participantAttributes: {} });
    await eventually(() => handler.released.length === 2, 'the release of the orphaned accept');
    expect(handler.released[1]).toEqual([pending.jobId, 'socket_lost']);
    expect(server.lateAnswers).toEqual([]);
  });

  it('cuts a socket that went silent after the liveness timeout and registers again', async () => {
    const connection = connect({ livenessTimeoutMs: 15_000 });
    await connection.start();
    const first = connection.workerId!;
    server.silenceWorker();
    clock.advance(14_999);
    expect(connection.connected).toBe(true);
    clock.advance(1);
    await eventually(() => !connection.connected, 'the silent socket to be cut');
    expect(diagnostics.map((d) => d.kind)).toContain('liveness_timeout');
    clock.advance(1000);
    await server.waitForWorker({ exclude: [first] });
    await eventually(() => connection.connected, 're-registration');
    expect(connection.stateName).toBe('registered');
  });

  it('registers its deployment', async () => {
    await connect({ deployment: 'blue' }).start();
    expect(server.workers[0]?.deployment).toBe('blue');
  });

  it('validates its options, naming the option and the rule', () => {
    const base = { url: 'http://127.0.0.1:1', apiKey: 'k', apiSecret: 's', version: '1', handler: new RecordingHandler() };
    expect(() => new WorkerConnection({ ...base, url: 'ftp://example' })).toThrow(/`url` must be an http, https, ws or wss URL; got a string/);
    expect(() => new WorkerConnection({ ...base, apiSecret: '' })).toThrow(/`apiSecret` must be a non-empty string/);
    expect(() => new WorkerConnection({ ...base, updateIntervalMs: -1 })).toThrow(/`updateIntervalMs` must be a positive number of ms; got -1/);
    expect(() => new WorkerConnection({ ...base, reconnect: { jitter: 1.5 } })).toThrow(/`reconnect.jitter`/);
    expect(() => new WorkerConnection({ ...base, handler: {} as never })).toThrow(/`handler` must be a JobHandler/);
    expect(() => new WorkerConnection({ ...base, availabilityTimeoutMs: 3000 })).toThrow(/`availabilityTimeoutMs` must be below 3000 ms/);
    let thrown: unknown;
    try {
      new WorkerConnection({ ...base, version: '' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OpenRtcError);
    expect((thrown as OpenRtcError).code).toBe('invalid_option');
  });
});
