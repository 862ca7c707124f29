import type { Redis } from 'ioredis';
import type { ReservationStore, ReserveRequest, ReserveResult } from '../admission/reservation_store.js';
import type { ManagedStore, StoreObserver, StoreStatus } from '../admission/store_status.js';
import { positiveMillis } from '../util/validate.js';
import { type Clock, type TimerHandle, systemClock } from '../util/clock.js';
import { type RedisStoreOptions, defaultWorkerId, fraction, resolveRedisStoreOptions, validateWorkerId } from './fleet_options.js';
import { COUNTS, RELEASE, RENEW, RESERVE, SWEEP } from './lease_scripts.js';
import { type LeaseKeys, leaseKeys } from './key_layout.js';
import { RedisLink } from './redis_link.js';

export interface RedisReservationStoreOptions extends RedisStoreOptions {
  client: Redis;
  /** `close()` quits the client too. Default false: a client you pass stays yours. */
  ownsClient?: boolean;
  /** Who holds this worker's leases; unique among live workers. Default: env OPENRTC_WORKER_ID, else host/pid. */
  workerId?: string;
  /** How long a lease outlives its last renewal: a crashed worker's slots return after this, in ms. Default 30 000. */
  leaseTtlMs?: number;
  /** How often live leases are renewed, in ms. Default a third of the TTL. */
  heartbeatIntervalMs?: number;
  /**
   * With `onUnavailable: 'fail-open'`, the share of each cap this worker may fill on its
   * own while Redis is unreachable (its live sessions included), rounded down. Default 0.25.
   */
  failOpenCapFraction?: number;
  clock?: Clock;
}

/**
 * Session slots shared by a fleet of workers through Redis (see lease_scripts.ts and
 * docs/fleet.md). Every lease this worker holds is also kept here, in `held`: that is
 * what the heartbeat renews, what is written back when Redis returns (once per lease:
 * a lease id is a set member, so writing it twice counts it once), and, with the
 * `fail-open` policy, what the local per-worker caps count while Redis is away.
 */
export class RedisReservationStore implements ReservationStore, ManagedStore {
  readonly kind = 'reservations' as const;
  readonly workerId: string;
  readonly leaseTtlMs: number;
  private readonly keys: LeaseKeys;
  private readonly link: RedisLink;
  private readonly clock: Clock;
  private readonly heartbeatIntervalMs: number;
  private readonly failOpenCapFraction: number;
  private readonly ownsClient: boolean;
  /** Leases this worker holds: job id -> tenant. */
  private readonly held = new Map<string, string>();
  /** Leases released while Redis was unreachable, freed there once it answers. */
  private readonly unreleased = new Map<string, string>();
  private heartbeat: TimerHandle | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(options: RedisReservationStoreOptions) {
    const resolved = resolveRedisStoreOptions(options, 'fail-closed', 'reservationStore');
    this.workerId = validateWorkerId(options.workerId ?? defaultWorkerId(), 'reservationStore.workerId');
    this.leaseTtlMs = positiveMillis('reservationStore.leaseTtlMs', options.leaseTtlMs, 30_000);
    this.heartbeatIntervalMs = positiveMillis('reservationStore.heartbeatIntervalMs', options.heartbeatIntervalMs, this.leaseTtlMs / 3);
    this.failOpenCapFraction = fraction('reservationStore.failOpenCapFraction', options.failOpenCapFraction, 0.25);
    this.clock = options.clock ?? systemClock;
    this.ownsClient = options.ownsClient ?? false;
    this.keys = leaseKeys(resolved.keyPrefix, this.workerId);
    this.link = new RedisLink({
      store: 'reservations', client: options.client, policy: resolved.onUnavailable, clock: this.clock,
      operationTimeoutMs: resolved.operationTimeoutMs, recoveryIntervalMs: resolved.recoveryIntervalMs,
      reconcile: () => this.reconcile(),
    });
  }

  /** Frees the leases this worker's previous life left behind, then starts renewing. */
  start(): Promise<void> {
    this.starting ??= this.sweepAndBeat();
    return this.starting;
  }

  async tryReserve({ id, tenant, tenantCap, globalCap }: ReserveRequest): Promise<ReserveResult> {
    if (this.held.has(id)) return { reserved: true };
    await this.start();
    if (this.link.up) {
      const answer = await this.link.call('reserve', (client) => RESERVE.run(
        client,
        [this.keys.tenant(tenant), this.keys.all, this.keys.worker, this.keys.tenants],
        [id, tenant, tenantCap ?? '', globalCap ?? '', this.leaseTtlMs],
      ));
      if (answer.ok) {
        if (answer.value === -1) return { reserved: false, reason: 'tenant_cap' };
        if (answer.value === -2) return { reserved: false, reason: 'global_cap' };
        if (answer.value === -3) return { reserved: false, reason: 'store_unavailable' };
        this.held.set(id, tenant);
        return { reserved: true };
      }
      // The script may have run before the answer was lost: free that lease once Redis answers.
      this.unreleased.set(id, tenant);
    }
    if (this.link.status().mode === 'refusing') return { reserved: false, reason: 'store_unavailable' };
    return this.reserveLocally(id, tenant, tenantCap, globalCap);
  }

