import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DispatchServer } from '../../src/testing/index.js';
import { compileCli } from '../helpers/compiled_cli.js';

const apiKey = 'cli-key';
const apiSecret = 'cli-secret-long-enough-for-the-hs256-signature';

let child: ChildProcess | undefined;
let server: DispatchServer | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await server?.close();
});

function startCli(args: string[], env: NodeJS.ProcessEnv, entry: string[] = ['--import', 'tsx', 'src/cli/main.ts']): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const proc = spawn(process.execPath, [...entry, ...args], { env: { ...process.env, ...env } });
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => output, exited };
}

let compiledMain = '';
let buildDir = '';
let inspectDir = '';

beforeAll(async () => {
  buildDir = await mkdtemp(path.join(process.cwd(), 'node_modules', '.openrtc-cli-build-'));
  compiledMain = await compileCli(path.join(buildDir, 'dist'));
  inspectDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'openrtc-start-')), 'inspect');
}, 90_000);

afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
  await rm(path.dirname(inspectDir), { recursive: true, force: true });
});

describe('openrtc start', () => {
  it('hosts a folder of agents as a worker, admits calls with the tenant in the attributes, and drains on SIGTERM with exit 0', async () => {
    server = await DispatchServer.start({ apiKey, apiSecret });
    const cli = startCli(['start', 'test/fixtures/cli_agents', '--metrics-port', '0', '--drain-timeout-ms', '5000'], {
      LIVEKIT_URL: server.url,
      LIVEKIT_API_KEY: apiKey,
      LIVEKIT_API_SECRET: apiSecret,
      LOG_LEVEL: 'info',
    });
    child = cli.proc;
    const worker = await server.waitForWorker({}, 45_000);
    expect(worker.version).toBeTruthy();

    const call = server.dispatch({ roomName: 'support-1', jobMetadata: JSON.stringify({ tenant: 'acme-corp' }) }, { withholdAssignment: true });
    const answer = await call.availability;
    expect(answer.available).toBe(true);
    expect(answer.participantAttributes).toMatchObject({ 'openrtc.tenant': 'acme-corp', 'openrtc.agent': 'support' });

    cli.proc.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain('worker_stopped');
  }, 90_000);

  it('runs a pool module, via its own function, from the compiled CLI without a TypeScript loader in the process', async () => {
    server = await DispatchServer.start({ apiKey, apiSecret });
    const cli = startCli(
      ['start', 'test/fixtures/cli_pool/pool.ts', '--metrics-port', '0', '--max-sessions', '3', '--tenant-cap', 'globex=1', '--inspect-dir', inspectDir],
      { LIVEKIT_URL: server.url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret },
      [compiledMain],
    );
    child = cli.proc;
    await server.waitForWorker({}, 45_000);
    // Caps from the flags reached the pool the module built: globex's second call is refused.
    const first = server.dispatch({ roomName: 'support-1', jobMetadata: JSON.stringify({ tenant: 'globex' }) }, { withholdAssignment: true });
    expect((await first.availability).available).toBe(true);
    const second = server.dispatch({ roomName: 'support-2', jobMetadata: JSON.stringify({ tenant: 'globex' }) }, { withholdAssignment: true });
    expect((await second.availability).available).toBe(false);
    // The worker opened its inspector socket in the folder it was given.
    expect((await readdir(inspectDir)).filter((f) => f.endsWith('.sock'))).toHaveLength(1);
    cli.proc.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(await readdir(inspectDir)).toEqual([]);
  }, 90_000);

  it('names the problem when the target is missing', async () => {
    const cli = startCli(['start', 'no/such/folder'], { LIVEKIT_URL: 'http://127.0.0.1:9', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' });
    child = cli.proc;
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toContain('start: "no/such/folder" is neither a folder of agents nor a pool module');
  }, 90_000);
});
