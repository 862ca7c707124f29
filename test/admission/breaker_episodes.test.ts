// Half-open episodes and store failures during admission, through the pool's public API on a
// ManualClock: a probe belongs to the half-open period that admitted it, and a store that
// throws while deciding refuses the call cleanly.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ATTR_DECISION,
  ATTR_JOB_ID,
  ATTR_REASON,
  type AdmissionEvent,
  AgentPool,
  type AgentPoolOptions,
  type AdmissionTicket,
  type BreakerPolicy,
  type BreakerStore,
  type BreakerTransitionEvent,
  InMemoryBreakerStore,
  InMemoryReservationStore,
  type ReservationStore,
  SPAN_ADMISSION,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, refused } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

const POLICY: BreakerPolicy = { failureRatio: 0.5, minSamples: 4, windowMs: 10_000, cooldownMs: 5_000, halfOpenProbes: 2, probeTimeoutMs: 600_000 };

const spans = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});

let clock: ManualClock;
let pool: AgentPool;
let transitions: BreakerTransitionEvent[];
let admissions: AdmissionEvent[];

function makePool(extra: Partial<AgentPoolOptions> = {}): void {
  clock = new ManualClock();
  pool = new AgentPool({ agent: SupportAgent, clock, enableTenantCircuitBreaker: true, circuitBreaker: POLICY, ...extra });
  transitions = [];
  admissions = [];
  pool.on('breakerTransition', (event) => transitions.push(event));
  pool.on('admission', (event) => admissions.push(event));
}

beforeEach(() => {
  spans.reset();
  makePool();
});

const breakerOf = (tenant: string) => pool.runtimeSnapshot().tenants[tenant]?.breaker;
const path = () => transitions.map((t) => `${t.from}->${t.to}:${t.reason}`);

async function started(tenant: string): Promise<AdmissionTicket> {
  const ticket = accepted(await pool.admit(call(tenant)));
  ticket.markStarted(clock.now());
  return ticket;
}

async function trip(tenant: string): Promise<void> {
  for (const outcome of ['failed', 'failed', 'failed', 'success'] as const) await (await started(tenant)).finish(outcome);
  expect(breakerOf(tenant)?.state).toBe('open');
}

/**
 * Leaves `acme` in its second half-open period with both probe slots taken by new probes,
 * and returns the first period's probe that is still running (the stale one).
 */
async function secondEpisodeWithStaleProbe(): Promise<{ stale: AdmissionTicket; fresh: AdmissionTicket[] }> {
  await trip('acme');
  clock.advance(POLICY.cooldownMs);
  const stale = await started('acme');
  const doomed = await started('acme');
  expect([stale.probe, doomed.probe]).toEqual([true, true]);
  await doomed.finish('failed'); // reopens while `stale` still runs
  clock.advance(POLICY.cooldownMs);
  const fresh = [await started('acme'), await started('acme')];
  expect(fresh.map((t) => t.probe)).toEqual([true, true]);
  refused(await pool.admit(call('acme')), 'circuit_open');
  expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 2, trips: 2 });
  return { stale, fresh };
}

describe('half-open episodes', () => {
  it('a cancelled probe of an earlier half-open period frees no slot in the current one', async () => {
    const { stale } = await secondEpisodeWithStaleProbe();
    await stale.finish('cancelled');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 2 });
    refused(await pool.admit(call('acme')), 'circuit_open');
  });

  it('a probe of an earlier period that never got its assignment frees no slot either', async () => {
    makePool({ assignmentTimeoutMs: 60_000 });
    await trip('acme');
    clock.advance(POLICY.cooldownMs);
    const unassigned = accepted(await pool.admit(call('acme')));
    await (await started('acme')).finish('failed');
    clock.advance(POLICY.cooldownMs);
    await started('acme');
    await started('acme');
    await unassigned.finish('expired');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 2 });
    refused(await pool.admit(call('acme')), 'circuit_open');
  });

  it('a failed probe of an earlier period does not reopen the current one', async () => {
    const { stale, fresh } = await secondEpisodeWithStaleProbe();
    await stale.finish('failed');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 2, trips: 2 });
    for (const probe of fresh) await probe.finish('success');
    expect(breakerOf('acme')?.state).toBe('closed');
    expect(path()).toEqual([
      'closed->open:failure_ratio',
      'open->half_open:cooldown_elapsed',
      'half_open->open:probe_failed',
      'open->half_open:cooldown_elapsed',
      'half_open->closed:probe_succeeded',
    ]);
  });

  it('a successful probe of an earlier period does not count toward closing the current one', async () => {
    const { stale, fresh } = await secondEpisodeWithStaleProbe();
    await stale.finish('success');
    await fresh[0]?.finish('success');
    expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 2 });
    await fresh[1]?.finish('failed');
    expect(breakerOf('acme')).toMatchObject({ state: 'open', trips: 3 });
  });

  it('a late outcome of an old probe after the breaker closed is an ordinary sample', async () => {
    const { stale, fresh } = await secondEpisodeWithStaleProbe();
    for (const probe of fresh) await probe.finish('success');
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 0, failures: 0, trips: 0 });
    await stale.finish('failed');
    expect(breakerOf('acme')).toEqual({ state: 'closed', samples: 1, failures: 1, trips: 0 });
  });
});

