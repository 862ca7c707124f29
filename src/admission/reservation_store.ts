/**
 * Session slots, held as leases. The pool calls `tryReserve` once per accepted call and
 * `release` exactly once for every lease it was granted, when the session ends or its
 * assignment never comes. Every method is asynchronous so that a store shared by a fleet
 * of workers (Redis) can implement the same contract; the admission logic does not change.
 *
 * The contract a store must keep:
 * - **Atomic reserve.** `tryReserve` checks the tenant cap and the global cap and takes the
 *   slot as one indivisible step with respect to every other `tryReserve` and `release`
 *   on the same store (for a shared store: from any worker). Two requests can never both
 *   see room for the last slot; a burst of simultaneous requests never overshoots a cap.
 * - **Idempotent by lease id.** Reserving an id that is already held resolves
 *   `{ reserved: true }` without taking a second slot. Releasing an id that is not held
 *   (already released, expired, or never granted) resolves `false` and changes nothing.
 * - **Caps come with each request.** The store keeps no caps of its own, so a cap change
 *   takes effect on the next request.
 * - **Reads are for reporting.** `countsByTenant` and `total` are point-in-time views that
 *   may be stale as soon as they resolve; no admission decision is made from them.
 * - **Leases may expire.** A shared store may give each lease a time to live and renew the
 *   leases it granted until they are released, so the slots of a crashed worker return.
 *   The in-memory store lives and dies with its process and needs no expiry.
 * - **Rejecting is safe.** When `tryReserve` rejects, the pool refuses the call with
 *   `store_unavailable` and releases the lease id in case the slot was taken before the
 *   failure; a rejected `release` is reported as a process warning.
 */
export interface ReserveRequest {
  /** The lease id: unique per call (the LiveKit job id). */
  id: string;
  tenant: string;
  /** The tenant's cap, or undefined for none. */
  tenantCap: number | undefined;
  /** The worker's (or fleet's) cap, or undefined for none. */
  globalCap: number | undefined;
}

/**
 * `store_unavailable`: a shared store could not reach its backend and its declared policy
 * is to refuse (`fail-closed`) rather than decide without the fleet.
 */
export type ReserveResult = { reserved: true } | { reserved: false; reason: 'tenant_cap' | 'global_cap' | 'store_unavailable' };

export interface ReservationStore {
  /** Checks both caps and takes the slot in one atomic step (see the contract above). */
  tryReserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Frees a lease by id; resolves false when it was not held. */
  release(id: string): Promise<boolean>;
  /** Slots held, by tenant (reserved and running alike); tenants holding none are absent. */
  countsByTenant(): Promise<Record<string, number>>;
  /** Slots held in all. */
  total(): Promise<number>;
}

/**
 * The default store, for one worker. Each method does its work synchronously before it
 * returns its promise, so no other call can interleave with a check and its take: that
 * is what makes it exact under any burst of simultaneous admissions.
 */
export class InMemoryReservationStore implements ReservationStore {
  private readonly holders = new Map<string, string>();
  private readonly perTenant = new Map<string, number>();

  tryReserve({ id, tenant, tenantCap, globalCap }: ReserveRequest): Promise<ReserveResult> {
    return Promise.resolve(this.reserveNow(id, tenant, tenantCap, globalCap));
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

  countsByTenant(): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(this.perTenant));
  }

  total(): Promise<number> {
    return Promise.resolve(this.holders.size);
  }

  private reserveNow(id: string, tenant: string, tenantCap: number | undefined, globalCap: number | undefined): ReserveResult {
    if (this.holders.has(id)) return { reserved: true };
    if (tenantCap !== undefined && (this.perTenant.get(tenant) ?? 0) >= tenantCap) return { reserved: false, reason: 'tenant_cap' };
    if (globalCap !== undefined && this.holders.size >= globalCap) return { reserved: false, reason: 'global_cap' };
    this.holders.set(id, tenant);
    this.perTenant.set(tenant, (this.perTenant.get(tenant) ?? 0) + 1);
    return { reserved: true };
  }
}
