/**
 * The breaker's rolling window of session outcomes, kept as counters per time slice
 * instead of one entry per outcome, so that recording an outcome costs the same whether
 * the tenant had ten calls in the window or fifty thousand (and a shared store writes a
 * state of bounded size).
 *
 * The window is cut into `BUCKETS_PER_WINDOW` slices of `bucketWidthMs(windowMs)`, aligned
 * to multiples of that width since the epoch, so that every worker of a fleet cuts the
 * same slices. An outcome counts while the start of its slice is inside the window
 * (`start > now - windowMs`): it counts from the moment it is recorded for at least
 * `windowMs - width` and never longer than `windowMs`. Against an exact per-outcome window
 * the edge is therefore up to one slice (5% of the window) early, never late.
 */
export interface OutcomeBucket {
  /** Start of the slice, ms since the epoch: a multiple of the slice width. */
  start: number;
  successes: number;
  failures: number;
}

/** Slices per window: the window edge is exact to 1/20 of the window. */
export const BUCKETS_PER_WINDOW = 20;

/** Width of one slice, whole ms (at least 1) so that slice starts stay exact integers. */
export function bucketWidthMs(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
}

/** Start of the slice that an outcome recorded at `at` falls into. */
export function bucketStart(at: number, windowMs: number): number {
  const width = bucketWidthMs(windowMs);
  return Math.floor(at / width) * width;
}

/** Whether a slice still counts as of `now`. */
function isLive(bucket: OutcomeBucket, now: number, windowMs: number): boolean {
  return bucket.start > now - windowMs;
}

/**
 * The window with one more outcome, recorded at `now`, and with the slices that left the
 * window dropped. Slices are kept oldest first. An outcome stamped earlier than the newest
 * slice (a fleet worker whose clock lags another's) is counted in the newest slice, which
 * keeps the slices ordered and their number bounded.
 */
export function addOutcome(buckets: readonly OutcomeBucket[], now: number, windowMs: number, failed: boolean): OutcomeBucket[] {
  const kept = liveBuckets(buckets, now, windowMs);
  const start = bucketStart(now, windowMs);
  const newest = kept[kept.length - 1];
  if (newest !== undefined && newest.start >= start) {
    kept[kept.length - 1] = failed ? { ...newest, failures: newest.failures + 1 } : { ...newest, successes: newest.successes + 1 };
  } else {
    kept.push({ start, successes: failed ? 0 : 1, failures: failed ? 1 : 0 });
  }
  return kept;
}

/** The slices still inside the window as of `now`, oldest first (a new array). */
export function liveBuckets(buckets: readonly OutcomeBucket[], now: number, windowMs: number): OutcomeBucket[] {
  let first = 0;
  while (first < buckets.length && !isLive(buckets[first] as OutcomeBucket, now, windowMs)) first++;
  return buckets.slice(first);
}

/** Outcomes and failures in the given slices. */
export function tally(buckets: readonly OutcomeBucket[]): { samples: number; failures: number } {
  let samples = 0;
  let failures = 0;
  for (const bucket of buckets) {
    samples += bucket.successes + bucket.failures;
    failures += bucket.failures;
  }
  return { samples, failures };
}

/** True when no outcome of the window still counts as of `now`. */
export function isWindowEmpty(buckets: readonly OutcomeBucket[], now: number, windowMs: number): boolean {
  return buckets.every((bucket) => !isLive(bucket, now, windowMs));
}
