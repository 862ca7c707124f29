import type { BreakerPolicy } from './breaker_policy.js';
import { type OutcomeBucket, addOutcome, isWindowEmpty, tally } from './outcome_window.js';

/**
 * A tenant's breaker as plain data: the pure transition functions below decide, a
 * BreakerStore applies them atomically. Keeping the state serializable is what lets a
 * shared store (Redis) hold it for a fleet of workers.
 */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

/**
 * Every state carries `episode`: the id of the current half-open period, or of the latest
 * one before it (0 before the first). Probes are admitted into one episode and only an
 * outcome or a returned slot of that same episode counts for it, so a probe that outlives
 * its half-open period never frees a slot in, or decides, a later one.
 */
export type BreakerState =
  | { name: 'closed'; buckets: OutcomeBucket[]; episode: number }
  | { name: 'open'; openedAt: number; reopenAt: number; trips: number; episode: number }
  | {
    name: 'half_open'; since: number; probesAdmitted: number; probesSucceeded: number; trips: number; episode: number;
    /** When the latest probe of this period was admitted (absent before the first). */
    lastProbeAt?: number;
  };

/** `buckets`: the outcome window as counters per time slice (outcome_window.ts). */
export const closed = (buckets: OutcomeBucket[] = [], episode = 0): BreakerState => ({ name: 'closed', buckets, episode });
export const open = (now: number, policy: BreakerPolicy, trips: number, episode: number): BreakerState => ({
  name: 'open',
  openedAt: now,
  reopenAt: now + policy.cooldownMs,
  trips,
  episode,
});
export const halfOpen = (now: number, trips: number, episode: number): BreakerState => ({
  name: 'half_open',
  since: now,
  probesAdmitted: 0,
  probesSucceeded: 0,
  trips,
  episode,
});

/**
 * The id of the half-open period that follows one with id `previous`. It grows by at least
 * one, and jumps to the clock reading when that is larger: ids then stay unique even when
 * a store forgets a tenant's state at rest (its episode restarts from 0) while a probe of
 * an old episode is still running somewhere.
 */
export const nextEpisode = (previous: number, now: number): number => Math.max(previous + 1, Math.floor(now));

export type TransitionReason = 'failure_ratio' | 'cooldown_elapsed' | 'probe_succeeded' | 'probe_failed' | 'probe_timeout';

export interface Transition {
  from: BreakerStateName;
  to: BreakerStateName;
  reason: TransitionReason;
}

export interface Step<T> {
  next: BreakerState;
  result: T;
  transitions: Transition[];
}

/** `probeEpisode` is the half-open period a probe was admitted into, null for an ordinary session. */
export type AdmitVerdict = { allowed: true; probeEpisode: number | null } | { allowed: false; retryAt: number };

/** How a session ended, for the breaker: failed or not, and the episode if it was a probe. */
export interface OutcomeReport {
  failed: boolean;
  probeEpisode: number | null;
}

/**
 * Moves an open breaker whose cooldown has passed to half-open, and begins a new half-open
 * period when its probe slots are all taken and the latest was admitted `probeTimeoutMs` ago
 * without an outcome (see BreakerPolicy.probeTimeoutMs).
 */
function settle(state: BreakerState, policy: BreakerPolicy, now: number): { state: BreakerState; transitions: Transition[] } {
  if (state.name === 'open' && now >= state.reopenAt) {
    return {
      state: halfOpen(now, state.trips, nextEpisode(state.episode, now)),
      transitions: [{ from: 'open', to: 'half_open', reason: 'cooldown_elapsed' }],
    };
  }
  // Timed from the latest probe, not the period's start: a period that waited long for its
  // first call must still give that call the whole timeout.
  if (state.name === 'half_open' && state.probesAdmitted >= policy.halfOpenProbes && now - (state.lastProbeAt ?? state.since) >= policy.probeTimeoutMs) {
    return {
      state: halfOpen(now, state.trips, nextEpisode(state.episode, now)),
      transitions: [{ from: 'half_open', to: 'half_open', reason: 'probe_timeout' }],
    };
  }
  return { state, transitions: [] };
}

