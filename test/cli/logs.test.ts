import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { cli, testContext } from '../helpers/cli_context.js';

const record = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 9, 30, 5, 120), pid: 1, hostname: 'h', ...fields });
const LOG = [
  record({ msg: 'openrtc worker registered', event: 'worker_registered' }),
  record({ tenant: 'acme-corp', agent: 'support', jobId: 'AJ_1', sessionId: 'AJ_1', trace_id: 'abcdef0123456789', msg: 'session started' }),
  record({ level: 50, tenant: 'globex', agent: 'support', jobId: 'AJ_2', sessionId: 'AJ_2', msg: 'session failed', detail: 'turn failed' }),
  'not a json line',
  record({ tenant: 'acme-corp', agent: 'support', jobId: 'AJ_3', sessionId: 'AJ_3', msg: 'session ended', outcome: 'success' }),
].join('\n');

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'openrtc-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openrtc logs', () => {
  it('pretty-prints every record of a file, and passes other lines through', async () => {
    await writeFile(path.join(dir, 'w.log'), `${LOG}\n`);
    const { code, out } = await cli(['logs', path.join(dir, 'w.log')]);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      '09:30:05.120 INFO  openrtc worker registered event=worker_registered',
      '09:30:05.120 INFO  [acme-corp/support/AJ_1] session started trace=abcdef01',
      '09:30:05.120 ERROR [globex/support/AJ_2] session failed detail=turn failed',
      'not a json line',
      '09:30:05.120 INFO  [acme-corp/support/AJ_3] session ended outcome=success',
      '',
    ]);
  });

  it('--tenant and --session keep only matching records; - reads stdin', async () => {
    const tenant = await cli(['logs', '-', '--tenant', 'acme-corp'], { stdin: LOG });
    expect(tenant.out.trim().split('\n').map((l) => l.match(/AJ_\d/)?.[0])).toEqual(['AJ_1', 'AJ_3']);
    const session = await cli(['logs', '--session', 'AJ_2', '--raw'], { stdin: LOG });
    expect(session.out).toBe(`${LOG.split('\n')[2]}\n`);
  });

  it('refuses a malformed --tenant and --follow on stdin, and names a missing file', async () => {
    expect((await cli(['logs', '-', '--tenant', 'acme corp'])).err).toContain('--tenant must be a tenant id');
    expect((await cli(['logs', '-', '--follow'])).err).toContain('--follow needs a file');
    const missing = await cli(['logs', path.join(dir, 'nope.log')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('openrtc: logs: cannot read the log: ENOENT\n');
  });

  it('--follow prints what is appended until stopped', async () => {
    const file = path.join(dir, 'follow.log');
    await writeFile(file, `${LOG.split('\n')[1]}\n`);
    const stop = new AbortController();
    const ctx = testContext({ signal: stop.signal });
    const running = runCli(['logs', file, '--follow', '--tenant', 'acme-corp'], ctx);
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && !ctx.out().includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      return ctx.out();
    };
    expect(await waitFor('session started')).toContain('[acme-corp/support/AJ_1] session started');
    await appendFile(file, `${LOG.split('\n')[2]}\n${LOG.split('\n')[4]}\n`);
    expect(await waitFor('session ended')).toContain('[acme-corp/support/AJ_3] session ended');
    stop.abort();
    expect(await running).toBe(0);
    expect(ctx.out()).not.toContain('globex');
  });
});
