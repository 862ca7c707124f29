import type { BreakerStore } from '../admission/breaker_store.js';
import { InMemoryBreakerStore } from '../admission/breaker_store.js';
import { InMemoryReservationStore, type ReservationStore } from '../admission/reservation_store.js';
import { MEMORY_STORE_STATUS, type ManagedStore, type StoreObserver, type StoresSnapshot, isManagedStore } from '../admission/store_status.js';
import { OpenRtcError } from '../errors.js';
import type { FleetStores } from '../fleet/fleet_stores.js';

/**
 * The pool's two stores. The pool decides through `reservations` and `breaker`, which
 * forward to the current stores: the in-memory ones or those given in the options, until
 * `run({ redis })` puts the Redis stores in their place before the first call. A store
 * with a lifecycle (ManagedStore) is started with the worker, observed for telemetry,
 * and closed with the worker when the pool made it.
 */
export class PoolStores {
  private currentReservations: ReservationStore;
  private currentBreaker: BreakerStore;
  private readonly explicit: boolean;
  private owned: FleetStores | undefined;
  private readonly unobserve: (() => void)[] = [];

  readonly reservations: ReservationStore = {
    tryReserve: (request) => this.currentReservations.tryReserve(request),
    release: (id) => this.currentReservations.release(id),
    countsByTenant: () => this.currentReservations.countsByTenant(),
    total: () => this.currentReservations.total(),
  };

  readonly breaker: BreakerStore = {
    update: (tenant, step) => this.currentBreaker.update(tenant, step),
    read: (tenant) => this.currentBreaker.read(tenant),
    tenants: () => this.currentBreaker.tenants(),
  };

  constructor(
    reservations: ReservationStore | undefined,
    breaker: BreakerStore | undefined,
    private readonly hasBreaker: boolean,
    private readonly observer: StoreObserver,
  ) {
    this.explicit = reservations !== undefined || breaker !== undefined;
    this.currentReservations = reservations ?? new InMemoryReservationStore();
    this.currentBreaker = breaker ?? new InMemoryBreakerStore();
    this.observe();
  }

  /** Puts the Redis stores in place; only before the first call, and not over stores given in the options. */
  useFleet(fleet: FleetStores): void {
    if (this.explicit) {
      throw new OpenRtcError('invalid_option', '`redis` (or `openrtc start --workers`, whose children share the primary\'s stores) cannot be combined with the `reservationStore` or `breakerStore` pool options');
    }
    this.owned = fleet;
    this.currentReservations = fleet.reservations;
    if (fleet.breaker) this.currentBreaker = fleet.breaker;
    this.observe();
  }

  /** Starts the stores that have a lifecycle (a Redis reservation store sweeps this worker's stale leases). */
  async start(): Promise<void> {
    for (const store of this.managed()) await store.start();
  }

  /** Closes the stores the pool made; stores given in the options stay open for their owner. */
  async close(): Promise<void> {
    const owned = this.owned;
    if (!owned) return;
    // The breaker first: the reservation store closes the client both use.
    await owned.breaker?.close();
    await owned.reservations.close();
  }

  status(): StoresSnapshot {
    const status = (store: object) => (isManagedStore(store) ? store.status() : { ...MEMORY_STORE_STATUS });
    return { reservations: status(this.currentReservations), breaker: this.hasBreaker ? status(this.currentBreaker) : null };
  }

  private managed(): ManagedStore[] {
    const stores: object[] = this.hasBreaker ? [this.currentReservations, this.currentBreaker] : [this.currentReservations];
    return stores.filter((store): store is ManagedStore => isManagedStore(store));
  }

  private observe(): void {
    for (const off of this.unobserve.splice(0)) off();
    for (const store of this.managed()) this.unobserve.push(store.observe(this.observer));
  }
}
