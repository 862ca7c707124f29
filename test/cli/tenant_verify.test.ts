import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli_context.js';

interface Report {
  kind: string;
  schemaVersion: number;
  tenant: string;
  passed: boolean;
  reason: string | null;
  items: { id: string; status: string; detail: string }[];
}

async function verify(tenant: string, pool: string, extra: string[] = []): Promise<{ code: number; report: Report; out: string; err: string }> {
  const json = await cli(['tenant', 'verify', tenant, '--pool', pool, '--json', ...extra]);
  return { code: json.code, report: JSON.parse(json.out) as Report, out: json.out, err: json.err };
}

describe('openrtc tenant verify (embedded stand-in server)', () => {
  it('passes every item for acme-corp on the demo pool, in text and JSON', async () => {
    const text = await cli(['tenant', 'verify', 'acme-corp', '--pool', 'examples/agency/demo_pool.ts', '--agent', 'support']);
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(text.out).toContain('PASS  call accepted and routed to the expected agent: accepted, agent "support"');
    expect(text.out).toContain('PASS  the tenant\'s own provider objects used: the session uses the tenant\'s own llm, tts');
    expect(text.out).toContain('acme-corp is ready to go live');
    expect(text.out).not.toMatch(/FAIL|SKIP/);
    // The tenant's keys never reach the screen.
    expect(text.out).not.toContain('acme-oa-demo-key');

    const { code, report } = await verify('acme-corp', 'examples/agency/demo_pool.ts');
    expect(code).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.items.map((i) => [i.id, i.status])).toEqual([
      ['accepted', 'pass'], ['inspector', 'pass'], ['providers', 'pass'], ['logs', 'pass'], ['snapshot', 'pass'], ['metrics', 'pass'], ['usage', 'pass'],
    ]);
  }, 90_000);

  it('fails with the reason for a tenant whose loader throws', async () => {
    const { code, report } = await verify('broken-co', 'test/fixtures/cli_pool/verify_pool.ts');
    expect(code).toBe(1);
    expect(report.passed).toBe(false);
    expect(report.items[0]).toMatchObject({ id: 'accepted', status: 'fail' });
    expect(report.reason).toContain('refused with config_error');
    expect(report.items.slice(1).every((i) => i.status === 'skipped')).toBe(true);
  }, 60_000);

  it('fails with the reason for a tenant over its cap', async () => {
    const { code, report, err } = await verify('full-co', 'test/fixtures/cli_pool/verify_pool.ts');
    expect(code).toBe(1);
    expect(report.reason).toContain('refused with tenant_cap: tenant "full-co" is at its cap of 1 sessions');
    expect(err).toBe('');
  }, 60_000);

  it('fails with the reason for a tenant whose breaker is open, and says so on stderr without --json', async () => {
    const { code, report } = await verify('tripped-co', 'test/fixtures/cli_pool/verify_pool.ts');
    expect(code).toBe(1);
    expect(report.reason).toContain('refused with circuit_open');
    const text = await cli(['tenant', 'verify', 'tripped-co', '--pool', 'test/fixtures/cli_pool/verify_pool.ts']);
    expect(text.code).toBe(1);
    expect(text.out).toContain('FAIL  call accepted and routed to the expected agent: refused with circuit_open');
    expect(text.err).toMatch(/^openrtc: tenant verify failed: call accepted and routed to the expected agent: refused with circuit_open/);
  }, 60_000);

  it('fails when the call reaches another agent than the one expected', async () => {
    const { code, report } = await verify('umbrella', 'examples/agency/demo_pool.ts', ['--agent', 'support']);
    expect(code).toBe(1);
    expect(report.reason).toContain('routed to agent "concierge", expected "support"');
  }, 60_000);

  it('needs a pool to host without LIVEKIT_URL, and refuses a malformed tenant id', async () => {
    const none = await cli(['tenant', 'verify', 'acme-corp']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('give it with --pool');
    const bad = await cli(['tenant', 'verify', 'acme corp', '--pool', 'examples/agency/demo_pool.ts']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('<tenant> must be a tenant id');
  });
});
