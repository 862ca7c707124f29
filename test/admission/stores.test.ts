import { describe, expect, it } from 'vitest';
import {
  AgentPool,
  type BreakerState,
  type BreakerStore,
  InMemoryBreakerStore,
  InMemoryReservationStore,
  type ReservationStore,
  type ReserveRequest,
  type ReserveResult,
  type Step,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, flush } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

/** Lets other pending admissions run, the way a network round trip to a remote store would. */
async function roundTrip(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
  await flush();
}

/** A store that answers after a round trip but applies each call atomically, like a Redis script. */
class RemoteLikeStore implements ReservationStore {
  private readonly inner = new InMemoryReservationStore();
  async tryReserve(request: ReserveRequest): Promise<ReserveResult> {
    await roundTrip();
    const result = await this.inner.tryReserve(request);
    await roundTrip();
    return result;
  }
  async release(id: string): Promise<boolean> {
    await roundTrip();
    return this.inner.release(id);
  }
  async countsByTenant(): Promise<Record<string, number>> {
    await roundTrip();
    return this.inner.countsByTenant();
  }
  async total(): Promise<number> {
    await roundTrip();
    return this.inner.total();
  }
}

/** The same round trips, with the breaker update applied atomically at the far end. */
class RemoteLikeBreakerStore implements BreakerStore {
  private readonly inner = new InMemoryBreakerStore();
  async update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>> {
    await roundTrip();
    const applied = await this.inner.update(tenant, step);
    await roundTrip();
    return applied;
  }
  read(tenant: string): Promise<BreakerState> {
    return this.inner.read(tenant);
  }
  tenants(): Promise<string[]> {
    return this.inner.tenants();
  }
}

describe('InMemoryReservationStore', () => {
  it('keeps the contract: idempotent by lease id, release of an unheld id is false', async () => {
    const store = new InMemoryReservationStore();
    const request = { id: 'a', tenant: 'acme', tenantCap: 1, globalCap: undefined };
    expect(await store.tryReserve(request)).toEqual({ reserved: true });
    expect(await store.tryReserve(request)).toEqual({ reserved: true });
    expect(await store.total()).toBe(1);
    expect(await store.tryReserve({ ...request, id: 'b' })).toEqual({ reserved: false, reason: 'tenant_cap' });
    expect(await store.tryReserve({ ...request, id: 'c', tenant: 'globex', globalCap: 1 })).toEqual({ reserved: false, reason: 'global_cap' });
    expect(await store.countsByTenant()).toEqual({ acme: 1 });
    expect(await store.release('a')).toBe(true);
    expect(await store.release('a')).toBe(false);
    expect(await store.release('never')).toBe(false);
    expect(await store.total()).toBe(0);
    expect(await store.countsByTenant()).toEqual({});
  });

  it('never overshoots a cap when every simultaneous request is already in flight', async () => {
    const store = new InMemoryReservationStore();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.tryReserve({ id: `j${i}`, tenant: i % 2 ? 'acme' : 'globex', tenantCap: 10, globalCap: 15 })),
    );
    expect(results.filter((r) => r.reserved)).toHaveLength(15);
    expect(await store.total()).toBe(15);
    const counts = await store.countsByTenant();
    expect(counts.acme).toBeLessThanOrEqual(10);
    expect(counts.globex).toBeLessThanOrEqual(10);
  });
});

describe('InMemoryBreakerStore', () => {
  it('reads an unknown tenant as closed and lists only tenants it has stored', async () => {
    const store = new InMemoryBreakerStore();
    expect(await store.read('acme')).toEqual({ name: 'closed', buckets: [], episode: 0 });
    expect(await store.tenants()).toEqual([]);
    const applied = await store.update('acme', (state) => ({ next: { name: 'closed', buckets: [{ start: 0, successes: 0, failures: 1 }], episode: 0 }, result: state.name, transitions: [] }));
    expect(applied.result).toBe('closed');
    expect(await store.read('acme')).toEqual({ name: 'closed', buckets: [{ start: 0, successes: 0, failures: 1 }], episode: 0 });
    expect(await store.tenants()).toEqual(['acme']);
  });

  it('keeps no state for a tenant written back to the pristine closed state', async () => {
    const store = new InMemoryBreakerStore();
    await store.update('acme', () => ({ next: { name: 'closed', buckets: [], episode: 0 }, result: undefined, transitions: [] }));
    expect(await store.tenants()).toEqual([]);
    await store.update('acme', () => ({ next: { name: 'closed', buckets: [{ start: 0, successes: 1, failures: 0 }], episode: 0 }, result: undefined, transitions: [] }));
    expect(await store.tenants()).toEqual(['acme']);
    await store.update('acme', () => ({ next: { name: 'closed', buckets: [], episode: 0 }, result: undefined, transitions: [] }));
    expect(await store.tenants()).toEqual([]);
    expect(await store.read('acme')).toEqual({ name: 'closed', buckets: [], episode: 0 });
  });
});

describe('admission over a store that answers asynchronously', () => {
  it('admits exactly up to the caps in a burst when every store call is a round trip', async () => {
    const store = new RemoteLikeStore();
    const pool = new AgentPool({
      agent: SupportAgent,
      clock: new ManualClock(),
      reservationStore: store,
      maxSessionsPerTenant: { acme: 3, globex: 4 },
      maxConcurrentSessions: 6,
    });
    const decisions = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool.admit(call(i % 2 ? 'acme' : 'globex'))),
    );
    const acceptedBy = (tenant: string) => decisions.filter((d) => d.accepted && d.ticket.tenant === tenant).length;
    expect(acceptedBy('acme')).toBe(3);
    expect(acceptedBy('globex')).toBe(3);
    expect(await store.total()).toBe(6);
    for (const decision of decisions) if (decision.accepted) await decision.ticket.finish('success');
    expect(await store.total()).toBe(0);
  });

  it('admits exactly halfOpenProbes probes in a burst when breaker updates are round trips', async () => {
    const clock = new ManualClock();
    const pool = new AgentPool({
      agent: SupportAgent,
      clock,
      breakerStore: new RemoteLikeBreakerStore(),
      enableTenantCircuitBreaker: true,
      circuitBreaker: { failureRatio: 0.5, minSamples: 2, windowMs: 10_000, cooldownMs: 1_000, halfOpenProbes: 2 },
    });
    for (let i = 0; i < 2; i++) {
      const ticket = accepted(await pool.admit(call('acme')));
      ticket.markStarted(clock.now());
      await ticket.finish('failed');
    }
    expect(pool.runtimeSnapshot().tenants.acme?.breaker?.state).toBe('open');
    clock.advance(1_000);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => pool.admit(call('acme'))));
    expect(decisions.filter((d) => d.accepted)).toHaveLength(2);
    expect(pool.runtimeSnapshot().tenants.acme?.breaker).toMatchObject({ state: 'half_open', probesAdmitted: 2 });
  });
});