  async release(id: string): Promise<boolean> {
    const tenant = this.held.get(id);
    if (tenant === undefined) return false;
    // Forget it first: from here on no heartbeat renews it, so it expires even if the
    // delete below never reaches Redis.
    this.held.delete(id);
    if (!this.link.up) {
      this.unreleased.set(id, tenant);
      return true;
    }
    const answer = await this.link.call('release', (client) => this.releaseIn(client, id, tenant));
    if (!answer.ok) this.unreleased.set(id, tenant);
    return true;
  }

  /** The fleet's live leases by tenant; this worker's own while Redis is unreachable. */
  async countsByTenant(): Promise<Record<string, number>> {
    const counts = await this.fleetCounts();
    if (counts) return counts.byTenant;
    const local: Record<string, number> = {};
    for (const tenant of this.held.values()) local[tenant] = (local[tenant] ?? 0) + 1;
    return local;
  }

  /** The fleet's live leases in all; this worker's own while Redis is unreachable. */
  async total(): Promise<number> {
    const counts = await this.fleetCounts();
    return counts ? counts.total : this.held.size;
  }

  /** Leases this worker holds now. */
  heldByThisWorker(): number {
    return this.held.size;
  }

  status(): StoreStatus {
    return this.link.status();
  }

  observe(observer: StoreObserver): () => void {
    return this.link.observe(observer);
  }

  /**
   * Stops renewing. Leases still held are left to expire (a worker that closes with live
   * sessions is going away); close after the sessions ended to free them at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat?.cancel();
    this.link.close();
    await this.starting?.catch(() => undefined);
    if (this.ownsClient) await this.link.client.quit().catch(() => undefined);
  }

  private reserveLocally(id: string, tenant: string, tenantCap: number | undefined, globalCap: number | undefined): ReserveResult {
    const share = (cap: number) => Math.floor(cap * this.failOpenCapFraction);
    if (tenantCap !== undefined) {
      let mine = 0;
      for (const t of this.held.values()) if (t === tenant) mine++;
      if (mine >= share(tenantCap)) return { reserved: false, reason: 'tenant_cap' };
    }
    if (globalCap !== undefined && this.held.size >= share(globalCap)) return { reserved: false, reason: 'global_cap' };
    this.held.set(id, tenant);
    return { reserved: true };
  }

  private async sweepAndBeat(): Promise<void> {
    await this.link.connected();
    await this.link.call('sweep', (client) => SWEEP.run(client, [this.keys.all, this.keys.worker], [this.keys.tenantPrefix]));
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.heartbeat = this.clock.setTimer(() => {
      void this.beat().finally(() => this.scheduleHeartbeat());
    }, this.heartbeatIntervalMs);
  }

  private async beat(): Promise<void> {
    // While Redis is away the link's own recovery reconciles; a beat would only fail again.
    if (!this.link.up || this.held.size === 0) return;
    await this.link.call('renew', (client) => this.renewIn(client));
  }

  /** Puts Redis back in step after an outage: frees what was released, writes back what is held. */
  private async reconcile(): Promise<void> {
    const client = this.link.client;
    for (const [id, tenant] of [...this.unreleased]) {
      // Held again since (granted locally meanwhile): the write-back below keeps it.
      if (!this.held.has(id)) await this.releaseIn(client, id, tenant);
      this.unreleased.delete(id);
    }
    if (this.held.size > 0) await this.renewIn(client);
  }

  private releaseIn(client: Redis, id: string, tenant: string): Promise<unknown> {
    return RELEASE.run(client, [this.keys.tenant(tenant), this.keys.all, this.keys.worker], [id]);
  }

  /** Renews every held lease in one script; the list is taken synchronously, before the call is sent. */
  private renewIn(client: Redis): Promise<unknown> {
    const leases = [...this.held];
    return RENEW.run(
      client,
      [this.keys.all, this.keys.worker, this.keys.tenants, ...leases.map(([, tenant]) => this.keys.tenant(tenant))],
      [this.leaseTtlMs, ...leases.flatMap(([id, tenant]) => [id, tenant])],
    );
  }

  private async fleetCounts(): Promise<{ total: number; byTenant: Record<string, number> } | undefined> {
    if (!this.link.up) return undefined;
    const answer = await this.link.call('counts', (client) => COUNTS.run(client, [this.keys.all, this.keys.tenants], [this.keys.tenantPrefix]));
    if (!answer.ok) return undefined;
    const [total, ...pairs] = answer.value as (string | number)[];
    const byTenant: Record<string, number> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) byTenant[String(pairs[i])] = Number(pairs[i + 1]);
    return { total: Number(total), byTenant };
  }
}
