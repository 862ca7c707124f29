import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentPool,
  type AgentPoolOptions,
  type BreakerPolicy,
  type BreakerTransitionEvent,
  type SessionOutcome,
  type TenantSnapshot,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, flush, refused } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

const POLICY: BreakerPolicy = { failureRatio: 0.5, minSamples: 4, windowMs: 10_000, cooldownMs: 5_000, halfOpenProbes: 1, probeTimeoutMs: 600_000 };

let clock: ManualClock;
let pool: AgentPool;
let transitions: BreakerTransitionEvent[];
let bystander: TenantSnapshot['breaker'] | undefined;

async function makePool(policy: Partial<BreakerPolicy> = POLICY, extra: AgentPoolOptions = {}): Promise<void> {
  clock = new ManualClock();
  pool = new AgentPool({ agent: SupportAgent, clock, enableTenantCircuitBreaker: true, circuitBreaker: policy, ...extra });
  transitions = [];
  pool.on('breakerTransition', (event) => transitions.push(event));
  // The bystander is admitted once so that it has a breaker; its state must never move.
  accepted(await pool.admit(call('healthy')));
  bystander = breakerOf('healthy');
  expect(bystander).toEqual({ state: 'closed', samples: 0, failures: 0, trips: 0 });
}

const breakerOf = (tenant: string) => pool.runtimeSnapshot().tenants[tenant]?.breaker;

/** Admits, starts and ends one session of `tenant`; returns whether it was a probe. */
async function session(tenant: string, outcome: SessionOutcome): Promise<boolean> {
  const ticket = accepted(await pool.admit(call(tenant)));
  ticket.markStarted(clock.now());
  await ticket.finish(outcome);
  expect(breakerOf('healthy'), 'the bystander tenant\'s breaker moved').toEqual(bystander);
  return ticket.probe;
}

async function sessions(tenant: string, outcomes: SessionOutcome[]): Promise<void> {
  for (const outcome of outcomes) await session(tenant, outcome);
}

const trip = () => sessions('acme', ['failed', 'failed', 'failed', 'success']);

beforeEach(() => makePool());

afterEach(() => {
  // A healthy tenant never inherits another's state.
  expect(breakerOf('healthy')).toEqual(bystander);
  expect(transitions.filter((t) => t.tenant === 'healthy')).toEqual([]);
});

describe('opening', () => {
  it('stays closed at a failure ratio equal to the threshold (2 of 4)', async () => {
    await sessions('acme', ['failed', 'success', 'failed', 'success']);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 4, failures: 2, trips: 0 });
    expect(transitions).toEqual([]);
    accepted(await pool.admit(call('acme')));
  });

  it('opens past the threshold with the minimum samples (3 of 4)', async () => {
    await sessions('acme', ['failed', 'failed', 'success']);
    expect(breakerOf('acme')?.state).toBe('closed');
    await session('acme', 'failed');
    expect(breakerOf('acme')).toEqual({ state: 'open', samples: 0, failures: 0, reopenAt: clock.now() + 5_000, trips: 1 });
    expect(transitions).toEqual([{ tenant: 'acme', from: 'closed', to: 'open', reason: 'failure_ratio', at: clock.now() }]);
  });

  it('does not open on fewer outcomes than minSamples, even all failed (3 of 3)', async () => {
    await sessions('acme', ['failed', 'failed', 'failed']);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 3, failures: 3, trips: 0 });
    accepted(await pool.admit(call('acme')));
    await session('acme', 'success'); // 3 of 4 now
    expect(breakerOf('acme')?.state).toBe('open');
  });

  it('forgets outcomes that left the window', async () => {
    await sessions('acme', ['failed', 'failed', 'failed']);
    clock.advance(POLICY.windowMs);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 0, failures: 0, trips: 0 });
    await sessions('acme', ['failed', 'success', 'success', 'success']);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 4, failures: 1, trips: 0 });
    // Failures spread wider than the window never add up to an open breaker.
    for (let i = 0; i < 6; i++) {
      await session('acme', 'failed');
      clock.advance(POLICY.windowMs / 2);
    }
    expect(breakerOf('acme')?.state).toBe('closed');
    expect(transitions).toEqual([]);
  });

  it('does not count cancelled sessions as failures or samples', async () => {
    await sessions('acme', ['failed', 'cancelled', 'cancelled', 'failed', 'cancelled', 'success']);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 3, failures: 2, trips: 0 });
    await session('acme', 'failed');
    expect(breakerOf('acme')?.state).toBe('open');
  });

  it('does not count calls whose assignment never came', async () => {
    await makePool(POLICY, { assignmentTimeoutMs: 1_000 });
    for (let i = 0; i < 5; i++) accepted(await pool.admit(call('acme')));
    clock.advance(1_000);
    expect(pool.liveTickets()).toEqual([]);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 0, failures: 0, trips: 0 });
  });
});

