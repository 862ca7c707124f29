import type { Redis } from 'ioredis';
import type { OutagePolicy } from '../admission/store_status.js';
import { OpenRtcError, invalidOption } from '../errors.js';
import type { RedisStoreOptions } from './fleet_options.js';
import { RedisBreakerStore } from './redis_breaker_store.js';
import { CHILD_STORES_ENV } from './ipc_protocol.js';
import { IpcBreakerStore, IpcReservationStore, StoreClient } from './ipc_stores.js';
import { createRedisClient } from './redis_client.js';
import { RedisReservationStore } from './redis_reservation_store.js';

/** `pool.run({ redis })`: caps and breaker state shared by every worker on one Redis. */
export interface FleetOptions extends Omit<RedisStoreOptions, 'onUnavailable'> {
  /** `redis://…` URL; the pool opens (and closes) its own client. Give this or `client`. */
  url?: string;
  /** A client you made; the pool never closes it. */
  client?: Redis;
  /** Who holds this worker's leases; unique among live workers. Default: env OPENRTC_WORKER_ID, else host/pid. */
  workerId?: string;
  /** A crashed worker's slots come back this long after its last renewal, in ms. Default 30 000. */
  leaseTtlMs?: number;
  reservations?: {
    /** Default `fail-closed`: caps stay exact, calls are refused with `store_unavailable`. */
    onUnavailable?: OutagePolicy;
    /** With `fail-open`: the share of each cap this worker fills alone while Redis is away. Default 0.25. */
    failOpenCapFraction?: number;
  };
  breaker?: {
    /** Default `fail-open`: each worker keeps a breaker of its own until Redis returns. */
    onUnavailable?: OutagePolicy;
  };
}

export type RedisOption = string | Redis | FleetOptions;

/** Stores shared with other workers: on Redis, or held by `openrtc start --workers N`'s primary. */
export interface FleetStores {
  reservations: RedisReservationStore | IpcReservationStore;
  /** Undefined when the pool has no breaker. */
  breaker: RedisBreakerStore | IpcBreakerStore | undefined;
}

/**
 * The Redis stores for `run({ redis })`, else for env OPENRTC_REDIS_URL; else, in a child
 * of `openrtc start --workers N`, the stores its primary process holds; undefined when
 * none of these applies (the pool keeps its in-memory stores).
 */
export function fleetStoresFrom(
  option: RedisOption | undefined,
  env: NodeJS.ProcessEnv,
  withBreaker: boolean,
): FleetStores | undefined {
  const fromEnv = env.OPENRTC_REDIS_URL;
  const resolved: RedisOption | undefined = option ?? (fromEnv ? fromEnv : undefined);
  if (resolved === undefined) return env[CHILD_STORES_ENV] === 'primary' ? primaryStores(withBreaker) : undefined;
  const fleet = normalise(resolved);
  const owned = fleet.client === undefined;
  const client = fleet.client ?? createRedisClient(checkedUrl(fleet.url));
  const shared = {
    client,
    keyPrefix: fleet.keyPrefix ?? env.OPENRTC_REDIS_KEY_PREFIX,
    operationTimeoutMs: fleet.operationTimeoutMs,
    recoveryIntervalMs: fleet.recoveryIntervalMs,
  };
  // The reservation store closes a client the pool opened; the breaker store never does.
  const reservations = new RedisReservationStore({
    ...shared,
    ownsClient: owned,
    workerId: fleet.workerId,
    leaseTtlMs: fleet.leaseTtlMs,
    onUnavailable: fleet.reservations?.onUnavailable,
    failOpenCapFraction: fleet.reservations?.failOpenCapFraction,
  });
  const breaker = withBreaker ? new RedisBreakerStore({ ...shared, onUnavailable: fleet.breaker?.onUnavailable }) : undefined;
  return { reservations, breaker };
}

/** The stores of a child of `openrtc start --workers N`, answered by its primary over the IPC channel. */
function primaryStores(withBreaker: boolean): FleetStores {
  if (typeof process.send !== 'function') {
    throw new OpenRtcError('invalid_option', `${CHILD_STORES_ENV}=primary is set by \`openrtc start --workers\` for its children; this process has no channel to a primary`);
  }
  const client = new StoreClient(process);
  return { reservations: new IpcReservationStore(client), breaker: withBreaker ? new IpcBreakerStore(client) : undefined };
}

function normalise(option: RedisOption): FleetOptions {
  if (typeof option === 'string') return { url: option };
  if (isRedisClient(option)) return { client: option };
  if (typeof option !== 'object' || option === null) throw invalidOption('redis', 'must be a URL, an ioredis client or fleet options', option);
  if ((option.url === undefined) === (option.client === undefined)) {
    throw new OpenRtcError('invalid_option', '`redis` options must name exactly one of `url` and `client`');
  }
  if (option.client !== undefined && !isRedisClient(option.client)) throw invalidOption('redis.client', 'must be an ioredis client', option.client);
  return option;
}

function isRedisClient(value: unknown): value is Redis {
  return typeof value === 'object' && value !== null
    && typeof (value as Redis).evalsha === 'function' && typeof (value as Redis).ping === 'function';
}

/** Checks the scheme; the URL itself is never echoed (it may carry a password). */
function checkedUrl(url: unknown): string {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new OpenRtcError('invalid_option', '`redis` URL (or OPENRTC_REDIS_URL) must start with redis:// or rediss://');
  }
  return url;
}
