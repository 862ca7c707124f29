import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentServer, type JobRequest, ServerOptions, initializeLogger } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import { eventually } from '../helpers/eventually.js';
import { API_KEY, API_SECRET } from '../helpers/server_credentials.js';

/**
 * The stand-in is only worth its tests if LiveKit's own worker accepts it: this suite runs
 * the official agents-js AgentServer against it and watches every step of a dispatch.
 */
const AGENT_NAME = 'faithful';
const FIXTURE = fileURLToPath(new URL('../fixtures/lifecycle_agent.mjs', import.meta.url));

interface FixtureEvent {
  event: 'entry' | 'shutdown';
  jobId: string;
  pid: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the official agents-js 1.9 worker against the stand-in', () => {
  let server: DispatchServer;
  let agentServer: AgentServer;
  let running: Promise<unknown>;
  let dir: string;
  const pids = new Set<number>();
  // agents-js reports the machine's CPU load, and in development it stays WS_AVAILABLE at
  // any load (its loadThreshold is Infinity). LiveKit, and now the stand-in, offers nothing
  // to a worker at or above the target load (0.7), so on this shared 2-core machine the CPU
  // would decide whether a job is offered at all. The tests set the load the worker reports.
  let reportedLoad = 0.1;

  const events = (): FixtureEvent[] => {
    try {
      return readFileSync(join(dir, 'events.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FixtureEvent);
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    initializeLogger({ pretty: false, level: 'warn' });
    dir = mkdtempSync(join(tmpdir(), 'openrtc-faithful-'));
    // Job processes are forked with this process's environment.
    process.env.OPENRTC_FIXTURE_DIR = dir;
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    const requestFunc = async (request: JobRequest): Promise<void> => {
      if (request.job.metadata === 'reject') await request.reject();
      else await request.accept('Faithful agent', 'agent-faithful', '{"tenant":"acme-corp"}', { tenant: 'acme-corp' });
    };
    agentServer = new AgentServer(
      new ServerOptions({
        agent: FIXTURE,
        wsURL: server.url,
        apiKey: API_KEY,
        apiSecret: API_SECRET,
        agentName: AGENT_NAME,
        requestFunc,
        loadFunc: () => Promise.resolve(reportedLoad),
        host: '127.0.0.1',
        port: 0,
        numIdleProcesses: 0,
        shutdownProcessTimeout: 5000,
      }),
    );
    running = agentServer.run().catch((error: unknown) => error);
  });

  afterAll(async () => {
    await agentServer?.close();
    await running;
    await eventually(() => [...pids].every((pid) => !isAlive(pid)), 'every job process to exit', 10_000);
    await server?.close();
    delete process.env.OPENRTC_FIXTURE_DIR;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers with its agent name', async () => {
    const worker = await server.waitForWorker({ agentName: AGENT_NAME }, 20_000);
    expect(worker).toMatchObject({ agentName: AGENT_NAME, jobType: 'room', connected: true });
    expect(worker.version).toMatch(/^1\.9\./);
    // The server records the worker before its register response reaches agents-js.
    await eventually(() => agentServer.id === worker.workerId, 'agents-js to take its worker id');
  });

  it('records a reject as available=false and sends no assignment', async () => {
    const call = server.dispatch({ roomName: 'faithful-reject', agentName: AGENT_NAME, jobMetadata: 'reject' });
    await expect(call.availability).resolves.toMatchObject({ available: false, workerId: agentServer.id });
    await expect(call.assigned).rejects.toThrow(/refused/);
  });

  it('records an accept with identity and attributes, assigns, runs the job and delivers termination', async () => {
    const call = server.dispatch({ roomName: 'faithful-accept', agentName: AGENT_NAME, jobMetadata: '{"tenant":"acme-corp"}' });
    await expect(call.availability).resolves.toEqual({
      jobId: call.jobId,
      workerId: agentServer.id,
      available: true,
      participantIdentity: 'agent-faithful',
      participantName: 'Faithful agent',
      participantMetadata: '{"tenant":"acme-corp"}',
      // agents-js stamps its agent name onto the participant's attributes.
      participantAttributes: { tenant: 'acme-corp', 'lk.agent.name': AGENT_NAME },
    });
    await call.assigned;

    const entry = await eventually(() => events().find((e) => e.event === 'entry' && e.jobId === call.jobId), 'the job entry in a child process', 15_000);
    pids.add(entry.pid);
    expect(entry.pid).not.toBe(process.pid);
    expect(agentServer.activeJobs.map((j) => j.job.id)).toContain(call.jobId);

    // agents-js answers termination by asking the job process to shut down: shutdown
    // callbacks run and the process exits; no UpdateJobStatus is sent.
    call.terminate();
    await eventually(() => events().some((e) => e.event === 'shutdown' && e.jobId === call.jobId), 'the shutdown callback', 10_000);
    await eventually(() => !isAlive(entry.pid), 'the job process to exit', 10_000);
    expect(server.jobUpdates).toEqual([]);
  });

  it('is offered nothing while it reports a load at or above the target, though it still says WS_AVAILABLE', async () => {
    const workerId = agentServer.id;
    const latest = () => server.workers.find((w) => w.workerId === workerId);
    reportedLoad = 0.8;
    await server.waitFor(() => latest()?.load !== undefined && Math.abs(latest()!.load - 0.8) < 1e-6, 'a load report of 0.8', 10_000);
    expect(latest()?.status).toBe('available');
    await expect(server.dispatch({ roomName: 'faithful-busy', agentName: AGENT_NAME }).availability).resolves.toMatchObject({ reason: 'no_worker' });
    reportedLoad = 0.1;
    await server.waitFor(() => Math.abs((latest()?.load ?? 1) - 0.1) < 1e-6, 'a load report of 0.1', 10_000);
    const call = server.dispatch({ roomName: 'faithful-idle', agentName: AGENT_NAME, jobMetadata: 'reject' });
    await expect(call.availability).resolves.toMatchObject({ available: false, workerId });
  });

  it('answered every offer within the deadline and registered with its (empty) deployment', () => {
    expect(server.lateAnswers).toEqual([]);
    expect(server.workers.find((w) => w.workerId === agentServer.id)?.deployment).toBe('');
  });

  it('reports WS_FULL when draining', async () => {
    await agentServer.drain(5000);
    await server.waitFor(() => server.workers.find((w) => w.workerId === agentServer.id)?.status === 'full', 'WS_FULL after drain');
    const skipped = server.dispatch({ roomName: 'faithful-drained', agentName: AGENT_NAME });
    await expect(skipped.availability).resolves.toMatchObject({ available: false, reason: 'no_worker' });
  });
});
