import type { BreakerPolicy } from './breaker_policy.js';

/**
 * A tenant's breaker as plain data: the pure transition functions below decide, a
 * BreakerStore applies them atomically. Keeping the state serializable is what lets a
 * shared store (Redis) hold it for a fleet of workers.
 */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

export interface OutcomeSample {
  at: number;
  failed: boolean;
}

export type BreakerState =
  | { name: 'closed'; samples: OutcomeSample[] }
  | { name: 'open'; openedAt: number; reopenAt: number; trips: number }
  | { name: 'half_open'; since: number; probesAdmitted: number; probesSucceeded: number; trips: number };

export const closed = (samples: OutcomeSample[] = []): BreakerState => ({ name: 'closed', samples });
export const open = (now: number, policy: BreakerPolicy, trips: number): BreakerState => ({
  name: 'open',
  openedAt: now,
  reopenAt: now + policy.cooldownMs,
  trips,
});
export const halfOpen = (now: number, trips: number): BreakerState => ({
  name: 'half_open',
  since: now,
  probesAdmitted: 0,
  probesSucceeded: 0,
  trips,
});

export type TransitionReason = 'failure_ratio' | 'cooldown_elapsed' | 'probe_succeeded' | 'probe_failed';

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

export type AdmitVerdict = { allowed: true; probe: boolean } | { allowed: false; retryAt: number };

/** Moves an open breaker whose cooldown has passed to half-open. */
function settle(state: BreakerState, now: number): { state: BreakerState; transitions: Transition[] } {
  if (state.name === 'open' && now >= state.reopenAt) {
    return {
      state: halfOpen(now, state.trips),
      transitions: [{ from: 'open', to: 'half_open', reason: 'cooldown_elapsed' }],
    };
  }
  return { state, transitions: [] };
}

/** May a new session of this tenant start? Claims a probe slot when half-open. */
export function admit(state: BreakerState, policy: BreakerPolicy, now: number): Step<AdmitVerdict> {
  const settled = settle(state, now);
  const current = settled.state;
  switch (current.name) {
    case 'closed':
      return { next: current, result: { allowed: true, probe: false }, transitions: settled.transitions };
    case 'open':
      return { next: current, result: { allowed: false, retryAt: current.reopenAt }, transitions: settled.transitions };
    case 'half_open':
      if (current.probesAdmitted >= policy.halfOpenProbes) {
        return { next: current, result: { allowed: false, retryAt: now }, transitions: settled.transitions };
      }
      return {
        next: { ...current, probesAdmitted: current.probesAdmitted + 1 },
        result: { allowed: true, probe: true },
        transitions: settled.transitions,
      };
  }
}

/** Gives back a probe slot whose session never ran (refused by a cap, or cancelled). */
export function returnProbe(state: BreakerState): Step<void> {
  if (state.name !== 'half_open' || state.probesAdmitted === 0) return { next: state, result: undefined, transitions: [] };
  return { next: { ...state, probesAdmitted: state.probesAdmitted - 1 }, result: undefined, transitions: [] };
}

/**
 * Records how a session ended. Only probes decide a half-open breaker; sessions admitted
 * before the breaker opened do not reopen or close it when they finish late.
 */
export function recordOutcome(
  state: BreakerState,
  policy: BreakerPolicy,
  now: number,
  outcome: { failed: boolean; probe: boolean },
): Step<void> {
  const settled = settle(state, now);
  const current = settled.state;
  const transitions = [...settled.transitions];
  if (current.name === 'closed') {
    const samples = [...current.samples.filter((s) => s.at > now - policy.windowMs), { at: now, failed: outcome.failed }];
    const failures = samples.filter((s) => s.failed).length;
    if (samples.length >= policy.minSamples && failures / samples.length > policy.failureRatio) {
      transitions.push({ from: 'closed', to: 'open', reason: 'failure_ratio' });
      return { next: open(now, policy, 1), result: undefined, transitions };
    }
    return { next: closed(samples), result: undefined, transitions };
  }
  if (current.name === 'half_open' && outcome.probe) {
    if (outcome.failed) {
      transitions.push({ from: 'half_open', to: 'open', reason: 'probe_failed' });
      return { next: open(now, policy, current.trips + 1), result: undefined, transitions };
    }
    const succeeded = current.probesSucceeded + 1;
    if (succeeded >= policy.halfOpenProbes) {
      transitions.push({ from: 'half_open', to: 'closed', reason: 'probe_succeeded' });
      return { next: closed(), result: undefined, transitions };
    }
    return { next: { ...current, probesSucceeded: succeeded }, result: undefined, transitions };
  }
  return { next: current, result: undefined, transitions };
}

/** The state as of `now`, with an elapsed cooldown already applied, for reporting. */
export function currentState(state: BreakerState, now: number): BreakerState {
  return settle(state, now).state;
}
