import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerPolicy } from '../../src/admission/breaker_policy.js';
import { TenantCircuitBreaker } from '../../src/admission/circuit_breaker.js';
import { OpenRtcError } from '../../src/errors.js';
import { RedisBreakerStore, type RedisBreakerStoreOptions } from '../../src/fleet/redis_breaker_store.js';
import { ManualClock } from '../../src/testing/index.js';
import { ownRedisPerSuite, SHARED_REDIS_URL, connected, deletePrefix, testClient, uniquePrefix, until } from '../helpers/redis.js';

const POLICY: BreakerPolicy = { failureRatio: 0.5, minSamples: 4, windowMs: 10_000, cooldownMs: 5_000, halfOpenProbes: 2, probeTimeoutMs: 600_000 };

let admin: Redis;
const clients: Redis[] = [];
const stores: RedisBreakerStore[] = [];
let keyPrefix: string;

async function fleetOf(n: number, clock: ManualClock, extra: Partial<RedisBreakerStoreOptions> = {}): Promise<TenantCircuitBreaker[]> {
  const breakers: TenantCircuitBreaker[] = [];
  for (let i = 0; i < n; i++) {
    const client = await connected(testClient(SHARED_REDIS_URL));
    clients.push(client);
    const store = new RedisBreakerStore({ client, keyPrefix, ...extra });
    stores.push(store);
    breakers.push(new TenantCircuitBreaker(POLICY, store, clock, () => undefined));
  }
  return breakers;
}

beforeAll(async () => {
  admin = await connected(testClient(SHARED_REDIS_URL));
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of clients.splice(0)) c.disconnect();
  if (keyPrefix) await deletePrefix(admin, keyPrefix);
});

afterAll(async () => {
  await admin.quit();
});

describe('RedisBreakerStore', () => {
  it('opens a tenant for the whole fleet from outcomes reported by different workers', async () => {
    keyPrefix = uniquePrefix('breaker-open');
    const clock = new ManualClock();
    const [a, b, c] = await fleetOf(3, clock);
    // Four failures, each seen by a different worker: only a shared window sees four.
    await a!.record('acme', { failed: true, probeEpisode: null });
    await b!.record('acme', { failed: true, probeEpisode: null });
    await c!.record('acme', { failed: true, probeEpisode: null });
    expect(await a!.admit('acme')).toEqual({ allowed: true, probeEpisode: null });
    await b!.record('acme', { failed: true, probeEpisode: null });
    for (const breaker of [a!, b!, c!]) expect((await breaker.admit('acme')).allowed).toBe(false);
    expect((await c!.admit('globex')).allowed).toBe(true);
    expect((await stores[0]!.tenants()).sort()).toEqual(['acme']);
  });

  it('lets exactly halfOpenProbes probes through across the fleet after the cooldown', async () => {
    keyPrefix = uniquePrefix('breaker-probes');
    const clock = new ManualClock();
    const fleet = await fleetOf(4, clock);
    for (let i = 0; i < 4; i++) await fleet[i]!.record('acme', { failed: true, probeEpisode: null });
    clock.advance(POLICY.cooldownMs);
    const verdicts = await Promise.all(Array.from({ length: 200 }, (_, i) => fleet[i % 4]!.admit('acme')));
    const probes = verdicts.filter((v) => v.allowed);
    expect(probes).toHaveLength(2);
    const episode = probes[0]!.allowed ? probes[0]!.probeEpisode : null;
    expect(episode).not.toBeNull();
    expect(probes).toEqual([{ allowed: true, probeEpisode: episode }, { allowed: true, probeEpisode: episode }]);
    // Both probes succeed (reported by different workers): closed for everyone.
    await fleet[1]!.record('acme', { failed: false, probeEpisode: episode });
    await fleet[3]!.record('acme', { failed: false, probeEpisode: episode });
    for (const breaker of fleet) expect(await breaker.admit('acme')).toEqual({ allowed: true, probeEpisode: null });
  });

  it('hands out fresh probe slots fleet-wide once probes whose worker died waited probeTimeoutMs', async () => {
    keyPrefix = uniquePrefix('breaker-lost-probes');
    const clock = new ManualClock();
    const [crashing, ...others] = await fleetOf(3, clock);
    for (let i = 0; i < 4; i++) await crashing!.record('acme', { failed: true, probeEpisode: null });
    clock.advance(POLICY.cooldownMs);
    // The crashing worker takes both probe slots, then dies without reporting either.
    const lost = [await crashing!.admit('acme'), await crashing!.admit('acme')];
    expect(lost.every((v) => v.allowed)).toBe(true);
    await stores[0]!.close();
    clients[0]!.disconnect();
    clock.advance(POLICY.probeTimeoutMs - 1);
    expect(await others[0]!.admit('acme')).toMatchObject({ allowed: false });
    clock.advance(1);
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => others[i % 2]!.admit('acme')));
    const probes = fresh.filter((v) => v.allowed);
    expect(probes).toHaveLength(POLICY.halfOpenProbes);
    const episode = probes[0]!.allowed ? probes[0]!.probeEpisode : null;
    expect(episode).not.toBe(lost[0]!.allowed ? lost[0]!.probeEpisode : null);
    for (const probe of probes) await others[1]!.record('acme', { failed: false, probeEpisode: probe.allowed ? probe.probeEpisode : null });
    expect(await others[0]!.admit('acme')).toEqual({ allowed: true, probeEpisode: null });
  });

  it('keeps the stored state small however many outcomes the window holds', async () => {
    keyPrefix = uniquePrefix('breaker-bounded');
    const clock = new ManualClock();
    const [a, b] = await fleetOf(2, clock);
    for (let i = 0; i < 400; i++) {
      await (i % 2 === 0 ? a! : b!).record('acme', { failed: i % 5 === 0, probeEpisode: null });
      clock.advance(POLICY.windowMs / 100);
    }
    const stored = await admin.hget(`${keyPrefix}breaker:tenant:acme`, 's');
    const state = JSON.parse(stored ?? 'null') as { name: string; buckets: unknown[] };
    expect(state.name).toBe('closed');
    expect(state.buckets.length).toBeLessThanOrEqual(20);
    // One outcome every 100 ms: the window holds the last 100, less the slice that just left.
    expect(b!.status('acme')).toEqual({ state: 'closed', samples: 95, failures: 19, trips: 0 });
  });

  it('reads a closed state written with a per-outcome window as closed with an empty window', async () => {
    keyPrefix = uniquePrefix('breaker-legacy');
    const [a] = await fleetOf(1, new ManualClock());
    const legacy = { name: 'closed', samples: [{ at: 1, failed: true }], episode: 42 };
    await admin.hset(`${keyPrefix}breaker:tenant:acme`, 'v', '3', 's', JSON.stringify(legacy));
    expect(await stores[0]!.read('acme')).toEqual({ name: 'closed', buckets: [], episode: 42 });
    await a!.record('acme', { failed: true, probeEpisode: null });
    expect(a!.status('acme')).toEqual({ state: 'closed', samples: 1, failures: 1, trips: 0 });
  });

  it('writes nothing for a decision that changes nothing', async () => {
    keyPrefix = uniquePrefix('breaker-noop');
    const [a] = await fleetOf(1, new ManualClock());
    expect(await a!.admit('acme')).toEqual({ allowed: true, probeEpisode: null });
    expect(await admin.exists(`${keyPrefix}breaker:tenant:acme`)).toBe(0);
  });
});

