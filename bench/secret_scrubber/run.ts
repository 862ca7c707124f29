/**
 * What one scrub of a 500-character line costs with 20,000 tenant secrets registered
 * (indexed scan) and with 10 (one search per secret):
 *   npm run bench:scrubber [-- --rounds 7 --scrubs 200]
 * Best of `rounds` rounds of `scrubs` scrubs each, the two scrubbers interleaved so machine
 * load hits both alike. One includes() per secret (the scrubber before the index) made the
 * 20,000 case over 100 times the 10 case; the indexed scan keeps it within a few times.
 * The unit test (test/telemetry/secret_scrubber.test.ts) checks the same property without
 * a clock: it counts the comparisons a scrub makes. The machine's load average is printed.
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
const line = `${filler.slice(0, 200)} ${tenantKey(3)} ${filler.slice(0, 220)} ${tenantKey(9)} end`.padEnd(500, '.');

function scrubberWith(count: number): SecretScrubber {
  const scrubber = new SecretScrubber({});
  for (let i = 0; i < count; i++) scrubber.addSecret(tenantKey(i), `t-${i}`);
  return scrubber;
}

const many = scrubberWith(20_000);
const few = scrubberWith(10);
if (many.scrub(line) !== few.scrub(line)) throw new Error('the two scrubbers disagree');

const timeOf = (scrubber: SecretScrubber): number => {
  const startedAt = performance.now();
  for (let i = 0; i < scrubs; i++) scrubber.scrub(line);
  return performance.now() - startedAt;
};
let manyMs = Infinity;
let fewMs = Infinity;
for (let round = 0; round < rounds; round++) {
  manyMs = Math.min(manyMs, timeOf(many));
  fewMs = Math.min(fewMs, timeOf(few));
}
const perScrubUs = (ms: number) => ((ms / scrubs) * 1000).toFixed(1);
console.log(`scrub of a ${line.length}-char line, best of ${rounds} x ${scrubs}, load average ${loadavg()[0]!.toFixed(2)}`);
console.log(`  20,000 secrets: ${perScrubUs(manyMs)} µs`);
console.log(`  10 secrets:     ${perScrubUs(fewMs)} µs`);
console.log(`  ratio:          ${(manyMs / fewMs).toFixed(1)}x`);
