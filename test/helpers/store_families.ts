/**
 * Metric families that only a pool on the Redis stores exports (a store call to a backend,
 * its failures, its switches away and back). The in-memory scrapes leave them out of their
 * catalogue checks; test/fleet/store_metrics.test.ts scrapes a worker on Redis and checks
 * them there, so every catalogued family is checked by some scrape.
 */
export const REDIS_ONLY_FAMILIES: readonly string[] = [
  'openrtc_store_operation_duration_seconds',
  'openrtc_store_errors_total',
  'openrtc_store_mode_switches_total',
];