describe('RedisBreakerStore while Redis is unavailable', () => {
  const redis = ownRedisPerSuite();

  it('fail-open confines a failing tenant locally, then follows the fleet state again', async () => {
    const client = await connected(testClient(redis.url));
    clients.push(client);
    const store = new RedisBreakerStore({ client, keyPrefix: 'bfo:', onUnavailable: 'fail-open', recoveryIntervalMs: 50 });
    stores.push(store);
    const clock = new ManualClock();
    const breaker = new TenantCircuitBreaker(POLICY, store, clock, () => undefined);
    await redis.stop();
    for (let i = 0; i < 4; i++) await breaker.record('acme', { failed: true, probeEpisode: null });
    expect(store.status().mode).toBe('fallback');
    expect((await breaker.admit('acme')).allowed).toBe(false);
    await redis.resume();
    await until(() => Promise.resolve(store.status().mode === 'shared'), 'the store to switch back');
    // The restarted Redis knows nothing of acme: the fleet's (closed) state applies.
    expect(await breaker.admit('acme')).toEqual({ allowed: true, probeEpisode: null });
    expect(store.status().switches).toBe(2);
  });

  it('fail-closed refuses every decision with store_unavailable', async () => {
    const client = await connected(testClient(redis.url));
    clients.push(client);
    const store = new RedisBreakerStore({ client, keyPrefix: 'bfc:', onUnavailable: 'fail-closed', recoveryIntervalMs: 50 });
    stores.push(store);
    const breaker = new TenantCircuitBreaker(POLICY, store, new ManualClock(), () => undefined);
    await redis.stop();
    const refused = await breaker.admit('acme').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenRtcError);
    expect((refused as OpenRtcError).code).toBe('store_unavailable');
    expect(store.status()).toMatchObject({ mode: 'refusing', policy: 'fail-closed' });
    await redis.resume();
    await until(() => Promise.resolve(store.status().mode === 'shared'), 'the store to switch back');
    expect(await breaker.admit('acme')).toEqual({ allowed: true, probeEpisode: null });
  });
});
