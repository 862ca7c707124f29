import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, type AgentPoolOptions, type BreakerPolicy, RedisBreakerStore, RedisReservationStore, type StoreModeEvent } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, refused } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';
import { ownRedisPerSuite, SHARED_REDIS_URL, connected, deletePrefix, testClient, uniquePrefix, until } from '../helpers/redis.js';
import type { AdmissionTicket } from '../../src/index.js';

/*
 * Pools on one Redis, each with its own connection, deciding calls the way four workers
 * would. The LiveKit server offers a refused call to the next worker: `offer` does that.
 */
let admin: Redis;
const clients: Redis[] = [];
const closers: (() => Promise<void>)[] = [];
let keyPrefix = '';

interface FleetPoolOptions extends AgentPoolOptions {
  breaker?: boolean;
  policy?: 'fail-open' | 'fail-closed';
  operationTimeoutMs?: number;
}

async function fleetPool(url: string, workerId: string, extra: FleetPoolOptions = {}): Promise<AgentPool> {
  const { breaker, policy, operationTimeoutMs, ...options } = extra;
  const client = await connected(testClient(url));
  clients.push(client);
  const reservationStore = new RedisReservationStore({
    client, keyPrefix, workerId, onUnavailable: policy, failOpenCapFraction: 0.25, recoveryIntervalMs: 50, operationTimeoutMs,
  });
  closers.push(() => reservationStore.close());
  const breakerStore = breaker ? new RedisBreakerStore({ client, keyPrefix, recoveryIntervalMs: 50 }) : undefined;
  if (breakerStore) closers.push(() => breakerStore.close());
  return new AgentPool({ agent: SupportAgent, reservationStore, ...(breakerStore ? { breakerStore } : {}), ...options });
}

/** Offers one call to each pool in turn until one accepts, as the server retries after a refusal. */
async function offer(pools: AgentPool[], tenant: string, first: number): Promise<AdmissionTicket | undefined> {
  const request = call(tenant);
  for (let i = 0; i < pools.length; i++) {
    const decision = await pools[(first + i) % pools.length]!.admit(request);
    if (decision.accepted) return decision.ticket;
  }
  return undefined;
}

beforeAll(async () => {
  admin = await connected(testClient(SHARED_REDIS_URL));
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const c of clients.splice(0)) c.disconnect();
  if (keyPrefix) await deletePrefix(admin, keyPrefix);
});

afterAll(async () => {
  await admin.quit();
});

