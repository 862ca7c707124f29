import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The load a worker reports to the LiveKit server. Sessions share one event loop, so a
 * worker can be saturated well before it reaches its session cap; the reported load is
 * the larger of the two signals, and the server steers calls away from a lagging worker.
 */
export class LoadMonitor {
  private readonly histogram: IntervalHistogram;

  constructor(
    /** Event-loop p99 lag at which the worker counts as fully loaded, in ms. */
    private readonly saturatedLagMs = 250,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
  }

  /** p99 event-loop lag since the last reset, in ms. */
  lagP99Ms(): number {
    return this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
  }

  /** Combined load in 0..1; resets the lag window so each report covers its own interval. */
  sample(activeSessions: number, maxSessions: number | undefined): number {
    const sessionLoad = maxSessions ? activeSessions / maxSessions : 0;
    const lagLoad = this.lagP99Ms() / this.saturatedLagMs;
    this.histogram.reset();
    return Math.min(1, Math.max(sessionLoad, lagLoad));
  }

  stop(): void {
    this.histogram.disable();
  }
}
