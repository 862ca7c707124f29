import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** How long one lag measurement window lasts, in ms: reads within it reuse its value. */
const LAG_WINDOW_MS = 1000;
/**
 * Lag counts only when it lasts: the share is the lowest of the last few windows, so one
 * busy second (several sessions starting at once) does not turn calls away, while lag
 * that persists for this many windows does.
 */
const SUSTAINED_WINDOWS = 3;

/**
 * Event-loop lag as a share of saturation. Sessions share one event loop, so a worker can
 * be saturated well before it reaches its session cap; the worker counts itself full when
 * either its sessions or its sustained lag say so. Reads come from the status interval
 * and from every admission or session end, so a window closes at most once a second.
 */
export class LoadMonitor {
  private readonly histogram: IntervalHistogram;
  private windowStartedAt = performance.now();
  private readonly recentShares: number[] = [];

  constructor(
    /** Event-loop p99 lag at which the worker counts as fully loaded, in ms. */
    private readonly saturatedLagMs = 250,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
  }

  /** p99 event-loop lag in the current window, in ms. */
  lagP99Ms(): number {
    return this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
  }

  /** Sustained lag as a share of saturation (0..1); 1 means full for us. */
  lagShare(): number {
    const now = performance.now();
    if (now - this.windowStartedAt >= LAG_WINDOW_MS) {
      this.recentShares.push(Math.min(1, this.lagP99Ms() / this.saturatedLagMs));
      if (this.recentShares.length > SUSTAINED_WINDOWS) this.recentShares.shift();
      this.histogram.reset();
      this.windowStartedAt = now;
    }
    return this.recentShares.length < SUSTAINED_WINDOWS ? 0 : Math.min(...this.recentShares);
  }

  stop(): void {
    this.histogram.disable();
  }
}

/**
 * The load reported to LiveKit. LiveKit offers a job only to a worker below its target
 * load (0.7 by default), so the worker's own fullness (the larger of its session share
 * and its lag share, 0..1) is scaled onto 0..targetLoad: the reported load reaches the
 * target exactly when the worker is full for itself, and every session up to the cap can
 * still be offered. At or above the target the worker reports WS_FULL.
 */
export function reportedLoad(fullness: number, targetLoad: number): { load: number; full: boolean } {
  const share = Math.min(1, Math.max(0, Number.isFinite(fullness) ? fullness : 1));
  return { load: share * targetLoad, full: share >= 1 };
}
