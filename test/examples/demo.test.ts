import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo (examples/agency/demo.ts)', () => {
  it('runs the agency against the embedded stand-in server and ends with a summary that matches the snapshot', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENRTC_METRICS_PORT: '0' };
    delete env.LIVEKIT_URL;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/agency/demo.ts'], { env, timeout: 60_000 });
    expect(stdout).toContain('the snapshot agrees: yes');
    expect(stdout).toMatch(/globex\s+2\s+2\s+0\s+0\s+tenant_cap:3\s+closed/);
    expect(stdout).toMatch(/initech\s+10\s+0\s+4\s+0\s+circuit_open:1\s+open/);
    expect(stdout).toMatch(/acme-corp\s+50\s+3\s+0\s+0\s+0\s+closed/);
    expect(stdout).toContain('refused call AJ_demo_005: invalid_tenant');
    expect(stdout).toContain('(breaker probe)');
    // The tenants' provider keys never reach the screen.
    expect(stdout).not.toMatch(/demo-key|revoked-key|umbrella-key/);
  }, 90_000);
});
