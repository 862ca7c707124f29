import { createRequire } from 'node:module';
import type * as IoRedis from 'ioredis';
import type { Redis } from 'ioredis';

// ioredis (about 100 modules) is required on first use, so a worker without Redis never
// loads it; it is CommonJS, so a synchronous require keeps this function synchronous.
const requireModule = createRequire(import.meta.url);

/**
 * A client for the stores, made from a URL. Admission must not wait on a Redis that is
 * gone: commands fail at once while the connection is down (no offline queue, no
 * per-command retries) and the store's outage policy decides; the client keeps
 * reconnecting in the background, and the store's recovery probe notices when it is back.
 */
export function createRedisClient(url: string): Redis {
  const { Redis: RedisClient } = requireModule('ioredis') as typeof IoRedis;
  return new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
    // Connection errors reach the stores through failed commands; the client's own
    // 'error' events would otherwise print every reconnect attempt.
    lazyConnect: false,
  }).on('error', () => undefined);
}
