import type { Redis } from 'ioredis';
import { type BreakerState, type Step, closed } from '../admission/breaker_state.js';
import { type BreakerStore, InMemoryBreakerStore } from '../admission/breaker_store.js';
import type { ManagedStore, StoreObserver, StoreStatus } from '../admission/store_status.js';
import { OpenRtcError } from '../errors.js';
import { type Clock, systemClock } from '../util/clock.js';
import { COMPARE_AND_SET } from './breaker_scripts.js';
import { type RedisStoreOptions, resolveRedisStoreOptions } from './fleet_options.js';
import { type BreakerKeys, breakerKeys } from './key_layout.js';
import { RedisLink } from './redis_link.js';

export interface RedisBreakerStoreOptions extends RedisStoreOptions {
  client: Redis;
  /** `close()` quits the client too. Default false. */
  ownsClient?: boolean;
  /** How many times an update re-reads and retries after losing a race before it gives up. Default 50. */
  maxAttempts?: number;
  clock?: Clock;
}

const STATE_NAMES = new Set(['closed', 'open', 'half_open']);

/**
 * Breaker state shared by a fleet of workers: one hash per tenant holding the state (its
 * outcome window included, as at most 20 time slices of counters, so the state written
 * per outcome stays small however busy the tenant) and a version. An update reads both, runs the pure transition
 * and writes the result only if the version is unchanged (breaker_scripts.ts), so a
 * tenant opened on one worker is open on all, and half-open probes are claimed one
 * version at a time: exactly `halfOpenProbes` across the fleet.
 *
 * While Redis is unreachable: `fail-open` (the default) decides on a local in-memory
 * store, so a failing tenant is still confined by this worker; `fail-closed` refuses
 * every call with `store_unavailable`. When Redis returns the fleet's state applies
 * again and the local one is dropped.
 */
export class RedisBreakerStore implements BreakerStore, ManagedStore {
  readonly kind = 'breaker' as const;
  private readonly keys: BreakerKeys;
  private readonly link: RedisLink;
  private readonly maxAttempts: number;
  private readonly ownsClient: boolean;
  private local = new InMemoryBreakerStore();

  constructor(options: RedisBreakerStoreOptions) {
    const resolved = resolveRedisStoreOptions(options, 'fail-open', 'breakerStore');
    const maxAttempts = options.maxAttempts ?? 50;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new OpenRtcError('invalid_option', '`breakerStore.maxAttempts` must be a positive integer');
    }
    this.maxAttempts = maxAttempts;
    this.ownsClient = options.ownsClient ?? false;
    this.keys = breakerKeys(resolved.keyPrefix);
    this.link = new RedisLink({
      store: 'breaker', client: options.client, policy: resolved.onUnavailable, clock: options.clock ?? systemClock,
      operationTimeoutMs: resolved.operationTimeoutMs, recoveryIntervalMs: resolved.recoveryIntervalMs,
      reconcile: () => {
        this.local = new InMemoryBreakerStore();
        return Promise.resolve();
      },
    });
  }

  start(): Promise<void> {
    return this.link.connected();
  }

  async update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>> {
    for (let attempt = 0; attempt < this.maxAttempts && this.link.up; attempt++) {
      const read = await this.link.call('read', (client) => this.readIn(client, tenant));
      if (!read.ok) break;
      const applied = step(read.value.state);
      // A decision that changes nothing (a closed breaker admitting) needs no write.
      if (applied.next === read.value.state && applied.transitions.length === 0) return applied;
      const written = await this.link.call('update', (client) => COMPARE_AND_SET.run(
        client, [this.keys.tenant(tenant), this.keys.tenants], [read.value.version, JSON.stringify(applied.next), tenant],
      ));
      if (!written.ok) break;
      if (written.value === 1) return applied;
    }
    if (this.link.up) {
      throw new OpenRtcError('store_unavailable', `breaker state of tenant "${tenant}" stayed contended for ${this.maxAttempts} attempts`);
    }
    return this.whileUnavailable(tenant, () => this.local.update(tenant, step));
  }

  async read(tenant: string): Promise<BreakerState> {
    if (this.link.up) {
      const read = await this.link.call('read', (client) => this.readIn(client, tenant));
      if (read.ok) return read.value.state;
    }
    return this.whileUnavailable(tenant, () => this.local.read(tenant));
  }

  async tenants(): Promise<string[]> {
    if (this.link.up) {
      const read = await this.link.call('read', (client) => client.smembers(this.keys.tenants));
      if (read.ok) return read.value;
    }
    return this.local.tenants();
  }

  status(): StoreStatus {
    return this.link.status();
  }

  observe(observer: StoreObserver): () => void {
    return this.link.observe(observer);
  }

  async close(): Promise<void> {
    this.link.close();
    if (this.ownsClient) await this.link.client.quit().catch(() => undefined);
  }

  private whileUnavailable<T>(tenant: string, local: () => Promise<T>): Promise<T> {
    if (this.link.status().mode === 'refusing') {
      return Promise.reject(new OpenRtcError('store_unavailable', `breaker state of tenant "${tenant}" is out of reach: Redis is unavailable`));
    }
    return local();
  }

  private async readIn(client: Redis, tenant: string): Promise<{ version: string; state: BreakerState }> {
    const [version, json] = await client.hmget(this.keys.tenant(tenant), 'v', 's');
    return { version: version ?? '0', state: parseState(json ?? null) };
  }
}

/**
 * A stored state, or closed when there is none (or it is not one this version wrote). A
 * closed state without an outcome window of counters (written before the window was kept
 * as time slices, when it held one entry per outcome) reads as closed with an empty window
 * and its episode kept: its outcomes are forgotten once, the breaker never fails on them.
 */
function parseState(json: string | null): BreakerState {
  if (json === null) return closed();
  try {
    const value = JSON.parse(json) as BreakerState;
    if (typeof value !== 'object' || value === null || !STATE_NAMES.has(value.name)) return closed();
    if (value.name === 'closed' && !Array.isArray(value.buckets)) {
      return closed([], typeof value.episode === 'number' ? value.episode : 0);
    }
    return value;
  } catch {
    return closed();
  }
}
