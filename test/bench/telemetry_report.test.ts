import { describe, expect, it } from 'vitest';
import type { PhaseResult, Variant } from '../../bench/telemetry_overhead/protocol.js';
import { type BenchReport, formatReport, medianInterval, pairedRatio, summarize } from '../../bench/telemetry_overhead/report.js';
import { runTelemetryOverheadBenchmark } from '../../bench/telemetry_overhead/run.js';

describe('telemetry bench options', () => {
  it('refuses a count that is not a whole number of at least 1 (0 for warm-up), naming the option, before starting anything', async () => {
    await expect(runTelemetryOverheadBenchmark({ batches: 0 })).rejects.toThrow('`batches` must be a whole number of at least 1; got 0');
    await expect(runTelemetryOverheadBenchmark({ roundsPerWorker: Number.NaN })).rejects.toThrow('`roundsPerWorker` must be a whole number of at least 1');
    await expect(runTelemetryOverheadBenchmark({ warmupSessions: -1 })).rejects.toThrow('`warmupSessions` must be a whole number of at least 0; got -1');
  });
});

describe('telemetry bench report: the interval for the median round', () => {
  it('takes the 4th smallest and 4th largest of 15 rounds (coverage 96.5%), whatever their order', () => {
    const values = [9, 2, 14, 5, 1, 12, 7, 15, 3, 11, 6, 13, 4, 10, 8];
    const interval = medianInterval(values);
    expect([interval.low, interval.high]).toEqual([4, 12]);
    expect(interval.coverage).toBeCloseTo(1 - (2 * 576) / 32768, 10);
  });

  it('takes the 10th smallest and 10th largest of 30 rounds', () => {
    const interval = medianInterval(Array.from({ length: 30 }, (_, i) => 30 - i));
    expect([interval.low, interval.high]).toEqual([10, 21]);
    expect(interval.coverage).toBeGreaterThanOrEqual(0.95);
    expect(interval.coverage).toBeLessThan(0.96);
  });

  it('falls back to the whole range when there are too few rounds, and says how sure that is', () => {
    expect(medianInterval([3, 1, 2, 5, 4])).toEqual({ low: 1, high: 5, coverage: 1 - 2 / 32 });
    expect(medianInterval([3, 1, 2, 6, 5, 4])).toEqual({ low: 1, high: 6, coverage: 1 - 2 / 64 });
    expect(medianInterval([7]).coverage).toBe(0);
  });
});

describe('telemetry bench report: the verdict follows the interval, not the median alone', () => {
  const report = (onOverOff: number[]): BenchReport => {
    const runs: PhaseResult[] = [];
    const run = (variant: Variant, cpuMs: number): PhaseResult =>
      ({ variant, phase: 'measured', sessions: 1, succeeded: 1, cpuMs, wallMs: cpuMs, loopP99Ms: 1, builtinsLoaded: [] });
    for (const ratio of onOverOff) runs.push(run('off', 1000), run('on', 1000 * (1 + ratio)), run('control', 1000));
    return {
      options: { sessions: 1, turns: 1, rounds: onOverOff.length, roundsPerWorker: 1, batches: 1, warmupSessions: 0, agentSpanShare: undefined },
      on: summarize(runs, 'on'), off: summarize(runs, 'off'), control: summarize(runs, 'control'),
      cpuOverhead: 0,
      paired: { on: pairedRatio(runs, 'on'), control: pairedRatio(runs, 'control') },
      builtinsLoaded: { on: [], off: [], control: [] },
      loadAverage: [0, 0, 0],
    };
  };
  const rounds = (center: number) => Array.from({ length: 15 }, (_, i) => center + (i - 7) * 0.004);

  it('holds when the whole interval is under 5%', () => {
    expect(formatReport(report(rounds(0.02)))).toMatch(/goal \(under 5%\) holds/);
  });

  it('is not shown when the median is under 5% but the interval reaches above it', () => {
    // Median round +2%, but the 4th largest of 15 is +9%.
    const text = formatReport(report([-0.01, 0, 0.005, 0.01, 0.012, 0.015, 0.018, 0.02, 0.022, 0.025, 0.03, 0.09, 0.1, 0.2, 0.3]));
    expect(text).toMatch(/goal \(under 5%\) is not shown/);
    expect(text).toMatch(/median \+2\.0%, 96% interval \+1\.0% \.\. \+9\.0%/);
  });

  it('is not met when the whole interval is above 5%', () => {
    expect(formatReport(report(rounds(0.2)))).toMatch(/goal \(under 5%\) is not met/);
  });
});
