import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listHostWorkers } from '../../src/inspect/inspector_client.js';

// A real terminal: tmux runs `openrtc top --tenant acme-corp` against a live worker (the
// demo pool under `openrtc dev`, with held simulated calls of three tenants) and this
// test reads the screen tmux shows, then presses q.
const tmuxServer = `openrtc-test-${process.pid}`;
let root = '';
let inspectDir = '';
let worker: ChildProcess | undefined;

/** Polls an async check every 200 ms until it gives a truthy value. */
async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', tmuxServer, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'top');

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'openrtc-tmux-'));
  inspectDir = path.join(root, 'inspect');
  worker = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'dev', 'examples/agency/demo_pool.ts', '--calls', '7', '--tenants', 'acme-corp,umbrella,globex',
      '--hold', '--metrics-port', '0', '--inspect-dir', inspectDir, '--log-level', 'warn'],
    { stdio: 'ignore', env: { ...process.env, LIVEKIT_URL: '' } },
  );
  // 7 calls over three tenants: acme-corp 3, umbrella 2, globex 2 (its cap); each answers both turns.
  await eventually(async () => {
    const [state] = (await listHostWorkers(inspectDir).catch(() => ({ workers: [] }))).workers;
    return state && state.sessions.length === 7 && state.sessions.every((s) => s.turns === 2 && s.lastLatencyMs !== null);
  }, 'the dev worker to hold 7 answered calls', 90_000);
}, 120_000);

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // Already gone.
  }
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => {
      const timer = setTimeout(() => { worker?.kill('SIGKILL'); resolve(undefined); }, 15_000);
      worker?.once('exit', () => { clearTimeout(timer); resolve(undefined); });
    });
  }
  await rm(root, { recursive: true, force: true });
});

describe('openrtc top in a real terminal', () => {
  it('shows only acme-corp\'s live sessions, as many as the snapshot counts, and quits with 0 on q', async () => {
    const exitFile = path.join(root, 'exit-code');
    // An operator's terminal, not CI: Ink draws only the last frame when CI is set (as .ci/run sets it).
    const command = `env -u CI -u CONTINUOUS_INTEGRATION node --import tsx src/cli/main.ts top --tenant acme-corp --inspect-dir ${inspectDir} --interval-ms 500; echo $? > ${exitFile}; sleep 60`;
    tmux('new-session', '-d', '-s', 'top', '-x', '110', '-y', '40', '-c', process.cwd(), command);

    const shown = await eventually(() => {
      const text = screen();
      return text.includes('sessions shown:') && text.includes('AJ_dev_') ? text : undefined;
    }, 'top to draw its first screen', 60_000);
    const [state] = (await listHostWorkers(inspectDir)).workers;
    const acme = state!.snapshot.sessionsByTenant['acme-corp'];
    expect(acme).toBe(3);

    const rows = shown.split('\n').filter((line) => /AJ_dev_\d+/.test(line));
    expect(rows).toHaveLength(acme!);
    for (const line of rows) expect(line).toMatch(/^acme-corp\s+support\s+AJ_dev_\d+/);
    expect(shown).toContain(`filter: tenant=acme-corp   sessions shown: ${acme}`);
    expect(shown).toMatch(new RegExp(`acme-corp\\s+${acme}/50 closed`));
    for (const other of ['umbrella', 'globex', 'initech']) expect(shown).not.toContain(other);

    tmux('send-keys', '-t', 'top', 'q');
    const code = await eventually(() => readFile(exitFile, 'utf8').then((t) => t.trim(), () => undefined), 'top to exit after q', 20_000);
    expect(code).toBe('0');
  }, 120_000);
});
