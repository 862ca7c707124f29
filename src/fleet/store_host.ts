import type { BreakerState } from '../admission/breaker_state.js';
import { InMemoryReservationStore } from '../admission/reservation_store.js';
import type { StoreReplies, StoreRequest, VersionedBreakerState } from './ipc_protocol.js';

/**
 * The primary's side of `openrtc start --workers N`: one in-memory reservation store and
 * one breaker table for all children, so a tenant's cap and breaker are exact across
 * every core. It runs each request to completion before the next (one event loop), which
 * is what makes a reserve atomic across children, as InMemoryReservationStore is within
 * one process.
 *
 * It remembers which child holds each lease, so when a child dies its slots are freed at
 * once (`releaseHeldBy`): the in-memory store has no lease expiry to do it later.
 *
 * The breaker is kept as versioned states and written by compare-and-set, as the Redis
 * store does: the transition (a pure function holding the pool's policy) runs in the
 * child, the primary only accepts a write naming the version it read. Versions come from
 * one counter that never goes back, so a state deleted at rest and written again never
 * reuses a version a slow child may still hold.
 */
export class StoreHost {
  private readonly reservations = new InMemoryReservationStore();
  private readonly holders = new Map<string, number>();
  private readonly breaker = new Map<string, { version: number; state: BreakerState }>();
  private nextVersion = 1;

  /** Answers one request from child `child`. */
  async handle(child: number, request: StoreRequest): Promise<StoreReplies[StoreRequest['op']]> {
    switch (request.op) {
      case 'reserve': {
        const result = await this.reservations.tryReserve(request.request);
        if (result.reserved) this.holders.set(request.request.id, child);
        return result;
      }
      case 'release':
        this.holders.delete(request.id);
        return this.reservations.release(request.id);
      case 'counts':
        return this.reservations.countsByTenant();
      case 'total':
        return this.reservations.total();
      case 'breakerRead':
        return this.readBreaker(request.tenant);
      case 'breakerWrite':
        return this.writeBreaker(request.tenant, request.version, request.state, request.pristine);
      case 'breakerTenants':
        return [...this.breaker.keys()];
    }
  }

  /** Frees every lease child `child` held; returns how many. */
  async releaseHeldBy(child: number): Promise<number> {
    const held = [...this.holders].filter(([, holder]) => holder === child).map(([id]) => id);
    for (const id of held) {
      this.holders.delete(id);
      await this.reservations.release(id);
    }
    return held.length;
  }

  /** Leases held, by child index (for the log line when a child exits). */
  heldBy(child: number): number {
    let count = 0;
    for (const holder of this.holders.values()) if (holder === child) count++;
    return count;
  }

  private readBreaker(tenant: string): VersionedBreakerState {
    const entry = this.breaker.get(tenant);
    return entry ? { version: entry.version, state: entry.state } : { version: 0, state: null };
  }

  private writeBreaker(tenant: string, version: number, state: BreakerState, pristine: boolean): boolean {
    if ((this.breaker.get(tenant)?.version ?? 0) !== version) return false;
    // A pristine state decides like none: deleting it keeps the table bounded.
    if (pristine) this.breaker.delete(tenant);
    else this.breaker.set(tenant, { version: this.nextVersion++, state });
    return true;
  }
}
