import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisReservationStore, type RedisReservationStoreOptions } from '../../src/fleet/redis_reservation_store.js';
import type { StoreModeEvent } from '../../src/admission/store_status.js';
import { OwnRedis, SHARED_REDIS_URL, connected, deletePrefix, testClient, uniquePrefix, until } from '../helpers/redis.js';

let admin: Redis;
const stores: RedisReservationStore[] = [];
const prefixes: string[] = [];

function store(options: Partial<RedisReservationStoreOptions> & { keyPrefix: string }): RedisReservationStore {
  const made = new RedisReservationStore({ client: admin, workerId: `w${stores.length}`, ...options });
  stores.push(made);
  return made;
}

function prefix(label: string): string {
  const made = uniquePrefix(label);
  prefixes.push(made);
  return made;
}

const req = (id: string, tenant = 'acme', tenantCap: number | undefined = undefined, globalCap: number | undefined = undefined) =>
  ({ id, tenant, tenantCap, globalCap });

beforeAll(async () => {
  admin = await connected(testClient(SHARED_REDIS_URL));
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const p of prefixes.splice(0)) await deletePrefix(admin, p);
});

afterAll(async () => {
  await admin.quit();
});

describe('RedisReservationStore', () => {
  it('keeps the store contract: idempotent by lease id, caps checked, unheld release is false', async () => {
    const s = store({ keyPrefix: prefix('contract') });
    expect(await s.tryReserve(req('a', 'acme', 1))).toEqual({ reserved: true });
    expect(await s.tryReserve(req('a', 'acme', 1))).toEqual({ reserved: true });
    expect(await s.total()).toBe(1);
    expect(await s.tryReserve(req('b', 'acme', 1))).toEqual({ reserved: false, reason: 'tenant_cap' });
    expect(await s.tryReserve(req('c', 'globex', undefined, 1))).toEqual({ reserved: false, reason: 'global_cap' });
    expect(await s.countsByTenant()).toEqual({ acme: 1 });
    expect(await s.release('a')).toBe(true);
    expect(await s.release('a')).toBe(false);
    expect(await s.release('never')).toBe(false);
    expect(await s.total()).toBe(0);
    expect(await s.countsByTenant()).toEqual({});
    expect(s.status()).toMatchObject({ backend: 'redis', mode: 'shared', policy: 'fail-closed', switches: 0 });
  });

  it('shares one cap among workers: 400 simultaneous requests on four stores take exactly 50 slots', async () => {
    const keyPrefix = prefix('burst');
    const clients = await Promise.all([0, 1, 2, 3].map(() => connected(testClient(SHARED_REDIS_URL))));
    try {
      const workers = clients.map((client, i) => store({ keyPrefix, client, workerId: `burst-${i}` }));
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) => workers[i % 4]!.tryReserve(req(`job-${i}`, 'acme', 50, 1000))),
      );
      expect(results.filter((r) => r.reserved)).toHaveLength(50);
      expect(results.filter((r) => !r.reserved && r.reason === 'tenant_cap')).toHaveLength(350);
      expect(await workers[0]!.countsByTenant()).toEqual({ acme: 50 });
      expect(workers.reduce((n, w) => n + w.heldByThisWorker(), 0)).toBe(50);
    } finally {
      for (const s of stores.splice(0)) await s.close();
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('reads caps from each request, so a lower cap applies to the next call', async () => {
    const s = store({ keyPrefix: prefix('caps') });
    for (const id of ['a', 'b', 'c']) expect((await s.tryReserve(req(id, 'acme', 5))).reserved).toBe(true);
    expect(await s.tryReserve(req('d', 'acme', 3))).toEqual({ reserved: false, reason: 'tenant_cap' });
    expect(await s.tryReserve(req('d', 'acme', 4))).toEqual({ reserved: true });
  });

  it('lets a lease lapse one TTL after its last renewal, and not before', async () => {
    const keyPrefix = prefix('ttl');
    const crashed = store({ keyPrefix, workerId: 'crashed', leaseTtlMs: 1_500 });
    for (const id of ['a', 'b']) await crashed.tryReserve(req(id));
    const expiries = (await admin.zrange(`${keyPrefix}leases:all`, '0', '-1', 'WITHSCORES')).filter((_, i) => i % 2 === 1).map(Number);
    await crashed.close(); // no more renewals, leases not released: a crash, as far as Redis can tell
    const observer = store({ keyPrefix, workerId: 'observer' });
    const redisNow = async () => {
      const [s, us] = await admin.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    };
    // Before the earliest expiry both slots are still taken.
    expect(await redisNow()).toBeLessThan(Math.min(...expiries));
    expect(await observer.total()).toBe(2);
    expect(await observer.tryReserve(req('c', 'acme', 2))).toEqual({ reserved: false, reason: 'tenant_cap' });
    await until(async () => (await redisNow()) > Math.max(...expiries), 'the leases to pass their expiry', 5_000);
    expect(await observer.tryReserve(req('c', 'acme', 2))).toEqual({ reserved: true });
    expect(await observer.countsByTenant()).toEqual({ acme: 1 });
  });

  it('renews live leases while the worker lives', async () => {
    const keyPrefix = prefix('renew');
    const s = store({ keyPrefix, leaseTtlMs: 2_000, heartbeatIntervalMs: 100 });
    await s.tryReserve(req('a'));
    const first = Number(await admin.zscore(`${keyPrefix}leases:all`, 'a'));
    await until(async () => Number(await admin.zscore(`${keyPrefix}leases:all`, 'a')) > first + 500, 'a renewal', 5_000);
    expect(await s.total()).toBe(1);
  });

  it('frees the leases a worker left behind when it starts again under the same identity', async () => {
    const keyPrefix = prefix('sweep');
    const before = store({ keyPrefix, workerId: 'host-1/1' });
    const other = store({ keyPrefix, workerId: 'host-2/1' });
    for (const id of ['a', 'b', 'c']) await before.tryReserve(req(id));
    await other.tryReserve(req('x'));
    await before.close();
    const after = store({ keyPrefix, workerId: 'host-1/1' });
    await after.start();
    expect(await after.total()).toBe(1);
    expect(await after.countsByTenant()).toEqual({ acme: 1 });
  });
});

