/**
 * What one scrub of a 500-character line costs with 5, 105, 1,000 and 20,000 tenant
 * secrets registered (5: one search per secret; the rest: the indexed scan):
 *   npm run bench:scrubber [-- --rounds 7 --scrubs 200]
 * Best of `rounds` rounds of `scrubs` scrubs each, the scrubbers interleaved so machine
 * load hits all alike. One includes() per secret (the scrubber before the index) made the
 * 20,000 case over 100 times the 10 case. The unit test
 * (test/telemetry/secret_scrubber.test.ts) checks the same property without a clock: it
 * counts the comparisons and index lookups a scrub makes. The load average is printed.
 *
 * 2026-12-03, 2 cores, Node 20, defaults, µs per line (before and after run back to back):
 *   secrets      5     105   1,000  20,000
 *   before    2.17   19.86   20.75   20.41   index keyed by the last 6 characters as a
 *                                            string: a slice and a Map lookup per position
 *   after     2.04    2.77    2.89    2.85   rolling hash of those 6 code units, bitmap
 *                                            filter first; few-secrets path up to 8, not 32
 * A second pair of runs: before 2.20 / 21.67 / 20.53 / 20.03, after 2.71 / 3.30 / 3.17 /
 * 2.84 (the 5-secret case runs the same code in both: that spread is the machine's).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SecretScrubber } from '../../src/util/secret_scrubber.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, scrubs: { type: 'string', default: '200' } },
});
const rounds = Number(values.rounds);
const scrubs = Number(values.scrubs);

// Keys of one vendor share a prefix; their tails differ (as in the unit test).
const tenantKey = (i: number) => `sk-proj-${((i * 2654435761) % 4294967296).toString(16).padStart(8, '0')}${i}`;
const filler = 'lorem ipsum dolor sit amet consectetur '.repeat(13);
const line = `${filler.slice(0, 200)} ${tenantKey(3)} ${filler.slice(0, 220)} ${tenantKey(4)} end`.padEnd(500, '.');

function scrubberWith(count: number): SecretScrubber {
  const scrubber = new SecretScrubber({});
  for (let i = 0; i < count; i++) scrubber.addSecret(tenantKey(i), `t-${i}`);
  return scrubber;
}

const counts = [5, 105, 1_000, 20_000];
const scrubbers = counts.map(scrubberWith);
const expected = scrubbers[0]!.scrub(line);
if (scrubbers.some((scrubber) => scrubber.scrub(line) !== expected)) throw new Error('the scrubbers disagree');

const timeOf = (scrubber: SecretScrubber): number => {
  const startedAt = performance.now();
  for (let i = 0; i < scrubs; i++) scrubber.scrub(line);
  return performance.now() - startedAt;
};
const bestMs = counts.map(() => Infinity);
for (let round = 0; round < rounds; round++) {
  scrubbers.forEach((scrubber, at) => (bestMs[at] = Math.min(bestMs[at]!, timeOf(scrubber))));
}
const perScrubUs = (ms: number) => ((ms / scrubs) * 1000).toFixed(2);
console.log(`scrub of a ${line.length}-char line, best of ${rounds} x ${scrubs}, load average ${loadavg()[0]!.toFixed(2)}`);
counts.forEach((count, at) => console.log(`  ${count.toLocaleString('en-US').padStart(6)} secrets: ${perScrubUs(bestMs[at]!)} µs`));
console.log(`  ${counts.at(-1)!.toLocaleString('en-US')} / ${counts[0]!}:     ${(bestMs.at(-1)! / bestMs[0]!).toFixed(1)}x`);
