import { initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, type AgentPoolOptions, type ConfigLoadEvent, type TenantConfigLoader, type TenantProviders } from '../../src/index.js';
import { FakeTTS, ManualClock } from '../../src/testing/index.js';
import { TenantConfigResolver } from '../../src/tenancy/tenant_config.js';
import { scrubSecrets } from '../../src/util/secret_scrubber.js';
import { accepted, call, flush, refused } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

function providers(label: string): TenantProviders {
  return { llm: new voice.testing.FakeLLM([{ input: 'hi', content: label }]), tts: new FakeTTS({ apiKey: `key-${label}` }) };
}

function setup(loader: TenantConfigLoader, extra: AgentPoolOptions = {}) {
  const clock = new ManualClock();
  const events: ConfigLoadEvent[] = [];
  const pool = new AgentPool({ agent: SupportAgent, clock, tenantConfig: loader, tenantConfigTtlMs: 60_000, tenantConfigTimeoutMs: 2_000, ...extra });
  pool.on('configLoad', (event) => events.push(event));
  return { clock, pool, events };
}

describe('tenantConfig loader', () => {
  it('reuses an answer until the TTL, then picks up a rotated key', async () => {
    let version = 1;
    const answers = new Map<number, TenantProviders>([[1, providers('acme-v1')], [2, providers('acme-v2')]]);
    let loads = 0;
    const { clock, pool, events } = setup((tenant) => {
      loads++;
      expect(tenant).toBe('acme');
      return answers.get(version);
    });
    expect(accepted(await pool.admit(call('acme'))).tenantProviders).toBe(answers.get(1));
    version = 2; // the key is rotated in the database
    clock.advance(59_999);
    expect(accepted(await pool.admit(call('acme'))).tenantProviders).toBe(answers.get(1));
    expect(loads).toBe(1);
    clock.advance(1);
    expect(accepted(await pool.admit(call('acme'))).tenantProviders).toBe(answers.get(2));
    expect(loads).toBe(2);
    expect(events.map((e) => e.result)).toEqual(['loaded', 'cache_hit', 'loaded']);
  });

  it('evicts expired answers: the cache holds only tenants loaded within the last two TTLs', async () => {
    const clock = new ManualClock();
    const resolver = new TenantConfigResolver({ source: () => null, ttlMs: 60_000, timeoutMs: 2_000, clock });
    for (let i = 0; i < 1_000; i++) await resolver.resolve(`one-call-${i}`);
    expect(resolver.cachedTenants).toBe(1_000);
    clock.advance(60_000);
    await resolver.resolve('later');
    expect(resolver.cachedTenants).toBe(1);
    // Within one TTL the cache is swept at most once; by two TTLs everything expired is gone.
    for (let i = 0; i < 100; i++) {
      clock.advance(1_000);
      await resolver.resolve(`steady-${i}`);
    }
    expect(resolver.cachedTenants).toBeLessThanOrEqual(101);
    clock.advance(120_000);
    await resolver.resolve('last');
    expect(resolver.cachedTenants).toBe(1);
  });

  it('never keeps an expired answer when the reload fails', async () => {
    const clock = new ManualClock();
    let fail = false;
    const answer = providers('acme');
    const resolver = new TenantConfigResolver({
      source: () => {
        if (fail) throw new Error('database down');
        return answer;
      },
      ttlMs: 60_000, timeoutMs: 2_000, clock,
    });
    expect(await resolver.resolve('acme')).toBe(answer);
    fail = true;
    clock.advance(60_000);
    await expect(resolver.resolve('acme')).rejects.toThrow(/database down/);
    expect(resolver.cachedTenants).toBe(0);
  });

  it('shares one load among 50 concurrent first calls', async () => {
    let loads = 0;
    let release: (value: TenantProviders) => void = () => {};
    const acme = providers('acme');
    const { pool } = setup(() => {
      loads++;
      return new Promise<TenantProviders>((resolve) => (release = resolve));
    });
    const pending = Array.from({ length: 50 }, () => pool.admit(call('acme')));
    await flush();
    release(acme);
    const decisions = await Promise.all(pending);
    expect(loads).toBe(1);
    expect(decisions.every((d) => d.accepted && d.ticket.tenantProviders === acme)).toBe(true);
  });

  it('loads each tenant separately', async () => {
    const loaded: string[] = [];
    const { pool } = setup((tenant) => {
      loaded.push(tenant);
      return providers(tenant);
    });
    await Promise.all(['acme', 'globex', 'acme', 'globex'].map((t) => pool.admit(call(t))));
    expect(loaded.sort()).toEqual(['acme', 'globex']);
  });

  it('refuses with config_error when the loader hangs past the timeout', async () => {
    const { clock, pool, events } = setup(() => new Promise<never>(() => {}));
    const pending = pool.admit(call('acme'));
    await flush();
    clock.advance(1_999);
    await flush();
    clock.advance(1);
    const decision = refused(await pending, 'config_error');
    expect(decision.message).toBe('tenantConfig loader for tenant "acme" did not settle within 2000 ms');
    expect(decision.tenant).toBe('acme');
    expect(events).toEqual([
      { tenant: 'acme', result: 'timeout', durationMs: 2_000, message: 'tenantConfig loader for tenant "acme" did not settle within 2000 ms' },
    ]);
    expect(pool.runtimeSnapshot().tenants.acme?.rejectionsByReason).toEqual({ config_error: 1 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a throwing loader with config_error and never serves another tenant\'s objects', async () => {
    const globex = providers('globex');
    let failAcme = true;
    const { pool, events } = setup((tenant) => {
      if (tenant === 'globex') return globex;
      if (failAcme) throw new Error('row locked');
      return null;
    });
    expect(accepted(await pool.admit(call('globex'))).tenantProviders).toBe(globex);
    const decision = refused(await pool.admit(call('acme')), 'config_error');
    expect(decision.message).toBe('tenantConfig loader failed for tenant "acme": row locked');
    expect(pool.liveTickets().map((t) => [t.tenant, t.tenantProviders])).toEqual([['globex', globex]]);
    expect(events.at(-1)).toMatchObject({ tenant: 'acme', result: 'error', message: 'tenantConfig loader failed for tenant "acme": row locked' });
    // A failure is not cached: the next call loads again.
    failAcme = false;
    expect(accepted(await pool.admit(call('acme'))).tenantProviders).toBeNull();
  });

  it('refuses a rejecting async loader and a loader that throws a non-Error', async () => {
    const rejecting = setup(() => Promise.reject(new Error('timeout talking to db')));
    expect(refused(await rejecting.pool.admit(call('acme')), 'config_error').message).toBe(
      'tenantConfig loader failed for tenant "acme": timeout talking to db',
    );
    const throwsString = setup(() => {
      throw 'nope'; // eslint-disable-line @typescript-eslint/only-throw-error
    });
    expect(refused(await throwsString.pool.admit(call('acme')), 'config_error').message).toBe(
      'tenantConfig loader failed for tenant "acme": "nope"',
    );
  });

  it('uses the pool defaults when the loader answers null or undefined', async () => {
    const defaultLlm = new voice.testing.FakeLLM();
    const defaultTts = new FakeTTS();
    const { pool } = setup((tenant) => (tenant === 'acme' ? null : undefined), { llm: defaultLlm, tts: defaultTts });
    for (const tenant of ['acme', 'globex']) {
      const ticket = accepted(await pool.admit(call(tenant)));
      expect(ticket.tenantProviders).toBeNull();
      const { session, agent } = await pool.runtime.buildSession(ticket);
      expect(session.llm).toBe(defaultLlm);
      expect(session.tts).toBe(defaultTts);
      expect(agent.llm).toBeUndefined();
    }
  });

  it('refuses junk answers with config_error naming the rule', async () => {
    const junk: [unknown, string][] = [
      [{ prompt: 'x' }, 'has unknown key "prompt" (allowed: stt, llm, tts, voiceGatewayKey; prompts belong in an Agent subclass chosen by a router)'],
      ['gpt-4o', 'must be an object with optional stt, llm and tts provider objects, got a string'],
      [[providers('a').llm], 'must be an object with optional stt, llm and tts provider objects, got an array'],
      [{ llm: 'gpt-4o' }, 'key "llm" must be a provider object, got a string'],
      // A malformed virtual key is named by its rule, never echoed.
      [{ voiceGatewayKey: 'vk_short-but-secret' }, 'key "voiceGatewayKey" must be a voicegateway virtual key ("vk_" and 32 base32 characters)'],
    ];
    for (const [answer, rule] of junk) {
      const { pool } = setup(() => answer as TenantProviders);
      const decision = refused(await pool.admit(call('acme')), 'config_error');
      expect(decision.message).toBe(`tenantConfig loader result for tenant "acme" ${rule}`);
    }
  });
});

describe('tenantConfig loader and draining', () => {
  it('refuses with draining when draining starts while the loader runs', async () => {
    let release: (value: TenantProviders) => void = () => {};
    const { pool } = setup(() => new Promise<TenantProviders>((resolve) => (release = resolve)));
    const pending = pool.admit(call('acme'));
    await flush();
    pool.runtime.startDraining();
    release(providers('acme'));
    expect(refused(await pending, 'draining').tenant).toBe('acme');
    expect(pool.liveTickets()).toEqual([]);
  });
});

describe('static tenantConfig', () => {
  it('gives listed tenants their objects and others the defaults', async () => {
    const acme = providers('acme');
    const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock(), tenantConfig: { acme } });
    expect(accepted(await pool.admit(call('acme'))).tenantProviders).toBe(acme);
    expect(accepted(await pool.admit(call('globex'))).tenantProviders).toBeNull();
    // Keys of Object.prototype are not tenants.
    expect(accepted(await pool.admit(call('constructor'))).tenantProviders).toBeNull();
    expect(Object.keys(pool.runtimeSnapshot().tenants)).toContain('acme');
  });
});

describe('tenant keys in the scrubber', () => {
  it('keeps a retired tenant\'s keys while its answer is cached, and lets go once it is swept', async () => {
    const clock = new ManualClock();
    const resolver = new TenantConfigResolver({
      source: () => ({ llm: Object.assign(new voice.testing.FakeLLM([]), { opts: { apiKey: 'resolver-key-0123456789' } }) }),
      ttlMs: 10_000,
      timeoutMs: 1_000,
      clock,
    });
    const line = 'error: resolver-key-0123456789';
    await resolver.resolve('acme');
    expect(scrubSecrets(line)).toBe('error: [redacted]');
    resolver.releaseTenant('acme'); // retired by the pool, but a new call could still get the cached answer
    resolver.evictExpired();
    expect(scrubSecrets(line)).toBe('error: [redacted]');
    clock.advance(10_000);
    resolver.evictExpired();
    expect(scrubSecrets(line)).toBe(line);
  });
});
