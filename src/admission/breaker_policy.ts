import { OpenRtcError, invalidOption } from '../errors.js';
import { positiveMillis } from '../util/validate.js';

/** When a tenant's breaker opens, how long it stays open, and how it tests recovery. */
export interface BreakerPolicy {
  /** Opens when failures / samples in the window is above this (0 < ratio < 1). */
  failureRatio: number;
  /** Rolling window of session outcomes considered, in ms. */
  windowMs: number;
  /** No decision is taken on fewer outcomes than this in the window. */
  minSamples: number;
  /** How long the breaker stays open before letting probes through, in ms. */
  cooldownMs: number;
  /** Sessions admitted while half-open; that many successes close the breaker. */
  halfOpenProbes: number;
  /**
   * How long a half-open period whose probe slots are all taken may wait for an outcome,
   * in ms from the latest probe's admission, before a new half-open period with fresh slots begins. A probe whose
   * worker died (a crashed process, a lost Redis client) never reports, and without this
   * its tenant would be refused for good; a probe that is only a long call still reports,
   * but into an earlier period, so it neither frees a slot in nor decides the new one.
   */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER_POLICY: Readonly<BreakerPolicy> = Object.freeze({
  failureRatio: 0.5,
  windowMs: 60_000,
  minSamples: 5,
  cooldownMs: 30_000,
  halfOpenProbes: 1,
  probeTimeoutMs: 600_000,
});

export function resolveBreakerPolicy(partial: Partial<BreakerPolicy> | undefined, option = 'circuitBreaker'): BreakerPolicy {
  if (partial !== undefined && (typeof partial !== 'object' || partial === null)) {
    throw invalidOption(option, 'must be an object of breaker policy fields', partial);
  }
  for (const key of Object.keys(partial ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_BREAKER_POLICY, key)) {
      throw new OpenRtcError('invalid_option', `\`${option}.${key}\` is not a breaker policy field (known: ${Object.keys(DEFAULT_BREAKER_POLICY).join(', ')})`);
    }
  }
  const policy = { ...DEFAULT_BREAKER_POLICY, ...stripUndefined(partial ?? {}) };
  const { failureRatio, windowMs, minSamples, cooldownMs, halfOpenProbes, probeTimeoutMs } = policy;
  if (typeof failureRatio !== 'number' || !(failureRatio > 0 && failureRatio < 1)) {
    throw invalidOption(`${option}.failureRatio`, 'must be a number between 0 and 1 (exclusive)', failureRatio);
  }
  for (const [field, value] of [
    ['windowMs', windowMs],
    ['cooldownMs', cooldownMs],
    ['probeTimeoutMs', probeTimeoutMs],
  ] as const) {
    positiveMillis(`${option}.${field}`, value, 0);
  }
  for (const [field, value] of [
    ['minSamples', minSamples],
    ['halfOpenProbes', halfOpenProbes],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw invalidOption(`${option}.${field}`, 'must be an integer of at least 1', value);
    }
  }
  return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
