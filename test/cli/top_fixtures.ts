import type { InspectorState, SessionRow } from '../../src/inspect/protocol.js';
import type { TenantSnapshot } from '../../src/telemetry/runtime_snapshot.js';

/** Fixed worker states for `top`'s view tests: no clock, no sockets. */
function row(jobId: string, tenant: string, agent: string, durationMs: number, turns: number, lastLatencyMs: number | null, state = 'listening'): SessionRow {
  return { jobId, tenant, agent, startedAt: 1_000, durationMs, state, turns, lastLatencyMs, providers: { stt: 'shared', llm: 'tenant', tts: 'shared' } };
}

function tenant(active: number, cap: number | null, breaker: 'closed' | 'open' | 'half_open' | null): TenantSnapshot {
  return {
    active, reserved: 0, cap, utilization: cap === null ? null : active / cap,
    breaker: breaker === null ? null : { state: breaker, samples: 0, failures: 0, trips: breaker === 'closed' ? 0 : 1 },
    rejectionsByReason: {}, started: active, succeeded: 0, failed: 0, cancelled: 0,
  };
}

export function workerState(pid: number, sessions: SessionRow[], tenants: Record<string, TenantSnapshot>, refusals: Record<string, number> = {}): InspectorState {
  return {
    worker: { pid, workerId: `AW_${pid}`, openrtcVersion: '0.1.0', deploymentVersion: 'v42', load: 0.25, draining: false, metricsUrl: null, socket: `/tmp/w-${pid}.sock` },
    snapshot: {
      schemaVersion: 1, takenAt: '2026-01-01T00:00:00.000Z', deploymentVersion: 'v42', uptimeMs: 3_723_000, draining: false,
      agents: ['support', 'concierge'], maxConcurrentSessions: 40, activeSessions: sessions.length, reservedSessions: 0,
      sessionsByTenant: {}, sessionsByAgent: {}, tenants, rejectionsByReason: {}, totals: {},
    } as unknown as InspectorState['snapshot'],
    sessions,
    breakerPolicy: { failureRatio: 0.5, windowMs: 60_000, minSamples: 5, cooldownMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 600_000 },
    refusalsLastMinute: refusals,
  };
}

export const TWO_WORKERS: InspectorState[] = [
  workerState(
    101,
    [
      row('AJ_a1', 'acme-corp', 'support', 125_000, 4, 310),
      row('AJ_g1', 'globex', 'support', 42_000, 1, 95, 'speaking'),
      row('AJ_u1', 'umbrella', 'concierge', 7_000, 0, null, 'starting'),
    ],
    { 'acme-corp': tenant(1, 50, 'closed'), globex: tenant(1, 2, 'closed'), initech: tenant(0, 10, 'open'), umbrella: tenant(1, 10, 'closed') },
    { initech: 3 },
  ),
  workerState(
    102,
    [row('AJ_a2', 'acme-corp', 'support', 61_000, 2, 480, 'thinking'), row('AJ_g2', 'globex', 'support', 3_000, 0, null)],
    { 'acme-corp': tenant(1, 50, 'closed'), globex: tenant(1, 2, 'half_open'), initech: tenant(0, 10, 'open') },
    { globex: 1, initech: 2 },
  ),
];
