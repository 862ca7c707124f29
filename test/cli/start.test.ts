import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DispatchServer } from '../../src/testing/index.js';

const apiKey = 'cli-key';
const apiSecret = 'cli-secret-long-enough-for-the-hs256-signature';

let child: ChildProcess | undefined;
let server: DispatchServer | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await server?.close();
});

function startCli(args: string[], env: NodeJS.ProcessEnv): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env } });
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => output, exited };
}

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
    const worker = await server.waitForWorker({}, 20_000);
    expect(worker.version).toBeTruthy();

    const call = server.dispatch({ roomName: 'support-1', jobMetadata: JSON.stringify({ tenant: 'acme-corp' }) }, { withholdAssignment: true });
    const answer = await call.availability;
    expect(answer.available).toBe(true);
    expect(answer.participantAttributes).toMatchObject({ 'openrtc.tenant': 'acme-corp', 'openrtc.agent': 'support' });

    cli.proc.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain('worker_stopped');
  }, 40_000);

  it('names the problem when the target is missing', async () => {
    const cli = startCli(['start', 'no/such/folder'], { LIVEKIT_URL: 'http://127.0.0.1:9', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' });
    child = cli.proc;
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toContain('start: "no/such/folder" is neither a folder of agents nor a pool module');
  }, 20_000);
});
