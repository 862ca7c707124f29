import type { Counter } from '@opentelemetry/api';
import { REFUSAL_REASONS, type RefusalReason } from '../errors.js';
import type { SessionOutcome } from '../admission/admission_ticket.js';
import { INVALID_TENANT_LABEL } from './tenant_labels.js';

const OUTCOMES: readonly SessionOutcome[] = ['success', 'failed', 'cancelled'];
// invalid_tenant only ever applies to the `~invalid` marker, never to a real tenant.
const TENANT_REFUSALS: readonly RefusalReason[] = REFUSAL_REASONS.filter((reason) => reason !== 'invalid_tenant');
const FAILED_LOADS = ['error', 'timeout'] as const;

export interface SeededCounters {
  started: Counter;
  ended: Counter;
  admissions: Counter;
  refusals: Counter;
  transitions: Counter;
  configLoads: Counter;
}

/**
 * Creates a tenant's counter series at 0 before anything happens to it. Prometheus's
 * `increase()` and `rate()` cannot see the increment that creates a series, so without
 * these a tenant's first session, first refusal or first breaker opening would read as
 * no change at all. Each (tenant, agent) pair is seeded once.
 */
export class SeriesSeeder {
  private readonly tenantsDone = new Set<string>();
  private readonly pairsDone = new Set<string>();

  constructor(private readonly counters: SeededCounters) {}

  /**
   * Seeds the tenant's series, and its agents' ones for each agent given. `hasBreaker` is
   * asked only for a tenant not seeded yet, since the answer may cost a snapshot.
   */
  seed(tenant: string, agents: readonly string[], hasBreaker: () => boolean): void {
    if (tenant === INVALID_TENANT_LABEL) return;
    const c = this.counters;
    if (!this.tenantsDone.has(tenant)) {
      this.tenantsDone.add(tenant);
      for (const reason of TENANT_REFUSALS) c.refusals.add(0, { tenant, reason });
      for (const result of FAILED_LOADS) c.configLoads.add(0, { tenant, result });
      if (hasBreaker()) c.transitions.add(0, { tenant, from: 'closed', to: 'open' });
    }
    for (const agent of agents) {
      const key = `${tenant}\u0000${agent}`;
      if (this.pairsDone.has(key)) continue;
      this.pairsDone.add(key);
      c.started.add(0, { tenant, agent });
      for (const outcome of OUTCOMES) c.ended.add(0, { tenant, agent, outcome });
      c.admissions.add(0, { tenant, agent, decision: 'accepted' });
      c.admissions.add(0, { tenant, agent, decision: 'refused' });
    }
  }
}