describe('a fleet of pools on one Redis', () => {
  it('holds a tenant capped at 50 to 50 sessions across four workers under a burst of 2,000 calls', async () => {
    keyPrefix = uniquePrefix('fleet-cap');
    const pools = await Promise.all([0, 1, 2, 3].map((i) => fleetPool(SHARED_REDIS_URL, `fleet-${i}`, {
      maxSessionsPerTenant: { acme: 50 },
      // 8,000 script calls queue up on a busy two-core machine: this test is about caps, not outages.
      operationTimeoutMs: 10_000,
    })));
    const live = new Set<AdmissionTicket>();
    let peak = 0;
    let samples = 0;
    let sampling = true;
    // Sampled all along: the leases Redis holds for the tenant, and the sessions the pools host.
    const sampler = (async () => {
      while (sampling) {
        const leases = await admin.zcard(`${keyPrefix}leases:tenant:acme`);
        const hosted = pools.reduce((n, p) => n + p.liveTickets().length, 0);
        peak = Math.max(peak, leases, hosted);
        samples++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
    let accepted = 0;
    const calls = Array.from({ length: 2_000 }, async (_, i) => {
      const ticket = await offer(pools, 'acme', i % 4);
      if (!ticket) return;
      accepted++;
      live.add(ticket);
      ticket.markStarted(Date.now());
    });
    await Promise.all(calls);
    // All offered at once: exactly the cap is running, every other call was refused by every worker.
    expect(accepted).toBe(50);
    expect(await admin.zcard(`${keyPrefix}leases:tenant:acme`)).toBe(50);
    // Sessions end and new calls take their slots: never more than 50 at once.
    for (let round = 0; round < 4; round++) {
      const ending = [...live].slice(0, 20);
      await Promise.all(ending.map((t) => { live.delete(t); return t.finish('success'); }));
      const more = await Promise.all(Array.from({ length: 100 }, (_, i) => offer(pools, 'acme', i % 4)));
      const taken = more.filter((t): t is AdmissionTicket => t !== undefined);
      expect(taken).toHaveLength(20);
      for (const t of taken) { live.add(t); t.markStarted(Date.now()); }
    }
    } finally {
      sampling = false;
      await sampler;
    }
    expect(samples).toBeGreaterThan(10);
    expect(peak).toBe(50);
    const refusals = pools.reduce((n, p) => n + p.runtimeSnapshot().rejectionsByReason.tenant_cap, 0);
    // Every call that found no slot was refused by each of the four workers in turn.
    expect(refusals).toBe((2_000 - 50) * 4 + 4 * (100 - 20) * 4);
    await Promise.all([...live].map((t) => t.finish('success')));
    expect(await admin.zcard(`${keyPrefix}leases:tenant:acme`)).toBe(0);
  });

  it('refuses a tenant circuit_open on every worker once it failed on one, and lets exactly the configured probes through', async () => {
    keyPrefix = uniquePrefix('fleet-breaker');
    const clock = new ManualClock();
    const policy: Partial<BreakerPolicy> = { failureRatio: 0.5, minSamples: 4, windowMs: 60_000, cooldownMs: 10_000, halfOpenProbes: 3 };
    const pools = await Promise.all([0, 1, 2, 3].map((i) => fleetPool(SHARED_REDIS_URL, `br-${i}`, {
      breaker: true, enableTenantCircuitBreaker: true, circuitBreaker: policy, clock,
    })));
    const [failing] = pools;
    for (let i = 0; i < 4; i++) {
      const ticket = accepted(await failing!.admit(call('acme')));
      ticket.markStarted(clock.now());
      await ticket.finish('failed');
    }
    for (const pool of pools.slice(1)) refused(await pool.admit(call('acme')), 'circuit_open');
    accepted(await pools[2]!.admit(call('globex')));
    clock.advance(10_000);
    const decisions = await Promise.all(Array.from({ length: 200 }, (_, i) => pools[i % 4]!.admit(call('acme'))));
    const probes = decisions.filter((d) => d.accepted);
    expect(probes).toHaveLength(3);
    expect(decisions.filter((d) => !d.accepted && d.reason === 'circuit_open')).toHaveLength(197);
    for (const d of probes) {
      if (!d.accepted) continue;
      expect(d.ticket.probe).toBe(true);
      d.ticket.markStarted(clock.now());
      await d.ticket.finish('success');
    }
    for (const pool of pools) accepted(await pool.admit(call('acme')));
  });
});

describe('a fleet pool when Redis stops and comes back', () => {
  const redis = ownRedisPerSuite();

  for (const policy of ['fail-closed', 'fail-open'] as const) {
    it(`${policy}: does what it declares during the outage, loses no session and counts none twice after`, async () => {
      keyPrefix = `own-${policy}:`;
      const pools = await Promise.all([0, 1].map((i) => fleetPool(redis.url, `out-${i}`, { policy, maxSessionsPerTenant: { acme: 40 } })));
      const switches: StoreModeEvent[] = [];
      for (const p of pools) p.on('storeModeChange', (e) => switches.push(e));
      const live: AdmissionTicket[] = [];
      const admitSome = async (n: number) => {
        const tickets = await Promise.all(Array.from({ length: n }, (_, i) => offer(pools, 'acme', i % 2)));
        for (const t of tickets) if (t) { t.markStarted(Date.now()); live.push(t); }
        return tickets.filter(Boolean).length;
      };
      expect(await admitSome(12)).toBe(12);
      await redis.stop();
      const during = await Promise.all(Array.from({ length: 30 }, (_, i) => pools[i % 2]!.admit(call('acme'))));
      if (policy === 'fail-closed') {
        expect(during.every((d) => !d.accepted && d.reason === 'store_unavailable')).toBe(true);
        expect(pools[0]!.runtimeSnapshot().stores.reservations).toMatchObject({ mode: 'refusing', policy });
      } else {
        // A quarter of 40 is 10 per worker, the 6 each already hosts included.
        const took = during.filter((d) => d.accepted);
        expect(took).toHaveLength(8);
        for (const d of took) if (d.accepted) { d.ticket.markStarted(Date.now()); live.push(d.ticket); }
        expect(pools[0]!.runtimeSnapshot().stores.reservations).toMatchObject({ mode: 'fallback', policy });
      }
      // Sessions end while Redis is away.
      const ended = live.splice(0, 5);
      await Promise.all(ended.map((t) => t.finish('success')));
      await redis.resume();
      const check = await connected(testClient(redis.url));
      clients.push(check);
      await until(() => Promise.resolve(pools.every((p) => p.runtimeSnapshot().stores.reservations.mode === 'shared')), 'both pools back on Redis');
      // Redis restarted empty: every live session was written back, each once, none that ended.
      expect((await check.zrange(`${keyPrefix}leases:tenant:acme`, '0', '-1')).sort()).toEqual(live.map((t) => t.jobId).sort());
      expect(switches.map((e) => e.to).sort()).toEqual([policy === 'fail-closed' ? 'refusing' : 'fallback', policy === 'fail-closed' ? 'refusing' : 'fallback', 'shared', 'shared'].sort());
      expect(pools[1]!.runtimeSnapshot().stores.reservations.switches).toBe(2);
      // The fleet's cap applies again, counted from what runs.
      const room = 40 - live.length;
      expect(await admitSome(room + 10)).toBe(room);
      await Promise.all(live.map((t) => t.finish('success')));
      expect(await check.zcard(`${keyPrefix}leases:all`)).toBe(0);
    });
  }
});
