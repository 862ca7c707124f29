import { describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/index.js';
import { ManualClock, ScriptedLLM } from '../../src/testing/index.js';
import { scrubSecrets, secretScrubber } from '../../src/util/secret_scrubber.js';
import { accepted, call, flush } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

const ONE_CALL_TENANTS = 20_000;
const RETENTION_MS = 60_000;
const TTL_MS = 30_000;

/** The key a tenant's loader answer carries; `generation` counts the loads (rotations). */
const keyOf = (tenant: string, generation: number) => `key-${tenant}-gen${generation}-0123456789`;

describe('the scrubber holds a bounded set of tenant keys', () => {
  it(`lets go of ${ONE_CALL_TENANTS} retired tenants' keys and keeps a live session's rotated keys`, async () => {
    const clock = new ManualClock();
    const loads = new Map<string, number>();
    const pool = new AgentPool({
      agent: SupportAgent,
      clock,
      tenantConfigTtlMs: TTL_MS,
      tenantConfig: (tenant) => {
        const generation = (loads.get(tenant) ?? 0) + 1;
        loads.set(tenant, generation);
        // Like plugins whose options are public (`opts.apiKey`): the scrubber can read the key.
        return { llm: Object.assign(new ScriptedLLM(), { opts: { apiKey: keyOf(tenant, generation) } }) };
      },
    });
    const baseline = secretScrubber().size;

    // A live session with its first keys, then a rotation while it is still live.
    const live = accepted(await pool.admit(call('live')));
    live.markStarted(clock.now());
    clock.advance(TTL_MS + 1);
    const second = accepted(await pool.admit(call('live')));
    second.markStarted(clock.now());
    await second.finish('success');

    for (let i = 0; i < ONE_CALL_TENANTS; i++) {
      const ticket = accepted(await pool.admit(call(`t-${i}`)));
      ticket.markStarted(clock.now());
      await ticket.finish('success');
      clock.advance(5);
    }
    expect(secretScrubber().size).toBeGreaterThan(baseline + ONE_CALL_TENANTS / 2);
    // Past two retention windows and two TTLs: every one-call tenant is retired and its
    // answer swept from the cache.
    for (let i = 0; i < 4; i++) {
      clock.advance(RETENTION_MS);
      pool.runtimeSnapshot();
      await flush();
    }
    // Left: the live tenant's two generations; nothing of the one-call tenants.
    expect(secretScrubber().size).toBe(baseline + 2);
    // A retired tenant's key is no longer known (shown here, in a test, on purpose).
    expect(scrubSecrets(`401 invalid api key ${keyOf('t-7', 1)}`)).toContain(keyOf('t-7', 1));
    // The live session still uses its first keys: an error naming them is still scrubbed.
    expect(scrubSecrets(`401 Unauthorized: ${keyOf('live', 1)} / ${keyOf('live', 2)}`)).toBe(
      '401 Unauthorized: [redacted] / [redacted]',
    );

    // Once the live session ends and the tenant is retired, its keys go too.
    await live.finish('success');
    for (let i = 0; i < 4; i++) {
      clock.advance(RETENTION_MS);
      pool.runtimeSnapshot();
      await flush();
    }
    expect(secretScrubber().size).toBe(baseline);
  }, 120_000);
});
