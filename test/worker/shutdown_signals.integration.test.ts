import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeSnapshot } from '../../src/telemetry/runtime_snapshot.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { eventually } from '../helpers/eventually.js';
import { API_KEY, API_SECRET, tenantMetadata } from '../helpers/server_credentials.js';

const HOLD: SimulatedCallScript = { turns: ['hello'], hangupAfterLastReply: false };
const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);

/** A line the worker process printed: its fixture's events, or one of its pino records. */
interface WorkerLine {
  event?: string;
  msg?: string;
  /** The diagnostic code, on `pool_diagnostic` records (pino's `code` field). */
  diagnostic?: string;
  code?: number | string;
  jobId?: string;
  outcome?: string;
  detail?: string;
  snapshot?: RuntimeSnapshot;
}

/** The drain fixture (`pool.run()` with real signal handling) against a fresh stand-in server, one live call in. */
async function startWorkerWithLiveCall() {
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  const script = fileURLToPath(new URL('../fixtures/drain_worker.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, LOG_LEVEL: 'warn', OPENRTC_TEST_URL: server.url, OPENRTC_TEST_API_KEY: API_KEY, OPENRTC_TEST_API_SECRET: API_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = (): WorkerLine[] =>
    stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => {
      const parsed = JSON.parse(line) as WorkerLine;
      return parsed.event === 'pool_diagnostic' ? { ...parsed, diagnostic: String(parsed.code) } : parsed;
    });
  await server.waitForWorker({}, 20_000).catch((error: unknown) => {
    throw new Error(`the worker process never registered (stderr: ${stderr.slice(-2000)})`, { cause: error });
  });
  const call = server.dispatch({ roomName: 'signals-live', jobMetadata: tenantMetadata('acme'), simulated: HOLD });
  await eventually(() => agentReplies(call).length === 1, 'the first reply', 10_000);
  // Signals are reported on the pool's diagnostic channel, which the worker logs.
  const signalLogs = () => lines().filter((l) => l.event === 'pool_diagnostic' && l.diagnostic === 'signal').map((l) => l.msg ?? '');
  return { server, proc, exited, lines, call, signalLogs };
}

describe('signals to a worker run with pool.run()', () => {
  let server: DispatchServer | undefined;
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    child = undefined;
    const open = await server?.close();
    server = undefined;
    expect(open?.openSockets ?? 0).toBe(0);
  });

  it('drains on SIGTERM: refuses new calls, lets the live call finish, then exits 0', async () => {
    const w = await startWorkerWithLiveCall();
    server = w.server;
    child = w.proc;
    const { proc, call, lines, exited } = w;
    const s = w.server;
    const exitedAt = new Promise<number>((resolve) => proc.once('exit', () => resolve(Date.now())));

    proc.kill('SIGTERM');
    await s.waitFor(() => s.workers[0]?.status === 'full', 'WS_FULL after SIGTERM', 5_000);
    await eventually(() => lines().some((l) => l.event === 'draining'), 'the draining event', 5_000);
    const refused = s.dispatch({ roomName: 'drain-new', jobMetadata: tenantMetadata('acme'), simulated: HOLD }, { ignoreWorkerStatus: true });
    await expect(refused.availability).resolves.toMatchObject({ available: false });

    // Still draining, still serving the live call.
    call.say('still there?');
    await eventually(() => agentReplies(call).length === 2, 'the reply during the drain', 5_000);
    expect(agentReplies(call)).toEqual(['acme: hello', 'acme: still there?']);
    expect(proc.exitCode).toBeNull();

    const hungUpAt = Date.now();
    call.hangup();
    const exit = await exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(await exitedAt).toBeGreaterThanOrEqual(hungUpAt);

    const events = lines();
    const ended = events.find((l) => l.event === 'sessionEnded' && l.jobId === call.jobId);
    expect(ended).toMatchObject({ outcome: 'success' });
    const last = events.at(-1);
    expect(last?.event).toBe('exit');
    expect(events.indexOf(ended!)).toBeLessThan(events.length - 1);
    expect(last?.snapshot).toMatchObject({
      draining: true,
      activeSessions: 0,
      rejectionsByReason: { draining: 1 },
      totals: { admitted: 1, started: 1, succeeded: 1, failed: 0, cancelled: 0 },
    });
    expect(last?.snapshot?.tenants.acme).toMatchObject({ succeeded: 1, failed: 0, cancelled: 0 });
    await s.waitFor(() => s.openSockets === 0, 'the worker sockets to close', 5_000);
  }, 60_000);

  it('a second SIGTERM during the drain is logged and the drain goes on; the live call finishes', async () => {
    const w = await startWorkerWithLiveCall();
    server = w.server;
    child = w.proc;

    w.proc.kill('SIGTERM');
    await eventually(() => w.lines().some((l) => l.event === 'draining'), 'the draining event', 5_000);
    w.proc.kill('SIGTERM');
    await eventually(() => w.signalLogs().some((m) => m.includes('still draining')), 'the second signal to be logged', 5_000);

    // Not killed: still draining, still serving the live call.
    w.call.say('still there?');
    await eventually(() => agentReplies(w.call).length === 2, 'the reply after the second SIGTERM', 5_000);
    expect(w.proc.exitCode).toBeNull();

    w.call.hangup();
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const ended = w.lines().find((l) => l.event === 'sessionEnded' && l.jobId === w.call.jobId);
    expect(ended).toMatchObject({ outcome: 'success' });
    expect(w.lines().at(-1)?.snapshot?.totals).toMatchObject({ succeeded: 1, cancelled: 0 });
    expect(w.signalLogs()).toHaveLength(2);
  }, 60_000);

  it('a third signal forces a fast exit that still reports the live call as cancelled', async () => {
    const w = await startWorkerWithLiveCall();
    server = w.server;
    child = w.proc;

    w.proc.kill('SIGTERM');
    await eventually(() => w.signalLogs().length === 1, 'the first signal to be logged', 5_000);
    w.proc.kill('SIGINT');
    await eventually(() => w.signalLogs().length === 2, 'the second signal to be logged', 5_000);
    w.proc.kill('SIGTERM');

    // The drain timeout is 20 s: only the forced exit ends it this soon.
    const exit = await Promise.race([w.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(w.signalLogs()[2]).toContain('cancelling 1 live calls');
    const ended = w.lines().find((l) => l.event === 'sessionEnded' && l.jobId === w.call.jobId);
    expect(ended).toMatchObject({ outcome: 'cancelled' });
    expect(ended?.detail).toContain('worker forced to exit by SIGTERM');
    expect(w.lines().at(-1)?.snapshot?.totals).toMatchObject({ started: 1, cancelled: 1, succeeded: 0 });
    // The server heard about the call before the worker went.
    expect(w.server.jobUpdates.filter((u) => u.jobId === w.call.jobId)).not.toEqual([]);
    await expect(w.call.ended).resolves.toMatchObject({ reason: 'agent_left' });
  }, 60_000);
});
