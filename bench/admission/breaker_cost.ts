/**
 * What recording one session outcome costs the breaker, by how many outcomes its window
 * already holds: the time-sliced window (through the breaker and its in-memory store, as
 * the pool calls it) against the per-outcome array it replaced (array_window_baseline.ts).
 * Outcomes arrive evenly over the window, so the count in the window stays at `outcomes`
 * while one is measured; one in ten failed, which never opens a breaker at ratio 0.5.
 */
import { performance } from 'node:perf_hooks';
import { type BreakerState, closed, recordOutcome } from '../../src/admission/breaker_state.js';
import { TenantCircuitBreaker } from '../../src/admission/circuit_breaker.js';
import { type BreakerPolicy, InMemoryBreakerStore } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { type OutcomeSample, recordOutcomeInArray } from './array_window_baseline.js';

const POLICY: BreakerPolicy = { failureRatio: 0.5, windowMs: 60_000, minSamples: 5, cooldownMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 600_000 };

export interface BreakerCost {
  outcomes: number;
  /** Mean µs per recorded outcome with the time-sliced window, through breaker and store. */
  slicedUs: number;
  /** The same, the pure transition alone (comparable with `arrayUs`). */
  slicedPureUs: number;
  /** Mean µs per recorded outcome with the per-outcome array (the old window). */
  arrayUs: number;
}

/** Times `step` until `budgetMs` has passed and it ran at least `minRuns` times; mean µs per run. */
function meanMicros(step: (i: number) => void, budgetMs: number, minRuns: number): number {
  let runs = 0;
  const started = performance.now();
  while (runs < minRuns || performance.now() - started < budgetMs) step(runs++);
  return ((performance.now() - started) * 1000) / runs;
}

async function meanMicrosAsync(step: (i: number) => Promise<void>, budgetMs: number, minRuns: number): Promise<number> {
  let runs = 0;
  const started = performance.now();
  while (runs < minRuns || performance.now() - started < budgetMs) await step(runs++);
  return ((performance.now() - started) * 1000) / runs;
}

const failedAt = (i: number) => i % 10 === 0;

async function slicedCost(outcomes: number, budgetMs: number): Promise<number> {
  const clock = new ManualClock();
  const breaker = new TenantCircuitBreaker(POLICY, new InMemoryBreakerStore(), clock, () => undefined);
  const gapMs = POLICY.windowMs / outcomes;
  for (let i = 0; i < outcomes; i++) {
    clock.advance(gapMs);
    await breaker.record('acme', { failed: failedAt(i), probeEpisode: null });
  }
  const cost = await meanMicrosAsync(async (i) => {
    clock.advance(gapMs);
    await breaker.record('acme', { failed: failedAt(i), probeEpisode: null });
  }, budgetMs, 1_000);
  if (breaker.status('acme').state !== 'closed') throw new Error('the bench breaker opened');
  return cost;
}

function slicedPureCost(outcomes: number, budgetMs: number): number {
  const gapMs = POLICY.windowMs / outcomes;
  let now = 1_700_000_000_000;
  let state: BreakerState = closed();
  const step = (i: number) => {
    now += gapMs;
    state = recordOutcome(state, POLICY, now, { failed: failedAt(i), probeEpisode: null }).next;
  };
  for (let i = 0; i < outcomes; i++) step(i);
  const cost = meanMicros(step, budgetMs, 1_000);
  if (state.name !== 'closed') throw new Error('the bench breaker opened');
  return cost;
}

function arrayCost(outcomes: number, budgetMs: number): number {
  const gapMs = POLICY.windowMs / outcomes;
  let now = 1_700_000_000_000;
  // Filled directly: recording 50,000 outcomes one by one into the array takes minutes.
  let samples: OutcomeSample[] = Array.from({ length: outcomes }, (_, i) => ({ at: now + (i + 1) * gapMs, failed: failedAt(i) }));
  now += outcomes * gapMs;
  return meanMicros((i) => {
    now += gapMs;
    const next = recordOutcomeInArray(samples, POLICY, now, failedAt(i));
    if (next === null) throw new Error('the baseline breaker opened');
    samples = next;
  }, budgetMs, 20);
}

export async function measureBreakerCost(outcomes: number, budgetMs = 300): Promise<BreakerCost> {
  return {
    outcomes,
    slicedUs: await slicedCost(outcomes, budgetMs),
    slicedPureUs: slicedPureCost(outcomes, budgetMs),
    arrayUs: arrayCost(outcomes, budgetMs),
  };
}
