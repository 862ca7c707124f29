import { invalidOption } from '../errors.js';

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialDelayMs: number;
  /** No delay ever exceeds this, in ms (jitter included). */
  maxDelayMs: number;
  /** Fraction 0..1 of each delay that is randomised, so a fleet does not reconnect in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.25 };

/** Validates backoff options, naming the option under `prefix` (e.g. `reconnect.jitter`). */
export function validateBackoff(options: Partial<BackoffOptions> | undefined, prefix: string): BackoffOptions {
  const merged = { ...DEFAULT_BACKOFF, ...options };
  if (!Number.isFinite(merged.initialDelayMs) || merged.initialDelayMs <= 0) {
    throw invalidOption(`${prefix}.initialDelayMs`, 'must be a positive number of ms', merged.initialDelayMs);
  }
  if (!Number.isFinite(merged.maxDelayMs) || merged.maxDelayMs < merged.initialDelayMs) {
    throw invalidOption(`${prefix}.maxDelayMs`, 'must be a number of ms no smaller than initialDelayMs', merged.maxDelayMs);
  }
  if (!Number.isFinite(merged.jitter) || merged.jitter < 0 || merged.jitter > 1) {
    throw invalidOption(`${prefix}.jitter`, 'must be a number from 0 to 1', merged.jitter);
  }
  return merged;
}

/**
 * Capped exponential backoff: initial, 2x, 4x ... up to the cap. Jitter takes up to
 * `jitter` of each delay away (never adds), so the cap stays a real upper bound.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const exponential = this.options.initialDelayMs * 2 ** Math.min(this.attempt, 30);
    this.attempt++;
    const capped = Math.min(exponential, this.options.maxDelayMs);
    return Math.round(capped * (1 - this.options.jitter * this.random()));
  }

  /** Failures counted since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Called after a success: the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
