/**
 * Admission latency and throughput with the in-memory store and with Redis, in one run:
 *   npm run bench:redis [-- --calls 5000 --concurrency 32]   (OPENRTC_REDIS_URL, default redis://127.0.0.1:6379)
 * Each call goes through `pool.admit()` (tenant, routing, breaker, both caps, reservation)
 * and its ticket is finished at once, so the store also releases every slot it gave.
 * Latency is per decision (admit resolved), p50 and p99, first one call at a time (what one
 * decision costs), then with `concurrency` calls in flight (what a burst waits, queueing in
 * the event loop and on the connection included); throughput is decisions per second with
 * `concurrency` calls in flight. The machine's load average is printed with the figures.
 */
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { voice } from '@livekit/agents';
import { Redis } from 'ioredis';
import { AgentPool, type AgentPoolOptions, RedisBreakerStore, RedisReservationStore } from '../../src/index.js';

class BenchAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'bench' });
  }
}

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' } },
});
const calls = Number(values.calls);
const concurrency = Number(values.concurrency);
const url = process.env.OPENRTC_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Result {
  store: string;
  p50Ms: number;
  p99Ms: number;
  inFlightP50Ms: number;
  inFlightP99Ms: number;
  decisionsPerSecond: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(store: string, options: AgentPoolOptions): Promise<Result> {
  const pool = new AgentPool({
    agent: BenchAgent, maxSessionsPerTenant: { acme: 10_000 }, maxConcurrentSessions: 100_000,
    enableTenantCircuitBreaker: true, ...options,
  });
  const tenants = ['acme', 'globex', 'initech', 'umbrella'];
  let next = 0;
  const one = async (latencies: number[] | undefined) => {
    const i = next++;
    const started = performance.now();
    const decision = await pool.admit({ jobId: `${store}-${i}`, roomName: `r-${i}`, jobMetadata: JSON.stringify({ tenant: tenants[i % 4] }) });
    latencies?.push(performance.now() - started);
    if (!decision.accepted) throw new Error(`refused: ${decision.reason}`);
    await decision.ticket.finish('cancelled');
  };
  for (let i = 0; i < 500; i++) await one(undefined); // warm-up: JIT, script load, connections
  const sequential: number[] = [];
  for (let i = 0; i < calls; i++) await one(sequential);
  sequential.sort((a, b) => a - b);
  const inFlight: number[] = [];
  const started = performance.now();
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (done < calls) { done++; await one(inFlight); }
  }));
  const seconds = (performance.now() - started) / 1000;
  inFlight.sort((a, b) => a - b);
  return {
    store,
    p50Ms: quantile(sequential, 0.5),
    p99Ms: quantile(sequential, 0.99),
    inFlightP50Ms: quantile(inFlight, 0.5),
    inFlightP99Ms: quantile(inFlight, 0.99),
    decisionsPerSecond: calls / seconds,
  };
}

const results: Result[] = [await measure('memory', {})];
const client = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 0 });
const keyPrefix = `openrtc-bench:${process.pid}:`;
const reservationStore = new RedisReservationStore({ client, keyPrefix, workerId: `bench-${process.pid}` });
const breakerStore = new RedisBreakerStore({ client, keyPrefix });
try {
  results.push(await measure('redis', { reservationStore, breakerStore }));
} finally {
  await breakerStore.close();
  await reservationStore.close();
  const keys = await client.keys(`${keyPrefix}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
}

const load = loadavg().map((l) => Number(l.toFixed(2)));
const ms = (n: number): string => n.toFixed(3).padStart(7);
console.log(`admission, ${calls} decisions one at a time, then ${calls} with ${concurrency} in flight; load average ${load.join(' ')}`);
console.log(`         one at a time       ${String(concurrency).padStart(3)} in flight`);
console.log('store     p50 ms  p99 ms    p50 ms  p99 ms   decisions/s');
for (const r of results) {
  const row = [r.store.padEnd(8), ms(r.p50Ms), ms(r.p99Ms), ' ', ms(r.inFlightP50Ms), ms(r.inFlightP99Ms), Math.round(r.decisionsPerSecond).toString().padStart(13)];
  console.log(row.join(' '));
}
console.log(JSON.stringify({ calls, concurrency, loadAverage: load, results }));
