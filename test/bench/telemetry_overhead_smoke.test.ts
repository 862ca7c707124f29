import { describe, expect, it } from 'vitest';
import { formatReport, runTelemetryOverheadBenchmark } from '../../bench/telemetry_overhead/run.js';

// Keeps the benchmark runnable: one tiny A/B round through real worker processes. The
// numbers are too small to mean anything; only their shape is checked.
describe('bench:telemetry', () => {
  it('runs two tiny rounds (2 batches of 5 sessions, 1 turn) on one set of workers, off, on and the A/A control, and reports all three', async () => {
    // 7 warm-up sessions: batches of 5 and 2; then both rounds on the same processes, each
    // measuring two batches of 5 one after the other as one window.
    const report = await runTelemetryOverheadBenchmark({ sessions: 5, turns: 1, rounds: 2, roundsPerWorker: 2, batches: 2, warmupSessions: 7 });
    for (const summary of [report.off, report.on, report.control]) {
      expect(summary.runs).toHaveLength(2);
      for (const run of summary.runs) expect(run).toMatchObject({ phase: 'measured', sessions: 10, succeeded: 10 });
      expect(summary.medianCpuMs).toBeGreaterThan(0);
      expect(summary.medianWallMs).toBeGreaterThan(0);
      expect(summary.medianLoopP99Ms).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isFinite(report.cpuOverhead)).toBe(true);
    expect(report.paired.on.perRound).toHaveLength(2);
    expect(report.paired.control.perRound).toHaveLength(2);
    // Any built-in first loaded mid-phase is loaded on every side alike.
    expect(report.builtinsLoaded.on).toEqual(report.builtinsLoaded.off);
    expect(report.builtinsLoaded.control).toEqual(report.builtinsLoaded.off);
    expect(formatReport(report)).toMatch(/CPU overhead of telemetry/);
    expect(formatReport(report)).toMatch(/each set of worker processes measured in 2 consecutive rounds/);
  }, 60_000);
});