describe('RedisReservationStore while Redis is unavailable', () => {
  let redis: OwnRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await OwnRedis.start();
  });

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    client?.disconnect();
    await redis.resume().catch(() => undefined);
  });

  afterAll(async () => {
    await redis.stop();
  });

  async function down(): Promise<void> {
    await redis.stop();
  }

  it('fail-closed refuses with store_unavailable, frees what was released meanwhile, and reports both switches', async () => {
    client = await connected(testClient(redis.url));
    const events: StoreModeEvent[] = [];
    const s = store({ keyPrefix: 'fc:', client, onUnavailable: 'fail-closed', recoveryIntervalMs: 50 });
    s.observe({ operation: () => undefined, modeChange: (e) => events.push(e) });
    await s.tryReserve(req('a'));
    await s.tryReserve(req('b'));
    await down();
    expect(await s.tryReserve(req('c'))).toEqual({ reserved: false, reason: 'store_unavailable' });
    expect(s.status()).toMatchObject({ mode: 'refusing', switches: 1 });
    expect(await s.release('a')).toBe(true);
    await redis.resume();
    await until(() => Promise.resolve(s.status().mode === 'shared'), 'the store to switch back');
    // Redis lost everything: the one lease still held was written back, once.
    expect(await s.countsByTenant()).toEqual({ acme: 1 });
    expect(await client.zrange('fc:leases:all', '0', '-1')).toEqual(['b']);
    expect(events.map((e) => `${e.from}->${e.to}`)).toEqual(['shared->refusing', 'refusing->shared']);
  });

  it('fail-open admits up to its share of each cap alone, then writes every lease back once', async () => {
    client = await connected(testClient(redis.url));
    const s = store({ keyPrefix: 'fo:', client, onUnavailable: 'fail-open', failOpenCapFraction: 0.5, recoveryIntervalMs: 50 });
    await s.tryReserve(req('a', 'acme', 10));
    await s.tryReserve(req('b', 'acme', 10));
    await down();
    const during = await Promise.all(['c', 'd', 'e', 'f', 'g'].map((id) => s.tryReserve(req(id, 'acme', 10))));
    // Half of 10 is 5, and this worker already held 2.
    expect(during.filter((r) => r.reserved)).toHaveLength(3);
    expect(during.filter((r) => !r.reserved && r.reason === 'tenant_cap')).toHaveLength(2);
    expect(s.status().mode).toBe('fallback');
    expect(await s.release('c')).toBe(true);
    await redis.resume();
    await until(() => Promise.resolve(s.status().mode === 'shared'), 'the store to switch back');
    expect((await client.zrange('fo:leases:all', '0', '-1')).sort()).toEqual(['a', 'b', 'd', 'e']);
    expect(await s.countsByTenant()).toEqual({ acme: 4 });
    // Back on the fleet's count: 4 held, cap 10 again.
    const after = await Promise.all(Array.from({ length: 8 }, (_, i) => s.tryReserve(req(`n${i}`, 'acme', 10))));
    expect(after.filter((r) => r.reserved)).toHaveLength(6);
  });
});
