/**
 * The breaker's closed-state window as openrtc kept it before the time slices: one entry
 * per outcome, filtered and copied on every outcome. Kept here, in the bench only, as the
 * baseline the slices are measured against; the lines are those of the old
 * `recordOutcome` for a closed breaker (the only branch whose cost grew with traffic).
 */
import type { BreakerPolicy } from '../../src/index.js';

export interface OutcomeSample {
  at: number;
  failed: boolean;
}

/** Returns the new window, or null where the old code opened the breaker. */
export function recordOutcomeInArray(samples: OutcomeSample[], policy: BreakerPolicy, now: number, failed: boolean): OutcomeSample[] | null {
  const next = [...samples.filter((s) => s.at > now - policy.windowMs), { at: now, failed }];
  const failures = next.filter((s) => s.failed).length;
  if (next.length >= policy.minSamples && failures / next.length > policy.failureRatio) return null;
  return next;
}
