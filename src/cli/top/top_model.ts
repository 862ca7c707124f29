import type { BreakerStateName } from '../../admission/breaker_state.js';
import type { InspectorState, SessionRow, WorkerInfo } from '../../inspect/protocol.js';

/** How `top` orders its session rows. */
export const SORT_KEYS = ['duration', 'tenant', 'agent', 'state', 'turns', 'latency'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface TopFilter {
  tenant?: string;
  agent?: string;
  sort: SortKey;
}

/** One worker's line: what its inspector says about it, with its session count and uptime. */
export interface TopWorker extends Pick<WorkerInfo, 'pid' | 'workerId' | 'openrtcVersion' | 'deploymentVersion' | 'load' | 'draining'> {
  activeSessions: number;
  maxConcurrentSessions: number | null;
  uptimeMs: number;
}

export interface TopSession extends SessionRow {
  pid: number;
}

export interface TopTenant {
  tenant: string;
  active: number;
  /** The cap each worker gives the tenant; null for none. */
  cap: number | null;
  /** The worst breaker state among the workers; null without a breaker. */
  breaker: BreakerStateName | null;
  refusalsLastMinute: number;
}

/** Everything one screen of `top` shows, as plain data (also what `--json` prints). */
export interface TopView {
  workers: TopWorker[];
  sessions: TopSession[];
  tenants: TopTenant[];
  filter: TopFilter;
}

const BREAKER_RANK: Record<BreakerStateName, number> = { closed: 0, half_open: 1, open: 2 };

/** Merges every worker's state into one view, filtered and sorted. */
export function buildTopView(states: readonly InspectorState[], filter: TopFilter): TopView {
  const workers = states.map((s): TopWorker => ({
    pid: s.worker.pid,
    workerId: s.worker.workerId,
    openrtcVersion: s.worker.openrtcVersion,
    deploymentVersion: s.worker.deploymentVersion,
    load: s.worker.load,
    draining: s.worker.draining,
    activeSessions: s.snapshot.activeSessions,
    maxConcurrentSessions: s.snapshot.maxConcurrentSessions,
    uptimeMs: s.snapshot.uptimeMs,
  }));
  const sessions = states
    .flatMap((s) => s.sessions.map((row): TopSession => ({ ...row, pid: s.worker.pid })))
    .filter((row) => (filter.tenant === undefined || row.tenant === filter.tenant) && (filter.agent === undefined || row.agent === filter.agent))
    .sort(compareBy(filter.sort));
  return { workers, sessions, tenants: tenantSummary(states, filter), filter };
}

function tenantSummary(states: readonly InspectorState[], filter: TopFilter): TopTenant[] {
  const byTenant = new Map<string, TopTenant>();
  for (const state of states) {
    for (const [tenant, t] of Object.entries(state.snapshot.tenants)) {
      if (filter.tenant !== undefined && tenant !== filter.tenant) continue;
      const entry = byTenant.get(tenant) ?? { tenant, active: 0, cap: t.cap, breaker: null, refusalsLastMinute: 0 };
      entry.active += t.active;
      if (t.breaker && (entry.breaker === null || BREAKER_RANK[t.breaker.state] > BREAKER_RANK[entry.breaker])) entry.breaker = t.breaker.state;
      entry.refusalsLastMinute += state.refusalsLastMinute[tenant] ?? 0;
      byTenant.set(tenant, entry);
    }
    for (const [tenant, refused] of Object.entries(state.refusalsLastMinute)) {
      if (byTenant.has(tenant) || (filter.tenant !== undefined && tenant !== filter.tenant)) continue;
      byTenant.set(tenant, { tenant, active: 0, cap: null, breaker: null, refusalsLastMinute: refused });
    }
  }
  return [...byTenant.values()].sort((a, b) => a.tenant.localeCompare(b.tenant));
}

function compareBy(key: SortKey): (a: TopSession, b: TopSession) => number {
  const tie = (a: TopSession, b: TopSession) => a.jobId.localeCompare(b.jobId);
  switch (key) {
    case 'duration':
      return (a, b) => b.durationMs - a.durationMs || tie(a, b);
    case 'turns':
      return (a, b) => b.turns - a.turns || tie(a, b);
    case 'latency':
      return (a, b) => (b.lastLatencyMs ?? -1) - (a.lastLatencyMs ?? -1) || tie(a, b);
    default:
      return (a, b) => a[key].localeCompare(b[key]) || tie(a, b);
  }
}

export function nextSortKey(key: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(key) + 1) % SORT_KEYS.length]!;
}

/** Cycles a filter through the values present, then back to none. */
export function nextFilterValue(current: string | undefined, values: readonly string[]): string | undefined {
  const sorted = [...new Set(values)].sort();
  if (sorted.length === 0) return undefined;
  if (current === undefined) return sorted[0];
  const index = sorted.indexOf(current);
  return index === -1 || index === sorted.length - 1 ? undefined : sorted[index + 1];
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