describe('open and half-open', () => {
  it('refuses with circuit_open while open, then admits one probe after the cooldown', async () => {
    await trip();
    const whileOpen = refused(await pool.admit(call('acme')), 'circuit_open');
    expect(whileOpen.message).toBe('circuit breaker for tenant "acme" is open; probes resume in 5 s');
    expect(whileOpen.tenant).toBe('acme');
    clock.advance(POLICY.cooldownMs - 1);
    refused(await pool.admit(call('acme')), 'circuit_open');
    // Other tenants are admitted all along.
    accepted(await pool.admit(call('healthy')));

    clock.advance(1);
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 0, trips: 1 });
    const probe = accepted(await pool.admit(call('acme')));
    expect(probe.probe).toBe(true);
    const extra = refused(await pool.admit(call('acme')), 'circuit_open');
    expect(extra.message).toBe('circuit breaker for tenant "acme" is half-open and its probe budget is in use');
    expect(pool.runtimeSnapshot().tenants.acme?.rejectionsByReason).toEqual({ circuit_open: 3 });
    expect(transitions.map((t) => `${t.from}->${t.to}:${t.reason}`)).toEqual([
      'closed->open:failure_ratio',
      'open->half_open:cooldown_elapsed',
    ]);
  });

  it('closes when the probe succeeds', async () => {
    await trip();
    clock.advance(POLICY.cooldownMs);
    expect(await session('acme', 'success')).toBe(true);
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 0, failures: 0, trips: 0 });
    accepted(await pool.admit(call('acme')));
    accepted(await pool.admit(call('acme')));
    expect(transitions.map((t) => t.reason)).toEqual(['failure_ratio', 'cooldown_elapsed', 'probe_succeeded']);
    expect(transitions.every((t) => t.tenant === 'acme')).toBe(true);
  });

  it('reopens for another cooldown when the probe fails', async () => {
    await trip();
    clock.advance(POLICY.cooldownMs);
    expect(await session('acme', 'failed')).toBe(true);
    expect(breakerOf('acme')).toEqual({ state: 'open', samples: 0, failures: 0, reopenAt: clock.now() + 5_000, trips: 2 });
    refused(await pool.admit(call('acme')), 'circuit_open');
    clock.advance(POLICY.cooldownMs);
    expect(await session('acme', 'success')).toBe(true);
    expect(breakerOf('acme')?.state).toBe('closed');
    expect(transitions.map((t) => `${t.from}->${t.to}:${t.reason}`)).toEqual([
      'closed->open:failure_ratio',
      'open->half_open:cooldown_elapsed',
      'half_open->open:probe_failed',
      'open->half_open:cooldown_elapsed',
      'half_open->closed:probe_succeeded',
    ]);
  });

  it('gives the probe slot back when the probe is cancelled or never assigned', async () => {
    await makePool(POLICY, { assignmentTimeoutMs: 1_000 });
    await trip();
    clock.advance(POLICY.cooldownMs);
    const cancelled = accepted(await pool.admit(call('acme')));
    cancelled.markStarted(clock.now());
    await cancelled.finish('cancelled');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 0 });

    accepted(await pool.admit(call('acme')));
    clock.advance(1_000); // assignment timeout
    await flush();
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 0 });

    const probe = accepted(await pool.admit(call('acme')));
    expect(probe.probe).toBe(true);
  });

  it('gives the probe slot back when a cap refuses the probe', async () => {
    // The unassigned `other` call must still hold its slot after the cooldown: the default
    // assignment timeout dropped from 15 s to 5 s (LiveKit assigns right after the accept),
    // shorter than this policy's cooldown, so the test now sets one that outlasts it.
    await makePool(POLICY, { maxConcurrentSessions: 3, assignmentTimeoutMs: 60_000 });
    const longCall = accepted(await pool.admit(call('acme')));
    longCall.markStarted(clock.now());
    await trip();
    const other = accepted(await pool.admit(call('globex'))); // the worker is now full
    clock.advance(POLICY.cooldownMs);
    refused(await pool.admit(call('acme')), 'global_cap');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 0 });

    await other.finish('cancelled');
    const probe = accepted(await pool.admit(call('acme')));
    expect(probe.probe).toBe(true);
    // A session admitted before the breaker opened does not decide the half-open breaker.
    await longCall.finish('failed');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 1 });
    probe.markStarted(clock.now());
    await probe.finish('success');
    expect(breakerOf('acme')?.state).toBe('closed');
  });

  it('admits exactly halfOpenProbes probes and closes after that many successes', async () => {
    await makePool({ ...POLICY, halfOpenProbes: 2 });
    await trip();
    clock.advance(POLICY.cooldownMs);
    const first = accepted(await pool.admit(call('acme')));
    const second = accepted(await pool.admit(call('acme')));
    refused(await pool.admit(call('acme')), 'circuit_open');
    for (const probe of [first, second]) probe.markStarted(clock.now());
    await first.finish('success');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 2 });
    await second.finish('success');
    expect(breakerOf('acme')?.state).toBe('closed');
  });

  it('refuses a burst of simultaneous calls while half-open except the probe', async () => {
    await trip();
    clock.advance(POLICY.cooldownMs);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => pool.admit(call('acme'))));
    expect(decisions.filter((d) => d.accepted)).toHaveLength(1);
    expect(decisions.filter((d) => !d.accepted && d.reason === 'circuit_open')).toHaveLength(9);
  });

  it('keeps a throwing transition listener from changing the decision', async () => {
    pool.on('breakerTransition', () => {
      throw new Error('listener bug');
    });
    await trip();
    refused(await pool.admit(call('acme')), 'circuit_open');
    expect(transitions).toHaveLength(1);
  });
});

describe('without the breaker', () => {
  it('admits a tenant whatever its outcomes and reports no breaker', async () => {
    const plain = new AgentPool({ agent: SupportAgent, clock: new ManualClock() });
    for (let i = 0; i < 10; i++) {
      const ticket = accepted(await plain.admit(call('acme')));
      ticket.markStarted(0);
      await ticket.finish('failed');
    }
    accepted(await plain.admit(call('acme')));
    expect(plain.runtimeSnapshot().tenants.acme?.breaker).toBeNull();
    expect(plain.breakerPolicy).toBeUndefined();
  });
});
