import { describe, expect, it } from 'vitest';
import { formatReport, runTelemetryOverheadBenchmark } from '../../bench/telemetry_overhead/run.js';

// Keeps the benchmark runnable: one tiny A/B round through real worker processes. The
// numbers are too small to mean anything; only their shape is checked.
describe('bench:telemetry', () => {
  it('runs one tiny round (5 sessions, 1 turn) with telemetry off, on and the A/A control and reports all three', async () => {
    const report = await runTelemetryOverheadBenchmark({ sessions: 5, turns: 1, rounds: 1, warmupSessions: 0 });
    for (const summary of [report.off, report.on, report.control]) {
      expect(summary.runs).toHaveLength(1);
      expect(summary.runs[0]).toMatchObject({ phase: 'measured', sessions: 5, succeeded: 5 });
      expect(summary.medianCpuMs).toBeGreaterThan(0);
      expect(summary.medianWallMs).toBeGreaterThan(0);
      expect(summary.medianLoopP99Ms).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isFinite(report.cpuOverhead)).toBe(true);
    expect(report.paired.on.perRound).toHaveLength(1);
    expect(report.paired.control.perRound).toHaveLength(1);
    // Without warm-up the first sessions load a few built-ins mid-phase, but the same on every side.
    expect(report.builtinsLoaded.on).toEqual(report.builtinsLoaded.off);
    expect(report.builtinsLoaded.control).toEqual(report.builtinsLoaded.off);
    expect(formatReport(report)).toMatch(/CPU overhead of telemetry/);
  }, 60_000);
});
