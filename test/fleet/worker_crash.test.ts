import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, RedisReservationStore } from '../../src/index.js';
import { accepted, call } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';
import { SHARED_REDIS_URL, connected, deletePrefix, testClient, uniquePrefix } from '../helpers/redis.js';

const TTL_MS = 3_000;
let admin: Redis;
const keyPrefix = uniquePrefix('crash');

beforeAll(async () => {
  admin = await connected(testClient(SHARED_REDIS_URL));
});

afterAll(async () => {
  await deletePrefix(admin, keyPrefix);
  await admin.quit();
});

async function redisNow(): Promise<number> {
  const [s, us] = await admin.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('a worker killed with SIGKILL', () => {
  it('keeps its slots until its leases lapse, at most one TTL after the kill, and touches no other worker', { timeout: 60_000 }, async () => {
    const survivorStore = new RedisReservationStore({ client: admin, keyPrefix, workerId: 'survivor', leaseTtlMs: TTL_MS, heartbeatIntervalMs: 100 });
    const survivor = new AgentPool({ agent: SupportAgent, reservationStore: survivorStore, maxSessionsPerTenant: { acme: 50 } });
    const kept = [];
    for (let i = 0; i < 10; i++) {
      const ticket = accepted(await survivor.admit(call('acme')));
      ticket.markStarted(Date.now());
      kept.push(ticket);
    }
    const script = fileURLToPath(new URL('../fixtures/lease_holder.ts', import.meta.url));
    const proc = spawn(process.execPath, ['--import', 'tsx', script, SHARED_REDIS_URL, keyPrefix, 'doomed', String(TTL_MS), '40'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(); });
        proc.once('exit', (code) => reject(new Error(`lease holder exited early (${code})`)));
      });
      expect(await admin.zcard(`${keyPrefix}leases:tenant:acme`)).toBe(50);
      // The cap is full fleet-wide: the survivor cannot take a 51st.
      expect((await survivor.admit(call('acme'))).accepted).toBe(false);
      await new Promise<void>((resolve) => { proc.once('exit', () => resolve()); proc.kill('SIGKILL'); });
      // Read once the worker is gone: a renewal it sent just before the signal (every 100 ms)
      // may reach Redis after a clock read taken before the kill, but not after its exit.
      const killedAt = await redisNow();
      const doomedExpiries = async () => {
        const all = await admin.zrange(`${keyPrefix}leases:all`, '0', '-1', 'WITHSCORES');
        const scores: number[] = [];
        for (let i = 0; i < all.length; i += 2) if (all[i]!.startsWith('doomed-')) scores.push(Number(all[i + 1]));
        return scores;
      };
      const expiries = await doomedExpiries();
      expect(expiries).toHaveLength(40);
      // The last renewal came before the kill, so every lease lapses within one TTL of it.
      expect(Math.max(...expiries)).toBeLessThanOrEqual(killedAt + TTL_MS);
      // Until the first lease lapses, the dead worker's 40 slots stay taken. Each count is
      // judged by Redis's clock read once it has returned, not by a read before it: on a
      // loaded machine the count may run well after that earlier read, past the expiry.
      let sampledBefore = 0;
      for (;;) {
        const counts = await survivorStore.countsByTenant();
        if ((await redisNow()) >= Math.min(...expiries)) break;
        expect(counts).toEqual({ acme: 50 });
        sampledBefore++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(sampledBefore).toBeGreaterThan(0);
      while ((await redisNow()) <= Math.max(...expiries)) await new Promise((resolve) => setTimeout(resolve, 50));
      // Lapsed: the survivor's 10 remain, running, and 40 new calls fit again.
      expect(await survivorStore.countsByTenant()).toEqual({ acme: 10 });
      expect(kept.every((t) => t.state === 'running')).toBe(true);
      for (let i = 0; i < 40; i++) accepted(await survivor.admit(call('acme')));
      expect((await survivor.admit(call('acme'))).accepted).toBe(false);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await survivorStore.close();
    }
  });
});
