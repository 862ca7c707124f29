import { describe, expect, it } from 'vitest';
import { formatReport, runAdmissionBenchmark } from '../../bench/admission/run.js';

// Keeps the benchmark runnable at tiny sizes. The figures are too small to mean anything
// (and timing is never asserted); only the report's shape is checked.
describe('bench:admission', () => {
  it('measures admission at two tenant counts with telemetry off and on, and the breaker cost both ways', async () => {
    const report = await runAdmissionBenchmark({
      tenants: [1, 20], decisions: 50, concurrency: 4, outcomes: [10, 200], runs: 1, telemetry: [false, true], breakerBudgetMs: 5,
    });
    expect(report.admission.map((r) => [r.tenants, r.telemetry])).toEqual([[1, false], [1, true], [20, false], [20, true]]);
    for (const row of report.admission) {
      expect(row.p50Ms.median).toBeGreaterThan(0);
      expect(row.p99Ms.median).toBeGreaterThanOrEqual(row.p50Ms.median);
      expect(row.decisionsPerSecond.median).toBeGreaterThan(0);
    }
    expect(report.breaker.map((r) => r.outcomes)).toEqual([10, 200]);
    for (const row of report.breaker) {
      for (const cost of [row.slicedUs, row.slicedPureUs, row.arrayUs]) expect(cost.median).toBeGreaterThan(0);
    }
    expect(formatReport(report)).toMatch(/breaker record cost/);
  }, 60_000);
});
