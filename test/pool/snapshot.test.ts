import { initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, SNAPSHOT_SCHEMA_VERSION } from '../../src/index.js';
import { FakeTTS, ManualClock } from '../../src/testing/index.js';
import { accepted, call, refused } from '../helpers/calls.js';
import { SalesAgent, SupportAgent } from '../helpers/test_agent.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const SECRET = 'sk-acme-SECRET';

async function busyPool() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const acme = {
    llm: new voice.testing.FakeLLM([{ input: 'hi', content: 'acme reply' }]),
    tts: new FakeTTS({ apiKey: SECRET, provider: 'acme-tts-provider', model: 'acme-voice' }),
  };
  const pool = new AgentPool({
    agents: { support: SupportAgent, sales: SalesAgent },
    clock,
    tenantConfig: { acme, globex: { llm: new voice.testing.FakeLLM() } },
    maxSessionsPerTenant: { acme: 4, initech: 1 },
    maxConcurrentSessions: 10,
    enableTenantCircuitBreaker: true,
    circuitBreaker: { minSamples: 2, failureRatio: 0.5 },
    deploymentVersion: 'v1.2.3',
  });
  clock.advance(90_000);

  const running = [
    accepted(await pool.admit(call('acme'))),
    accepted(await pool.admit(call('acme', { agent: 'sales' }))),
    accepted(await pool.admit(call('globex'))),
  ];
  for (const ticket of running) ticket.markStarted(clock.now());
  accepted(await pool.admit(call('acme'))); // reserved, awaiting assignment
  accepted(await pool.admit(call('initech')));
  refused(await pool.admit(call('initech')), 'tenant_cap');
  refused(await pool.admit(call('a b')), 'invalid_tenant');
  refused(await pool.admit(call('acme', { agent: 'nope' })), 'unknown_agent');
  for (const outcome of ['failed', 'failed'] as const) {
    const ticket = accepted(await pool.admit(call('umbrella')));
    ticket.markStarted(clock.now());
    await ticket.finish(outcome);
  }
  refused(await pool.admit(call('umbrella')), 'circuit_open');
  const done = accepted(await pool.admit(call('globex')));
  done.markStarted(clock.now());
  await done.finish('success');
  return { pool, clock };
}

describe('runtimeSnapshot()', () => {
  it('counts sessions, caps, utilization, breakers, rejections and totals', async () => {
    const { pool } = await busyPool();
    const snapshot = pool.runtimeSnapshot();
    expect(snapshot).toMatchObject({
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      takenAt: '2026-01-01T00:01:30.000Z',
      deploymentVersion: 'v1.2.3',
      uptimeMs: 90_000,
      draining: false,
      agents: ['support', 'sales'],
      maxConcurrentSessions: 10,
      activeSessions: 3,
      reservedSessions: 2,
      sessionsByTenant: { acme: 2, globex: 1 },
      sessionsByAgent: { support: 2, sales: 1 },
      rejectionsByReason: {
        invalid_tenant: 1, draining: 0, unknown_agent: 1, circuit_open: 1, tenant_cap: 1, global_cap: 0, config_error: 0,
        store_unavailable: 0, answer_timeout: 0,
      },
      totals: { admitted: 8, started: 6, succeeded: 1, failed: 2, cancelled: 0, expired: 0, rejected: 4 },
    });
    expect(Object.keys(snapshot.tenants)).toEqual(['acme', 'globex', 'initech', 'umbrella']);
    expect(snapshot.tenants.acme).toEqual({
      active: 2, reserved: 1, cap: 4, utilization: 0.75,
      breaker: { state: 'closed', samples: 0, failures: 0, trips: 0 },
      rejectionsByReason: { unknown_agent: 1 }, started: 2, succeeded: 0, failed: 0, cancelled: 0,
    });
    expect(snapshot.tenants.globex).toMatchObject({ active: 1, reserved: 0, cap: null, utilization: null, started: 2, succeeded: 1 });
    expect(snapshot.tenants.globex?.breaker).toEqual({ state: 'closed', samples: 1, failures: 0, trips: 0 });
    expect(snapshot.tenants.initech).toMatchObject({ active: 0, reserved: 1, cap: 1, utilization: 1, rejectionsByReason: { tenant_cap: 1 } });
    expect(snapshot.tenants.umbrella).toMatchObject({
      active: 0, failed: 2, rejectionsByReason: { circuit_open: 1 },
      breaker: { state: 'open', trips: 1, reopenAt: Date.UTC(2026, 0, 1) + 90_000 + 30_000 },
    });
  });

  it('is plain JSON: it round-trips through JSON unchanged', async () => {
    const { pool } = await busyPool();
    const snapshot = pool.runtimeSnapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(JSON.parse(JSON.stringify(snapshot))).toStrictEqual(JSON.parse(JSON.stringify(snapshot)));
  });

  it('holds no provider objects, keys or provider details', async () => {
    const { pool } = await busyPool();
    const snapshot = pool.runtimeSnapshot();
    const text = JSON.stringify(snapshot);
    for (const secret of [SECRET, 'acme-tts-provider', 'acme-voice', 'acme reply', 'fake-llm', 'room-']) {
      expect(text).not.toContain(secret);
    }
    const visit = (value: unknown): void => {
      if (value === null || typeof value !== 'object') {
        expect(['string', 'number', 'boolean', 'object']).toContain(typeof value);
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      expect(proto === Object.prototype || proto === Array.prototype, 'only plain objects and arrays').toBe(true);
      for (const child of Object.values(value)) visit(child);
    };
    visit(snapshot);
  });

  it('reports draining and is a fresh copy each time', async () => {
    const { pool } = await busyPool();
    const before = pool.runtimeSnapshot();
    pool.runtime.startDraining();
    const after = pool.runtimeSnapshot();
    expect(before.draining).toBe(false);
    expect(after.draining).toBe(true);
    after.totals.admitted = -1;
    after.rejectionsByReason.draining = -1;
    expect(pool.runtimeSnapshot().totals.admitted).toBe(8);
    expect(pool.runtimeSnapshot().rejectionsByReason.draining).toBe(0);
  });

  it('counts tenants and agents whose names are Object.prototype keys', async () => {
    const clock = new ManualClock();
    const pool = new AgentPool({ agents: { constructor: SupportAgent }, clock }).add('__proto__', SalesAgent);
    for (const [tenant, agent] of [['constructor', 'constructor'], ['__proto__', '__proto__'], ['toString', 'constructor']]) {
      accepted(await pool.admit(call(tenant, { agent }))).markStarted(clock.now());
    }
    const snapshot = JSON.parse(JSON.stringify(pool.runtimeSnapshot())) as ReturnType<AgentPool['runtimeSnapshot']>;
    // Written with fromEntries: in an object literal `__proto__` would set the prototype.
    expect(Object.entries(snapshot.sessionsByTenant).sort()).toEqual([['__proto__', 1], ['constructor', 1], ['toString', 1]]);
    expect(Object.entries(snapshot.sessionsByAgent).sort()).toEqual([['__proto__', 1], ['constructor', 2]]);
    expect(Object.keys(snapshot.tenants).sort()).toEqual(['__proto__', 'constructor', 'toString']);
  });
});
