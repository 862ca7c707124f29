import type { AdmissionTicket } from '../admission/admission_ticket.js';
import type { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import type { StoresSnapshot } from '../admission/store_status.js';
import { type RuntimeSnapshot, SNAPSHOT_SCHEMA_VERSION, type TenantSnapshot } from '../telemetry/runtime_snapshot.js';
import type { PoolStatistics } from './pool_statistics.js';
import type { TenantCaps } from './tenant_caps.js';

export interface SnapshotSources {
  now: number;
  startedAt: number;
  deploymentVersion: string;
  draining: boolean;
  agents: string[];
  live: AdmissionTicket[];
  statistics: PoolStatistics;
  caps: TenantCaps;
  breaker: TenantCircuitBreaker | undefined;
  /** Tenants the pool is configured for (static tenant config). */
  configuredTenants: string[];
  stores: StoresSnapshot;
}

/** Live calls counted by tenant and agent, as Maps: "constructor" and "__proto__" are valid names. */
function countLive(live: AdmissionTicket[]) {
  const activeByTenant = new Map<string, number>();
  const activeByAgent = new Map<string, number>();
  const reservedByTenant = new Map<string, number>();
  let active = 0;
  let reserved = 0;
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const ticket of live) {
    if (ticket.state === 'running') {
      active++;
      bump(activeByTenant, ticket.tenant);
      bump(activeByAgent, ticket.agentName);
    } else if (ticket.state === 'reserved') {
      reserved++;
      bump(reservedByTenant, ticket.tenant);
    }
  }
  return { active, reserved, activeByTenant, activeByAgent, reservedByTenant };
}

/** What the pool is doing, from its live calls and its lifetime statistics. */
export function buildSnapshot(sources: SnapshotSources): RuntimeSnapshot {
  const { statistics, caps, breaker } = sources;
  const counted = countLive(sources.live);
  // A breaker at rest (closed, no outcome in its window) has nothing to show: such a state
  // of a retired tenant waits only to be forgotten (tenant_retention.ts).
  const breakerTenants = breaker?.tenants().filter((id) => !breaker.looksAtRest(id)) ?? [];
  const tenantIds = new Set<string>([...statistics.tenants(), ...caps.listedTenants(), ...sources.configuredTenants, ...breakerTenants]);
  const tenants = new Map<string, TenantSnapshot>();
  for (const id of [...tenantIds].sort()) {
    const counters = statistics.countersOf(id);
    const cap = caps.capFor(id) ?? null;
    const active = counted.activeByTenant.get(id) ?? 0;
    const reserved = counted.reservedByTenant.get(id) ?? 0;
    tenants.set(id, {
      active,
      reserved,
      cap,
      utilization: cap === null ? null : (active + reserved) / cap,
      breaker: breaker ? breaker.status(id) : null,
      rejectionsByReason: { ...counters?.rejectionsByReason },
      started: counters?.started ?? 0,
      succeeded: counters?.succeeded ?? 0,
      failed: counters?.failed ?? 0,
      cancelled: counters?.cancelled ?? 0,
    });
  }
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    takenAt: new Date(sources.now).toISOString(),
    deploymentVersion: sources.deploymentVersion,
    uptimeMs: sources.now - sources.startedAt,
    draining: sources.draining,
    agents: sources.agents,
    maxConcurrentSessions: caps.global ?? null,
    activeSessions: counted.active,
    reservedSessions: counted.reserved,
    sessionsByTenant: Object.fromEntries(counted.activeByTenant),
    sessionsByAgent: Object.fromEntries(counted.activeByAgent),
    tenants: Object.fromEntries(tenants),
    rejectionsByReason: { ...statistics.rejections },
    stores: sources.stores,
    totals: { ...statistics.totals },
    retiredTenants: { ...statistics.retired },
  };
}
