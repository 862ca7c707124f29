import { hostname } from 'node:os';
import { invalidOption } from '../errors.js';
import type { OutagePolicy } from '../admission/store_status.js';
import { positiveMillis } from '../util/validate.js';

/** Settings both Redis stores share. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key, one per deployment (fleets sharing a Redis must not share a
   * prefix). Letters, digits and `:_-.{}` only. Default `openrtc:`.
   */
  keyPrefix?: string;
  /** What the store does while Redis is unreachable. */
  onUnavailable?: OutagePolicy;
  /** A Redis call not answered after this long counts as a failure, in ms. Default 500. */
  operationTimeoutMs?: number;
  /** How often an unreachable Redis is tried again, in ms. Default 1 000. */
  recoveryIntervalMs?: number;
}

export interface ResolvedRedisStoreOptions {
  keyPrefix: string;
  onUnavailable: OutagePolicy;
  operationTimeoutMs: number;
  recoveryIntervalMs: number;
}

const KEY_PREFIX = /^[A-Za-z0-9:_.{}-]{1,64}$/;
export const DEFAULT_KEY_PREFIX = 'openrtc:';

export function resolveRedisStoreOptions(
  options: RedisStoreOptions,
  defaultPolicy: OutagePolicy,
  option: string,
): ResolvedRedisStoreOptions {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string' || !KEY_PREFIX.test(keyPrefix)) {
    throw invalidOption(`${option}.keyPrefix`, 'must be 1-64 characters of letters, digits and :_-.{}', keyPrefix);
  }
  const onUnavailable = options.onUnavailable ?? defaultPolicy;
  if (onUnavailable !== 'fail-closed' && onUnavailable !== 'fail-open') {
    throw invalidOption(`${option}.onUnavailable`, 'must be "fail-closed" or "fail-open"', onUnavailable);
  }
  return {
    keyPrefix,
    onUnavailable,
    operationTimeoutMs: positiveMillis(`${option}.operationTimeoutMs`, options.operationTimeoutMs, 500),
    recoveryIntervalMs: positiveMillis(`${option}.recoveryIntervalMs`, options.recoveryIntervalMs, 1_000),
  };
}

/**
 * Who holds a lease. It must differ between workers that run at the same time, and a
 * worker restarted in place should get its old one back so it can free what its
 * previous life left: host name and process id do both on a host (a container's main
 * process keeps its pid across restarts). `OPENRTC_WORKER_ID` overrides it.
 */
export function defaultWorkerId(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENRTC_WORKER_ID ?? `${hostname()}/${process.pid}`;
}

export function validateWorkerId(workerId: unknown, option: string): string {
  if (typeof workerId !== 'string' || !/^[A-Za-z0-9:_./-]{1,128}$/.test(workerId)) {
    throw invalidOption(option, 'must be 1-128 characters of letters, digits and :_./-', workerId);
  }
  return workerId;
}

export function fraction(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw invalidOption(option, 'must be a number above 0 and at most 1', value);
  }
  return value;
}
