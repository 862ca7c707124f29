/**
 * Admission and breaker costs, in-memory stores:
 *   npm run bench:admission [-- --tenants 1,100,10000 --decisions 5000 --concurrency 32
 *                              --outcomes 10,1000,10000,50000 --runs 3 --telemetry off,on]
 * Admission: p50/p99 of `pool.admit()` timed one call at a time (each call then started and
 * ended as a success, so the breaker records it), and decisions per second with
 * `concurrency` calls in flight; at each tenant count, with openrtc's telemetry off and on.
 * Breaker: µs to record one outcome by how many the window holds, time slices against the
 * per-outcome array they replaced. Every figure is the median of `runs` runs, with the
 * lowest and highest run beside it.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureAdmission } from './admission_latency.js';
import { measureBreakerCost } from './breaker_cost.js';
import { median, spread } from './stats.js';

export interface AdmissionBenchOptions {
  tenants: number[];
  decisions: number;
  concurrency: number;
  outcomes: number[];
  runs: number;
  telemetry: boolean[];
  /** Time spent per breaker measurement, ms. */
  breakerBudgetMs?: number;
}

export interface Figure {
  median: number;
  min: number;
  max: number;
}

export interface AdmissionRow { tenants: number; telemetry: boolean; p50Ms: Figure; p99Ms: Figure; decisionsPerSecond: Figure }
export interface BreakerRow { outcomes: number; slicedUs: Figure; slicedPureUs: Figure; arrayUs: Figure }
export interface AdmissionBenchReport { options: AdmissionBenchOptions; admission: AdmissionRow[]; breaker: BreakerRow[]; loadAverage: number[] }

const figure = (values: number[]): Figure => ({ median: median(values), ...spread(values) });

export async function runAdmissionBenchmark(options: AdmissionBenchOptions): Promise<AdmissionBenchReport> {
  const admission: AdmissionRow[] = [];
  for (const tenants of options.tenants) {
    for (const telemetry of options.telemetry) {
      const runs = [];
      for (let r = 0; r < options.runs; r++) {
        runs.push(await measureAdmission({ tenants, telemetry, decisions: options.decisions, concurrency: options.concurrency }));
      }
      admission.push({
        tenants, telemetry,
        p50Ms: figure(runs.map((r) => r.p50Ms)), p99Ms: figure(runs.map((r) => r.p99Ms)),
        decisionsPerSecond: figure(runs.map((r) => r.decisionsPerSecond)),
      });
    }
  }
  const breaker: BreakerRow[] = [];
  await measureBreakerCost(1_000, 100); // warm-up: the first figures measured would otherwise include JIT compilation
  for (const outcomes of options.outcomes) {
    const runs = [];
    for (let r = 0; r < options.runs; r++) runs.push(await measureBreakerCost(outcomes, options.breakerBudgetMs));
    breaker.push({
      outcomes, slicedUs: figure(runs.map((r) => r.slicedUs)), slicedPureUs: figure(runs.map((r) => r.slicedPureUs)),
      arrayUs: figure(runs.map((r) => r.arrayUs)),
    });
  }
  return { options, admission, breaker, loadAverage: os.loadavg() };
}

const show = (f: Figure, digits: number) => `${f.median.toFixed(digits)} (${f.min.toFixed(digits)}-${f.max.toFixed(digits)})`;

export function formatReport(report: AdmissionBenchReport): string {
  const { options } = report;
  const lines = [
    `admission, in-memory stores, breaker on: ${options.decisions} decisions timed one at a time, ${options.decisions} with ${options.concurrency} in flight; median of ${options.runs} runs (lowest-highest)`,
    'tenants  telemetry  p50 ms                 p99 ms                 decisions/s',
  ];
  for (const row of report.admission) {
    lines.push(`${String(row.tenants).padStart(7)}  ${(row.telemetry ? 'on' : 'off').padEnd(9)}  ${show(row.p50Ms, 3).padEnd(21)}  ${show(row.p99Ms, 3).padEnd(21)}  ${show(row.decisionsPerSecond, 0)}`);
  }
  lines.push('', 'breaker record cost, µs per outcome, by outcomes in the window (median of runs, lowest-highest)');
  lines.push('outcomes  slices, breaker+store  slices, transition     per-outcome array, transition (before)');
  for (const row of report.breaker) {
    lines.push(`${String(row.outcomes).padStart(8)}  ${show(row.slicedUs, 2).padEnd(21)}  ${show(row.slicedPureUs, 2).padEnd(21)}  ${show(row.arrayUs, 1)}`);
  }
  lines.push('', `load average at the end: ${report.loadAverage.map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
  return lines.join('\n');
}

const list = (value: string) => value.split(',').map((v) => Number(v.trim()));

function parseOptions(): AdmissionBenchOptions {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string', default: '1,100,10000' },
      decisions: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '32' },
      outcomes: { type: 'string', default: '10,1000,10000,50000' },
      runs: { type: 'string', default: '3' },
      telemetry: { type: 'string', default: 'off,on' },
    },
  });
  const options: AdmissionBenchOptions = {
    tenants: list(values.tenants), decisions: Number(values.decisions), concurrency: Number(values.concurrency),
    outcomes: list(values.outcomes), runs: Number(values.runs),
    telemetry: values.telemetry.split(',').map((v) => v.trim() === 'on'),
  };
  const counts = [...options.tenants, ...options.outcomes, options.decisions, options.concurrency, options.runs];
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('every count must be a positive integer');
  return options;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await runAdmissionBenchmark(parseOptions());
  console.log(formatReport(report));
  console.log(JSON.stringify(report));
}
