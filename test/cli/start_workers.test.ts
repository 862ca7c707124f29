import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listHostWorkers } from '../../src/inspect/inspector_client.js';
import type { InspectorState } from '../../src/inspect/protocol.js';
import { type DispatchedCall, DispatchServer } from '../../src/testing/index.js';

/*
 * `openrtc start --workers 2` as an operator runs it: a primary process and two worker
 * processes on the stand-in LiveKit server. Caps and the breaker are held by the primary,
 * so they are exact across the two; a child killed with -9 has its slots freed and is
 * restarted; SIGTERM drains both. Every wait is on an event (a registration, an answer,
 * a log line), with generous timeouts for a loaded two-core machine.
 */
const run = promisify(execFile);
const apiKey = 'multicore-key';
const apiSecret = 'multicore-secret-long-enough-for-the-hs256-signature';

let server: DispatchServer;
let primary: ChildProcess;
let output = '';
let exited: Promise<number | null>;
let inspectDir = '';
let roomSeq = 0;
/** Checks of `outputMatching` still waiting; each returns true once it matched. */
const outputWaiters = new Set<() => boolean>();

/** Resolves once the primary's or a child's output (stdout or stderr) matches. */
function outputMatching(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-4000)}`)), timeoutMs);
    const check = () => {
      const found = output.match(pattern);
      if (!found) return false;
      clearTimeout(timer);
      outputWaiters.delete(check);
      resolve(found);
      return true;
    };
    if (!check()) outputWaiters.add(check);
  });
}

const connectedWorkers = () => server.workers.filter((w) => w.connected);

async function hostWorkers(count: number): Promise<InspectorState[]> {
  // The inspector (what `openrtc top` reads) lists every child's socket in the host folder.
  const { workers } = await listHostWorkers(inspectDir, 10_000);
  expect(workers).toHaveLength(count);
  return workers;
}

function burst(tenant: string, n: number): DispatchedCall[] {
  return Array.from({ length: n }, () => server.dispatch(
    { roomName: `multicore-${++roomSeq}`, jobMetadata: JSON.stringify({ tenant }) },
    { withholdAssignment: true },
  ));
}

async function acceptedBy(calls: DispatchedCall[]): Promise<string[]> {
  const answers = await Promise.all(calls.map((c) => c.availability));
  return answers.filter((a) => a.available).map((a) => a.workerId ?? '?');
}

beforeAll(async () => {
  server = await DispatchServer.start({ apiKey, apiSecret });
  inspectDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'openrtc-workers-')), 'inspect');
  primary = spawn(process.execPath, [
    '--import', 'tsx', 'src/cli/main.ts', 'start', 'test/fixtures/multicore/pool.ts',
    '--workers', '2', '--metrics-port', '0', '--inspect-dir', inspectDir, '--drain-timeout-ms', '5000', '--log-level', 'info',
  ], { env: { ...process.env, LIVEKIT_URL: server.url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret, OPENRTC_REDIS_URL: '' } });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of [...outputWaiters]) check();
  };
  primary.stdout?.on('data', collect);
  primary.stderr?.on('data', collect);
  exited = new Promise((resolve) => primary.on('exit', (code) => resolve(code)));
  await server.waitFor(() => connectedWorkers().length === 2, 'two registered workers', 90_000);
}, 120_000);

afterAll(async () => {
  if (process.env.OPENRTC_TEST_DUMP) (await import('node:fs')).writeFileSync(process.env.OPENRTC_TEST_DUMP, output);
  if (primary.exitCode === null) primary.kill('SIGKILL');
  await server.close();
  await rm(path.dirname(inspectDir), { recursive: true, force: true });
});

describe('openrtc start --workers 2', () => {
  let acmeHeld: string[] = [];

  it('registers two agent workers, both listed by the inspector, deciding through the primary', async () => {
    const workers = await hostWorkers(2);
    expect(new Set(workers.map((w) => w.worker.pid)).size).toBe(2);
    for (const w of workers) expect(w.snapshot.stores.reservations).toMatchObject({ backend: 'primary', mode: 'shared' });
    // Each child serves /metrics of its own.
    expect(new Set(workers.map((w) => w.worker.metricsUrl)).size).toBe(2);
    // `openrtc top` shows both.
    const top = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'top', '--json', '--inspect-dir', inspectDir]);
    const view = JSON.parse(top.stdout) as { workers: { pid: number }[] };
    expect(view.workers.map((w) => w.pid).sort()).toEqual(workers.map((w) => w.worker.pid).sort());
    // Each child's log lines say which worker wrote them.
    await outputMatching(/"workerIndex":0[,}]/);
    await outputMatching(/"workerIndex":1[,}]/);
  }, 60_000);

  it('never lets a tenant capped at 3 take more than 3 slots across both, in a burst of 20', async () => {
    acmeHeld = await acceptedBy(burst('acme', 20));
    expect(acmeHeld).toHaveLength(3);
  }, 90_000);

  it('refuses a tenant on one worker once failures opened its breaker on the other', async () => {
    const [first, second] = connectedWorkers();
    // Not withheld: the session joins its room, which the stand-in has none of, and fails.
    const failing = [1, 2].map(() => server.dispatch({ roomName: `multicore-${++roomSeq}`, jobMetadata: JSON.stringify({ tenant: 'bad' }), workerId: first!.workerId }));
    expect(await acceptedBy(failing)).toEqual([first!.workerId, first!.workerId]);
    await outputMatching(/"tenant":"bad"[^\n]*"event":"breaker_transition","from":"closed","to":"open"/, 60_000);
    const elsewhere = server.dispatch({ roomName: `multicore-${++roomSeq}`, jobMetadata: JSON.stringify({ tenant: 'bad' }), workerId: second!.workerId });
    expect(await elsewhere.availability).toMatchObject({ available: false, workerId: second!.workerId });
    const other = (await hostWorkers(2)).find((w) => w.worker.workerId === second!.workerId);
    expect(other?.snapshot.tenants.bad?.rejectionsByReason).toMatchObject({ circuit_open: 1 });
  }, 90_000);

  it('frees the slots of a child killed with -9 and restarts it', async () => {
    const victimId = acmeHeld[0]!;
    const held = acmeHeld.filter((id) => id === victimId).length;
    const victim = (await hostWorkers(2)).find((w) => w.worker.workerId === victimId)!;
    const before = connectedWorkers().map((w) => w.workerId);
    process.kill(victim.worker.pid, 'SIGKILL');
    await outputMatching(new RegExp(`pid ${victim.worker.pid}\\) exited with signal SIGKILL; freed the ${held} session slots`), 60_000);
    await outputMatching(/restarting worker \d in (500|1000) ms/, 10_000);
    await server.waitForWorker({ exclude: before }, 90_000);
    await server.waitFor(() => connectedWorkers().length === 2, 'two connected workers again', 90_000);
    // Exactly the freed slots are free again, across both workers.
    expect(await acceptedBy(burst('acme', 20))).toHaveLength(held);
  }, 180_000);

  it('names a missing target before starting any worker process', async () => {
    const wrong = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', 'no/such/folder', '--workers', '2'], {
      env: { ...process.env, LIVEKIT_URL: server.url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(wrong).toMatchObject({ code: 1 });
    expect((wrong as { stderr: string }).stderr).toContain('start: "no/such/folder" is neither a folder of agents nor a pool module');
    expect((wrong as { stderr: string }).stderr).not.toContain('started 2 worker processes');
  }, 60_000);

  it('drains both children on SIGTERM and exits 0', async () => {
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGTERM received \(1\): passing it to 2 worker processes/);
    expect(output.match(/exited with code 0/g)).toHaveLength(2);
    expect(await readdir(inspectDir)).toEqual([]);
  }, 120_000);
});
