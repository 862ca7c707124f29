/**
 * Session slots. `tryReserve` checks both caps and takes the slot in one atomic step,
 * which is what makes caps exact: a burst of simultaneous requests can never overshoot.
 * A shared store (Redis, for a fleet of workers) implements the same contract with a
 * script and leases; the admission logic does not change.
 */
export interface ReserveRequest {
  /** Unique per call (the LiveKit job id). */
  id: string;
  tenant: string;
  /** The tenant's cap, or undefined for none. */
  tenantCap: number | undefined;
  /** The worker's cap, or undefined for none. */
  globalCap: number | undefined;
}

export type ReserveResult = { reserved: true } | { reserved: false; reason: 'tenant_cap' | 'global_cap' };

export interface ReservationStore {
  tryReserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Frees a slot; resolves false when it was already free (or never taken). */
  release(id: string): Promise<boolean>;
  /** Slots held, by tenant (reserved and running alike). */
  countsByTenant(): Record<string, number>;
  total(): number;
}

export class InMemoryReservationStore implements ReservationStore {
  private readonly holders = new Map<string, string>();
  private readonly perTenant = new Map<string, number>();

  tryReserve({ id, tenant, tenantCap, globalCap }: ReserveRequest): Promise<ReserveResult> {
    if (this.holders.has(id)) return Promise.resolve({ reserved: true });
    if (tenantCap !== undefined && (this.perTenant.get(tenant) ?? 0) >= tenantCap) {
      return Promise.resolve({ reserved: false, reason: 'tenant_cap' });
    }
    if (globalCap !== undefined && this.holders.size >= globalCap) {
      return Promise.resolve({ reserved: false, reason: 'global_cap' });
    }
    this.holders.set(id, tenant);
    this.perTenant.set(tenant, (this.perTenant.get(tenant) ?? 0) + 1);
    return Promise.resolve({ reserved: true });
  }

  release(id: string): Promise<boolean> {
    const tenant = this.holders.get(id);
    if (tenant === undefined) return Promise.resolve(false);
    this.holders.delete(id);
    const left = (this.perTenant.get(tenant) ?? 1) - 1;
    if (left === 0) this.perTenant.delete(tenant);
    else this.perTenant.set(tenant, left);
    return Promise.resolve(true);
  }

  countsByTenant(): Record<string, number> {
    return Object.fromEntries(this.perTenant);
  }

  total(): number {
    return this.holders.size;
  }
}
