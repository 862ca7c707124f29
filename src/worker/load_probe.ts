import os from 'node:os';
import { type EventLoopUtilization, type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** What the worker's process did during one measurement window. */
export interface LoadReading {
  /** Share of the window the event loop spent running code rather than waiting (0..1). */
  utilization: number;
  /** Process CPU (user + system, every thread) as a share of all the machine's cores (0..1). */
  cpu: number;
  /** p99 event-loop delay during the window, in ms. */
  lagP99Ms: number;
}

/**
 * Where the load monitor gets its readings: a clock and the window's figures. The real one
 * reads Node's counters; tests give scripted readings and a hand-moved clock.
 */
export interface LoadProbe {
  /** Monotonic ms. */
  now(): number;
  /** The readings since the previous `read` (or since the probe started), starting a new window. */
  read(): LoadReading;
  stop(): void;
}

/**
 * The process's own counters: `performance.eventLoopUtilization`, `process.cpuUsage`
 * and a `monitorEventLoopDelay` histogram, each taken as a difference since the last read.
 */
export function processLoadProbe(cores = os.availableParallelism()): LoadProbe {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let at = performance.now();
  return {
    now: () => performance.now(),
    read() {
      const now = performance.now();
      const window = performance.eventLoopUtilization(elu);
      const used = process.cpuUsage(cpu);
      const elapsedMs = Math.max(1e-3, now - at);
      const reading: LoadReading = {
        utilization: window.utilization,
        cpu: (used.user + used.system) / 1000 / elapsedMs / cores,
        lagP99Ms: histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0,
      };
      histogram.reset();
      elu = performance.eventLoopUtilization();
      cpu = process.cpuUsage();
      at = now;
      return reading;
    },
    stop: () => histogram.disable(),
  };
}
