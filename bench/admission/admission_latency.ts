/**
 * Admission latency and throughput of one pool with in-memory stores, at a given number of
 * tenants. Before measuring, every tenant holds one live session and has outcomes in its
 * breaker window, so the maps admission touches (reservations, live sessions, breakers,
 * per-tenant metrics) are as large as the tenant count makes them.
 */
import { performance } from 'node:perf_hooks';
import { voice } from '@livekit/agents';
import { AgentPool, type AdmissionTicket, startTelemetry } from '../../src/index.js';
import { quantile } from './stats.js';

class BenchAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'bench' });
  }
}

export interface AdmissionRunOptions {
  tenants: number;
  /** Decisions timed one at a time (latency), and again with `concurrency` in flight (throughput). */
  decisions: number;
  concurrency: number;
  /** Attach openrtc's telemetry (metrics for the pool, admission spans recorded). */
  telemetry: boolean;
}

export interface AdmissionRun {
  p50Ms: number;
  p99Ms: number;
  decisionsPerSecond: number;
}

const tenantName = (i: number) => `tenant-${i}`;

export async function measureAdmission(options: AdmissionRunOptions): Promise<AdmissionRun> {
  const telemetry = options.telemetry
    ? await startTelemetry({ port: 0, host: '127.0.0.1', otlpTraces: false })
    : undefined;
  const pool = new AgentPool({
    agent: BenchAgent, enableTenantCircuitBreaker: true,
    defaultMaxSessionsPerTenant: 1_000_000, maxConcurrentSessions: 10_000_000,
    // Long enough that no unassigned ticket of the bench expires while it runs.
    assignmentTimeoutMs: 3_600_000,
  });
  const metrics = telemetry?.attach(pool);
  let job = 0;
  const admitOne = async (tenant: number): Promise<{ ticket: AdmissionTicket; ms: number }> => {
    const started = performance.now();
    const decision = await pool.admit({ jobId: `job-${job++}`, roomName: `room-${job}`, jobMetadata: JSON.stringify({ tenant: tenantName(tenant) }) });
    const ms = performance.now() - started;
    if (!decision.accepted) throw new Error(`refused: ${decision.reason}: ${decision.message}`);
    return { ticket: decision.ticket, ms };
  };
  /** One whole call: decided, started, ended (a success, recorded by the breaker). */
  const callOf = async (tenant: number): Promise<number> => {
    const { ticket, ms } = await admitOne(tenant);
    ticket.markStarted(Date.now());
    await ticket.finish('success');
    return ms;
  };
  try {
    // Every tenant: one session that stays live, and a few outcomes in its breaker window.
    for (let t = 0; t < options.tenants; t++) {
      (await admitOne(t)).ticket.markStarted(Date.now());
      for (let k = 0; k < 3; k++) await callOf(t);
    }
    for (let i = 0; i < 500; i++) await callOf(i % options.tenants); // warm-up: JIT
    const latencies: number[] = [];
    for (let i = 0; i < options.decisions; i++) latencies.push(await callOf(pseudoRandomTenant(i, options.tenants)));
    latencies.sort((a, b) => a - b);
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      while (next < options.decisions) await callOf(pseudoRandomTenant(next++, options.tenants));
    }));
    const seconds = (performance.now() - started) / 1000;
    return { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), decisionsPerSecond: options.decisions / seconds };
  } finally {
    for (const ticket of pool.liveTickets()) await ticket.finish('cancelled');
    metrics?.detach();
    await telemetry?.shutdown();
  }
}

/** Spreads calls over the tenants in a fixed scattered order (so runs are comparable). */
function pseudoRandomTenant(i: number, tenants: number): number {
  return (i * 7_919 + 13) % tenants;
}
