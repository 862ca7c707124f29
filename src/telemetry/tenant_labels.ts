/**
 * The cardinality guard for the `tenant` label. Every series carries a tenant, so the
 * number of tenants bounds the size of the whole metric set: an invalid id must never
 * become a label (it is attacker-chosen text), and a worker that sees more tenants than
 * a Prometheus can hold folds the rest into one series instead of growing without end.
 */

/** Label for calls whose tenant id was malformed. `~` is never part of a tenant id. */
export const INVALID_TENANT_LABEL = '~invalid';
/** Label for tenants seen after the label limit was reached. */
export const OTHER_TENANT_LABEL = '~other';
export const DEFAULT_TENANT_LABEL_LIMIT = 500;

/**
 * Labels are earned, not taken: a tenant gets one of its own when it is configured or a
 * call of it is admitted (`claim`), while the budget lasts. Everything else about a tenant
 * without one (refusals, loader results) is counted under `~other`, so a flood of refused
 * calls with random valid ids can never use up the budget that admitted tenants need.
 *
 * A label, once given, is never taken back, even when the pool retires the tenant's
 * record: its counters are cumulative series in the metrics SDK, and a label dropped and
 * later given again would restart them from 0, which Prometheus reads as a reset. So the
 * tenant series are bounded by the limit, not by the pool's retention of records.
 */
export class TenantLabeler {
  private readonly known = new Set<string>();
  private overflowed = false;

  constructor(
    private readonly limit: number,
    /** Called once, the first time an admitted tenant finds the budget used up. */
    private readonly onOverflow: (limit: number, firstFolded: string) => void,
  ) {}

  /** Gives a configured or admitted tenant a label of its own if the budget has room; returns its label. */
  claim(tenant: string): string {
    if (this.known.has(tenant)) return tenant;
    if (this.known.size < this.limit) {
      this.known.add(tenant);
      return tenant;
    }
    if (!this.overflowed) {
      this.overflowed = true;
      this.onOverflow(this.limit, tenant);
    }
    return OTHER_TENANT_LABEL;
  }

  /** The label value for a tenant, never claiming one; `undefined` stands for an invalid tenant id. */
  label(tenant: string | undefined): string {
    if (tenant === undefined) return INVALID_TENANT_LABEL;
    return this.known.has(tenant) ? tenant : OTHER_TENANT_LABEL;
  }

  /** Number of tenants with a label of their own. */
  get size(): number {
    return this.known.size;
  }
}
