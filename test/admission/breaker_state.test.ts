import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_POLICY, type BreakerPolicy } from '../../src/index.js';
import {
  type BreakerState,
  admit,
  closed,
  currentState,
  halfOpen,
  isPristine,
  nextEpisode,
  open,
  recordOutcome,
  rest,
  returnProbe,
} from '../../src/admission/breaker_state.js';
import { BUCKETS_PER_WINDOW, bucketStart, bucketWidthMs, tally } from '../../src/admission/outcome_window.js';

const POLICY: BreakerPolicy = { failureRatio: 0.5, minSamples: 4, windowMs: 10_000, cooldownMs: 5_000, halfOpenProbes: 2, probeTimeoutMs: 600_000 };
const T0 = 1_000_000;

describe('breaker state functions', () => {
  it('has validated, frozen defaults', () => {
    expect(DEFAULT_BREAKER_POLICY).toEqual({ failureRatio: 0.5, windowMs: 60_000, minSamples: 5, cooldownMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 600_000 });
    expect(Object.isFrozen(DEFAULT_BREAKER_POLICY)).toBe(true);
  });

  it('admits without a probe while closed and leaves the state alone', () => {
    const state = closed([{ start: T0, successes: 0, failures: 1 }]);
    expect(admit(state, POLICY, T0)).toEqual({ next: state, result: { allowed: true, probeEpisode: null }, transitions: [] });
  });

  it('refuses while open until the cooldown, then moves to half-open and claims a probe', () => {
    const state = open(T0, POLICY, 1, 0);
    expect(admit(state, POLICY, T0 + 4_999)).toEqual({ next: state, result: { allowed: false, retryAt: T0 + 5_000 }, transitions: [] });
    const step = admit(state, POLICY, T0 + 5_000);
    const episode = T0 + 5_000; // the first episode id is the clock reading
    expect(step.result).toEqual({ allowed: true, probeEpisode: episode });
    expect(step.next).toEqual({ name: 'half_open', since: T0 + 5_000, probesAdmitted: 1, probesSucceeded: 0, trips: 1, episode, lastProbeAt: T0 + 5_000 });
    expect(step.transitions).toEqual([{ from: 'open', to: 'half_open', reason: 'cooldown_elapsed' }]);
  });

  it('refuses past the probe budget and takes a returned probe back', () => {
    const full: BreakerState = { ...halfOpen(T0, 1, 7), probesAdmitted: 2 } as BreakerState;
    expect(admit(full, POLICY, T0).result).toEqual({ allowed: false, retryAt: T0 });
    const returned = returnProbe(full, 7).next;
    expect(returned).toMatchObject({ name: 'half_open', probesAdmitted: 1 });
    expect(admit(returned, POLICY, T0).result).toEqual({ allowed: true, probeEpisode: 7 });
    // Returning more probes than were admitted, outside half-open, or of another episode changes nothing.
    const none = halfOpen(T0, 1, 7);
    expect(returnProbe(none, 7).next).toBe(none);
    const c = closed();
    expect(returnProbe(c, 0).next).toBe(c);
    expect(returnProbe(full, 6).next).toBe(full);
  });

  it('closes after halfOpenProbes successful probes, reopens on a failed one with one more trip', () => {
    const half: BreakerState = { ...halfOpen(T0, 3, 9), probesAdmitted: 2 } as BreakerState;
    const once = recordOutcome(half, POLICY, T0, { failed: false, probeEpisode: 9 });
    expect(once.next).toMatchObject({ name: 'half_open', probesSucceeded: 1 });
    expect(once.transitions).toEqual([]);
    const twice = recordOutcome(once.next, POLICY, T0, { failed: false, probeEpisode: 9 });
    expect(twice.next).toEqual(closed([], 9));
    expect(twice.transitions).toEqual([{ from: 'half_open', to: 'closed', reason: 'probe_succeeded' }]);
    const failed = recordOutcome(half, POLICY, T0 + 7, { failed: true, probeEpisode: 9 });
    expect(failed.next).toEqual({ name: 'open', openedAt: T0 + 7, reopenAt: T0 + 7 + 5_000, trips: 4, episode: 9 });
    expect(failed.transitions).toEqual([{ from: 'half_open', to: 'open', reason: 'probe_failed' }]);
  });

  it('ignores outcomes of non-probe sessions and of earlier episodes\' probes while open or half-open', () => {
    const o = open(T0, POLICY, 1, 3);
    expect(recordOutcome(o, POLICY, T0 + 1, { failed: true, probeEpisode: null }).next).toBe(o);
    expect(recordOutcome(o, POLICY, T0 + 1, { failed: true, probeEpisode: 3 }).next).toBe(o);
    const h: BreakerState = { ...halfOpen(T0, 1, 4), probesAdmitted: 1 } as BreakerState;
    for (const probeEpisode of [null, 3]) {
      for (const failed of [true, false]) {
        expect(recordOutcome(h, POLICY, T0 + 1, { failed, probeEpisode })).toEqual({ next: h, result: undefined, transitions: [] });
      }
    }
  });

  it('records a late probe outcome while closed as an ordinary sample', () => {
    const c = closed([], 4);
    expect(recordOutcome(c, POLICY, T0, { failed: true, probeEpisode: 3 }).next).toEqual(closed([{ start: T0, successes: 0, failures: 1 }], 4));
  });

  it('gives every half-open period a new episode id, also after a store forgot the tenant', () => {
    // Each id is above the last, whatever the clock does.
    expect(nextEpisode(0, T0)).toBe(T0);
    expect(nextEpisode(T0, T0)).toBe(T0 + 1);
    expect(nextEpisode(T0 + 1, T0 - 50_000)).toBe(T0 + 2);
    // A state written back as closed() (episode 0) still moves past ids handed out before.
    const reopened = admit(open(T0 + 60_000, POLICY, 1, 0), POLICY, T0 + 65_000);
    expect(reopened.result).toEqual({ allowed: true, probeEpisode: T0 + 65_000 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        // Trip, cool down, fail the probe, again and again: episode ids strictly grow.
        let state: BreakerState = open(T0, POLICY, 1, 0);
        let now = T0;
        let last = 0;
        for (const gap of gaps) {
          now += POLICY.cooldownMs + gap;
          const step = admit(state, POLICY, now);
          if (!step.result.allowed || step.result.probeEpisode === null) throw new Error('expected a probe');
          expect(step.result.probeEpisode).toBeGreaterThan(last);
          last = step.result.probeEpisode;
          state = recordOutcome(step.next, POLICY, now, { failed: true, probeEpisode: last }).next;
          expect(state).toMatchObject({ name: 'open', episode: last });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('comes to rest only when closed with every outcome out of the window', () => {
    const recent = closed([{ start: T0, successes: 0, failures: 1 }], 5);
    expect(rest(recent, POLICY, T0 + POLICY.windowMs - 1)).toEqual({ next: recent, result: false, transitions: [] });
    expect(rest(recent, POLICY, T0 + POLICY.windowMs)).toEqual({ next: closed(), result: true, transitions: [] });
    expect(isPristine(rest(recent, POLICY, T0 + POLICY.windowMs).next)).toBe(true);
    // Just closed by its probes: no outcomes, only an episode id, which may be forgotten.
    expect(rest(closed([], 9), POLICY, T0).result).toBe(true);
    for (const busy of [open(T0, POLICY, 1, 0), halfOpen(T0, 1, 3)]) {
      expect(rest(busy, POLICY, T0 + 10 * POLICY.windowMs)).toEqual({ next: busy, result: false, transitions: [] });
    }
    expect([closed(), closed([], 1), closed([{ start: 0, successes: 1, failures: 0 }])].map(isPristine)).toEqual([true, false, false]);
  });

  it('reports an open breaker past its cooldown as half-open without changing it', () => {
    const o = open(T0, POLICY, 2, T0 - 1);
    expect(currentState(o, POLICY, T0 + 4_999)).toBe(o);
    expect(currentState(o, POLICY, T0 + 5_000)).toEqual(halfOpen(T0 + 5_000, 2, T0 + 5_000));
  });

  it('begins a new half-open period when every probe slot waited probeTimeoutMs without an outcome', () => {
    // Both probes admitted at T0 into episode 3; their worker died, so neither reports.
    let state: BreakerState = halfOpen(T0, 1, 3);
    for (let i = 0; i < POLICY.halfOpenProbes; i++) state = admit(state, POLICY, T0).next;
    expect(admit(state, POLICY, T0 + POLICY.probeTimeoutMs - 1).result).toEqual({ allowed: false, retryAt: T0 + POLICY.probeTimeoutMs - 1 });
    const renewed = admit(state, POLICY, T0 + POLICY.probeTimeoutMs);
    expect(renewed.transitions).toEqual([{ from: 'half_open', to: 'half_open', reason: 'probe_timeout' }]);
    expect(renewed.result).toEqual({ allowed: true, probeEpisode: renewed.next.episode });
    expect(renewed.next.episode).toBeGreaterThan(3);
    // A stalled probe of the old period that does report after all decides nothing now.
    const late = recordOutcome(renewed.next, POLICY, T0 + POLICY.probeTimeoutMs + 1, { failed: true, probeEpisode: 3 });
    expect(late.next).toEqual(renewed.next);
    // Timed from the latest probe: a period that waited long for its first call gives that
    // call the whole timeout.
    const waited = admit(halfOpen(T0, 1, 7), POLICY, T0 + 3 * POLICY.probeTimeoutMs);
    let full = waited.next;
    for (let i = 1; i < POLICY.halfOpenProbes; i++) full = admit(full, POLICY, T0 + 3 * POLICY.probeTimeoutMs).next;
    expect(admit(full, POLICY, T0 + 4 * POLICY.probeTimeoutMs - 1).result).toMatchObject({ allowed: false });
    expect(admit(full, POLICY, T0 + 4 * POLICY.probeTimeoutMs).transitions).toEqual([{ from: 'half_open', to: 'half_open', reason: 'probe_timeout' }]);
    // A period with a free slot is never renewed, however old: it is not stuck.
    const partly = admit(halfOpen(T0, 1, 5), POLICY, T0).next;
    expect(admit(partly, POLICY, T0 + 10 * POLICY.probeTimeoutMs).transitions).toEqual([]);
  });

  it('opens from closed exactly when the window holds minSamples and the ratio is exceeded', () => {
    const outcome = fc.record({ failed: fc.boolean(), gapMs: fc.integer({ min: 0, max: 6_000 }) });
    fc.assert(
      fc.property(fc.array(outcome, { minLength: 1, maxLength: 30 }), (outcomes) => {
        let state: BreakerState = closed();
        let now = T0;
        const history: { at: number; failed: boolean }[] = [];
        for (const { failed, gapMs } of outcomes) {
          now += gapMs;
          history.push({ at: now, failed });
          const step = recordOutcome(state, POLICY, now, { failed, probeEpisode: null });
          // An outcome counts while the start of its time slice is inside the window.
          const window = history.filter((s) => bucketStart(s.at, POLICY.windowMs) > now - POLICY.windowMs);
          const failures = window.filter((s) => s.failed).length;
          const shouldOpen = window.length >= POLICY.minSamples && failures / window.length > POLICY.failureRatio;
          expect(step.next.name).toBe(shouldOpen ? 'open' : 'closed');
          if (shouldOpen) {
            expect(step.transitions).toEqual([{ from: 'closed', to: 'open', reason: 'failure_ratio' }]);
            return;
          }
          if (step.next.name !== 'closed') throw new Error('expected closed');
          expect(tally(step.next.buckets)).toEqual({ samples: window.length, failures });
          expect(step.next.buckets.length).toBeLessThanOrEqual(BUCKETS_PER_WINDOW);
          state = step.next;
        }
      }),
      { numRuns: 500 },
    );
  });
  it('counts an outcome for at least the window less one slice and never longer than the window', () => {
    const width = bucketWidthMs(POLICY.windowMs);
    expect(width).toBe(POLICY.windowMs / BUCKETS_PER_WINDOW);
    const count = (state: BreakerState) => (state.name === 'closed' ? tally(state.buckets).samples : -1);
    // Recorded at a slice start: counts for exactly the window.
    const atStart = recordOutcome(closed(), POLICY, T0, { failed: true, probeEpisode: null }).next;
    expect(rest(atStart, POLICY, T0 + POLICY.windowMs - 1).result).toBe(false);
    expect(rest(atStart, POLICY, T0 + POLICY.windowMs).result).toBe(true);
    // Recorded just before a slice ends: leaves with its slice, one slice early at most.
    const late = recordOutcome(closed(), POLICY, T0 + width - 1, { failed: true, probeEpisode: null }).next;
    expect(count(late)).toBe(1);
    expect(rest(late, POLICY, T0 + POLICY.windowMs - 1).result).toBe(false);
    expect(rest(late, POLICY, T0 + POLICY.windowMs).result).toBe(true);
  });

  it('keeps a bounded number of slices whatever the number of outcomes', () => {
    let state: BreakerState = closed();
    const busy: BreakerPolicy = { ...POLICY, failureRatio: 0.99 };
    for (let i = 0; i < 50_000; i++) {
      state = recordOutcome(state, busy, T0 + i, { failed: i % 10 === 0, probeEpisode: null }).next;
    }
    if (state.name !== 'closed') throw new Error('expected closed');
    expect(state.buckets.length).toBe(BUCKETS_PER_WINDOW);
    // The last 10 s of 1-per-ms outcomes, slice-aligned: 19 full slices and the current one.
    expect(tally(state.buckets)).toEqual({ samples: 10_000, failures: 1_000 });
  });

  it('counts an outcome stamped before the newest slice (a lagging clock) in the newest slice', () => {
    const ahead = recordOutcome(closed(), POLICY, T0 + 2_000, { failed: false, probeEpisode: null }).next;
    const behind = recordOutcome(ahead, POLICY, T0, { failed: true, probeEpisode: null }).next;
    expect(behind).toEqual(closed([{ start: T0 + 2_000, successes: 1, failures: 1 }]));
  });
});
