import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/pool/agent_pool.js';
import { decidePretenuring } from '../../src/worker/v8_pretenuring.js';
import { harnessPerTest } from '../helpers/worker_harness.js';
import { SupportAgent } from '../helpers/test_agent.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('../fixtures/pretenuring_probe.ts', import.meta.url));

/**
 * Runs the probe in a fresh Node with V8's pretenuring trace on. V8 prints a line for every
 * allocation site it weighs after a collection; with pretenuring off it weighs none. (Whether
 * it then decides to tenure depends on where the collections fall, so the test counts the
 * weighing, not the verdicts.)
 */
function probe(option: 'default' | 'keep' | 'off', { nodeFlags = [] as string[], env = '' } = {}) {
  const run = spawnSync(process.execPath, ['--trace-pretenuring-statistics', ...nodeFlags, '--import', 'tsx', PROBE, option], {
    cwd: ROOT,
    env: { ...process.env, OPENRTC_V8_PRETENURING: env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const result = /^PROBE (.*)$/m.exec(run.stdout);
  if (run.status !== 0 || !result) throw new Error(`probe failed (${run.status}): ${run.stderr.slice(-2000)}`);
  return {
    decision: JSON.parse(result[1] ?? '{}') as { turnOff: boolean; reason: string },
    weighed: run.stdout.split('\n').filter((line) => line.includes('pretenuring: AllocationSite')).length,
  };
}

describe('V8 allocation-site pretenuring in a worker process', () => {
  it('is turned off by default, and kept when the option, the environment or a node flag asks for it', () => {
    expect(decidePretenuring(undefined, [], undefined)).toEqual({ turnOff: true, reason: 'default' });
    expect(decidePretenuring(undefined, [], '')).toEqual({ turnOff: true, reason: 'default' });
    expect(decidePretenuring(false, [], 'on')).toEqual({ turnOff: true, reason: 'option' });
    expect(decidePretenuring(true, [], undefined)).toEqual({ turnOff: false, reason: 'option' });
    expect(decidePretenuring(undefined, [], 'ON')).toEqual({ turnOff: false, reason: 'env' });
    expect(decidePretenuring(undefined, [], 'off')).toEqual({ turnOff: true, reason: 'env' });
    // The operator's own node flag, either way and in either spelling, wins over both.
    for (const flag of ['--allocation-site-pretenuring', '--no-allocation-site-pretenuring', '--allocation_site_pretenuring', '--allocation-site-pretenuring=true']) {
      expect(decidePretenuring(false, ['--max-old-space-size=512', flag], 'off')).toEqual({ turnOff: false, reason: 'node flag' });
    }
    // A flag that merely starts alike is not the pretenuring flag.
    expect(decidePretenuring(undefined, ['--allocation-site-pretenuring-extra'], undefined).turnOff).toBe(true);
  });

  it('names the option or variable and the rule when the value is wrong', () => {
    expect(() => decidePretenuring('off', [], undefined)).toThrow(/v8Pretenuring.*must be true .* or false/);
    expect(() => decidePretenuring(undefined, [], 'keep')).toThrow(/OPENRTC_V8_PRETENURING.*must be on .* or off/);
  });

  it('stops V8 pretenuring in a real process, unless kept', () => {
    const kept = probe('keep');
    expect(kept.decision).toMatchObject({ turnOff: false, reason: 'option' });
    // The control: left alone, V8 weighs this workload's sites for pretenuring.
    expect(kept.weighed).toBeGreaterThan(0);

    const byDefault = probe('default');
    expect(byDefault.decision).toMatchObject({ turnOff: true, reason: 'default' });
    expect(byDefault.weighed).toBe(0);

    // node's own flag on the command line leaves V8 as the operator set it, over the option.
    const operator = probe('off', { nodeFlags: ['--allocation-site-pretenuring'] });
    expect(operator.decision).toMatchObject({ turnOff: false, reason: 'node flag' });
    expect(operator.weighed).toBeGreaterThan(0);

    const byEnv = probe('default', { env: 'on' });
    expect(byEnv.decision).toMatchObject({ turnOff: false, reason: 'env' });
    expect(byEnv.weighed).toBeGreaterThan(0);
  });
});

describe('the worker applies the choice when it starts', () => {
  const startHarness = harnessPerTest();

  it('logs pretenuring off at registration', async () => {
    const harness = await startHarness({ observe: true });
    const registered = harness.logs.find((record) => record.event === 'worker_registered');
    expect(registered?.v8Pretenuring).toBe('off');
    expect(registered?.v8PretenuringBy).toBe('default');
  });

  it('refuses a bad v8Pretenuring before it connects anywhere', async () => {
    const pool = new AgentPool({ agent: SupportAgent });
    const start = () =>
      pool.start({ url: 'ws://127.0.0.1:9', apiKey: 'k', apiSecret: 's', telemetry: false, inspect: false, v8Pretenuring: 'off' as unknown as boolean });
    await expect(start()).rejects.toThrow(/v8Pretenuring.*must be true/);
    // No worker was kept: a second try fails on the option again, not on "already runs a worker".
    await expect(start()).rejects.toThrow(/v8Pretenuring.*must be true/);
  });
});