/** May a new session of this tenant start? Claims a probe slot when half-open. */
export function admit(state: BreakerState, policy: BreakerPolicy, now: number): Step<AdmitVerdict> {
  const settled = settle(state, policy, now);
  const current = settled.state;
  switch (current.name) {
    case 'closed':
      return { next: current, result: { allowed: true, probeEpisode: null }, transitions: settled.transitions };
    case 'open':
      return { next: current, result: { allowed: false, retryAt: current.reopenAt }, transitions: settled.transitions };
    case 'half_open':
      if (current.probesAdmitted >= policy.halfOpenProbes) {
        return { next: current, result: { allowed: false, retryAt: now }, transitions: settled.transitions };
      }
      return {
        next: { ...current, probesAdmitted: current.probesAdmitted + 1, lastProbeAt: now },
        result: { allowed: true, probeEpisode: current.episode },
        transitions: settled.transitions,
      };
  }
}

/**
 * Gives back a probe slot whose session never ran (refused by a cap, or cancelled). A probe
 * of an earlier half-open period has no slot in the current one: nothing changes.
 */
export function returnProbe(state: BreakerState, episode: number): Step<void> {
  if (state.name !== 'half_open' || state.episode !== episode || state.probesAdmitted === 0) {
    return { next: state, result: undefined, transitions: [] };
  }
  return { next: { ...state, probesAdmitted: state.probesAdmitted - 1 }, result: undefined, transitions: [] };
}

/**
 * Records how a session ended. Only probes of the current half-open period decide it;
 * sessions admitted before the breaker opened, and probes of an earlier half-open period,
 * finish as ordinary outcomes (a sample while closed, nothing while open or half-open).
 */
export function recordOutcome(state: BreakerState, policy: BreakerPolicy, now: number, outcome: OutcomeReport): Step<void> {
  const settled = settle(state, policy, now);
  const current = settled.state;
  const transitions = [...settled.transitions];
  if (current.name === 'closed') {
    const buckets = addOutcome(current.buckets, now, policy.windowMs, outcome.failed);
    const { samples, failures } = tally(buckets);
    if (samples >= policy.minSamples && failures / samples > policy.failureRatio) {
      transitions.push({ from: 'closed', to: 'open', reason: 'failure_ratio' });
      return { next: open(now, policy, 1, current.episode), result: undefined, transitions };
    }
    return { next: closed(buckets, current.episode), result: undefined, transitions };
  }
  if (current.name === 'half_open' && outcome.probeEpisode === current.episode) {
    if (outcome.failed) {
      transitions.push({ from: 'half_open', to: 'open', reason: 'probe_failed' });
      return { next: open(now, policy, current.trips + 1, current.episode), result: undefined, transitions };
    }
    const succeeded = current.probesSucceeded + 1;
    if (succeeded >= policy.halfOpenProbes) {
      transitions.push({ from: 'half_open', to: 'closed', reason: 'probe_succeeded' });
      return { next: closed([], current.episode), result: undefined, transitions };
    }
    return { next: { ...current, probesSucceeded: succeeded }, result: undefined, transitions };
  }
  return { next: current, result: undefined, transitions };
}

/**
 * True for the state of a tenant with no breaker history: closed, no outcomes, no episode.
 * It decides exactly like a tenant never seen, so a store need not keep it (the in-memory
 * store deletes it), and `read` of an unknown tenant returns it.
 */
export function isPristine(state: BreakerState): boolean {
  return state.name === 'closed' && state.buckets.length === 0 && state.episode === 0;
}

/**
 * Lets go of a breaker with nothing left to remember: closed, and every outcome out of
 * the window. It becomes the pristine state (a store may then delete it); its episode id
 * may be forgotten because `nextEpisode` moves past old ids by the clock. Resolves whether
 * it was at rest; an open or half-open breaker, or one with outcomes in the window, stays.
 */
export function rest(state: BreakerState, policy: BreakerPolicy, now: number): Step<boolean> {
  if (!isAtRest(state, policy, now)) return { next: state, result: false, transitions: [] };
  return { next: closed(), result: true, transitions: [] };
}

/** Closed with no outcome inside the window as of `now`. */
export function isAtRest(state: BreakerState, policy: BreakerPolicy, now: number): boolean {
  return state.name === 'closed' && isWindowEmpty(state.buckets, now, policy.windowMs);
}

/** The state as of `now`, with an elapsed cooldown or probe timeout already applied, for reporting. */
export function currentState(state: BreakerState, policy: BreakerPolicy, now: number): BreakerState {
  return settle(state, policy, now).state;
}
