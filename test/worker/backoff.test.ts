import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, validateBackoff } from '../../src/util/backoff.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, and starts over after reset', () => {
    const backoff = new Backoff({ initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0 });
    const delays = Array.from({ length: 8 }, () => backoff.next());
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(backoff.attempts).toBe(8);
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it('keeps every jittered delay within [cap * (1 - jitter), cap]', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.9999, noNaN: true }), fc.integer({ min: 0, max: 40 }), (jitter, r, n) => {
        const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 5000, jitter }, () => r);
        let delay = 0;
        for (let i = 0; i <= n; i++) delay = backoff.next();
        const nominal = Math.min(100 * 2 ** n, 5000);
        return delay <= nominal && delay >= Math.floor(nominal * (1 - jitter));
      }),
    );
  });

  it('names the option and the rule when validation fails', () => {
    expect(() => validateBackoff({ jitter: 2 }, 'reconnect')).toThrow(/`reconnect.jitter` must be a number from 0 to 1; got 2/);
    expect(() => validateBackoff({ initialDelayMs: 0 }, 'reconnect')).toThrow(/`reconnect.initialDelayMs`/);
    expect(() => validateBackoff({ initialDelayMs: 900, maxDelayMs: 800 }, 'reconnect')).toThrow(/`reconnect.maxDelayMs`/);
  });
});