/** A store whose next calls throw while `failing` is set. */
class FlakyReservationStore extends InMemoryReservationStore {
  failing = false;
  /** Take the slot, then throw: a reply lost on its way back. */
  takeThenFail = false;
  override async tryReserve(request: Parameters<ReservationStore['tryReserve']>[0]) {
    if (this.takeThenFail) {
      await super.tryReserve(request);
      throw new Error('connection reset by peer redis://:hunter2@cache:6379');
    }
    if (this.failing) throw new Error('connection refused redis://:hunter2@cache:6379');
    return super.tryReserve(request);
  }
}

class FlakyBreakerStore extends InMemoryBreakerStore {
  failing = false;
  override update: BreakerStore['update'] = (tenant, step) => {
    if (this.failing) return Promise.reject(new Error('READONLY You can\'t write against a read only replica.'));
    return super.update(tenant, step);
  };
}

describe('a store that throws during admission', () => {
  const warn = vi.fn();
  beforeEach(() => {
    warn.mockReset();
    const spy = vi.spyOn(console, 'warn').mockImplementation(warn);
    return () => {
      spy.mockRestore();
    };
  });

  const admissionSpans = () => spans.getFinishedSpans().filter((s) => s.name === SPAN_ADMISSION);

  it('refuses with store_unavailable when tryReserve throws while half-open, and keeps no probe or slot', async () => {
    const store = new FlakyReservationStore();
    makePool({ reservationStore: store, circuitBreaker: { ...POLICY, halfOpenProbes: 1 } });
    await trip('acme');
    clock.advance(POLICY.cooldownMs);
    spans.reset();
    admissions.length = 0;

    for (const mode of ['failing', 'takeThenFail'] as const) {
      store[mode] = true;
      const job = call('acme');
      const refusal = refused(await pool.admit(job), 'store_unavailable');
      store[mode] = false;
      expect(refusal.message).toBe('the reservation store failed (Error)');
      expect(refusal.message).not.toContain('hunter2');
      expect(admissions.at(-1)).toMatchObject({ jobId: job.jobId, tenant: 'acme', accepted: false, reason: 'store_unavailable' });
      const span = admissionSpans().find((s) => s.attributes[ATTR_JOB_ID] === job.jobId);
      expect(span?.attributes).toMatchObject({ [ATTR_DECISION]: 'refused', [ATTR_REASON]: 'store_unavailable' });
      expect(breakerOf('acme')).toMatchObject({ state: 'half_open', probesAdmitted: 0 });
      expect(await store.total()).toBe(0);
      expect(pool.liveTickets()).toEqual([]);
    }
    expect(pool.runtimeSnapshot().tenants.acme?.rejectionsByReason).toEqual({ store_unavailable: 2 });

    // The store is back: the probe slot is free and the next call is the probe.
    const probe = await started('acme');
    expect(probe.probe).toBe(true);
    await probe.finish('success');
    expect(breakerOf('acme')?.state).toBe('closed');
  });

  it('refuses with store_unavailable when the breaker store throws, and admits once it is back', async () => {
    const breakerStore = new FlakyBreakerStore();
    makePool({ breakerStore, circuitBreaker: { ...POLICY, halfOpenProbes: 1 } });
    await trip('acme');
    clock.advance(POLICY.cooldownMs);
    spans.reset();
    breakerStore.failing = true;
    const job = call('acme');
    const refusal = refused(await pool.admit(job), 'store_unavailable');
    expect(refusal.message).toBe('the breaker store failed (Error)');
    expect(admissionSpans().map((s) => s.attributes[ATTR_REASON])).toEqual(['store_unavailable']);
    expect(admissions.at(-1)).toMatchObject({ jobId: job.jobId, accepted: false, reason: 'store_unavailable' });
    expect(pool.liveTickets()).toEqual([]);

    breakerStore.failing = false;
    const probe = await started('acme');
    expect(probe.probe).toBe(true);
  });

  it('still ends a session, counts it and reports it when the stores fail at its end', async () => {
    const store = new FlakyReservationStore();
    const breakerStore = new FlakyBreakerStore();
    makePool({ reservationStore: store, breakerStore });
    const ended: string[] = [];
    pool.on('sessionEnded', (event) => ended.push(`${event.jobId}:${event.outcome}`));
    const ticket = await started('acme');
    store.release = () => Promise.reject(new Error('connection refused'));
    breakerStore.failing = true;
    await ticket.finish('failed');
    expect(ended).toEqual([`${ticket.jobId}:failed`]);
    expect(pool.runtimeSnapshot().totals).toMatchObject({ admitted: 1, failed: 1 });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('the reservation store failed (Error) while releasing the slot'));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('the breaker store failed (Error) while recording an outcome'));
  });
});
