import { invalidOption } from '../errors.js';
import { type LoadProbe, type LoadReading, processLoadProbe } from './load_probe.js';

/**
 * The readings at which the worker counts itself full. Sessions share one event loop, so
 * the worker can be saturated well before its session cap; it must say so before its
 * sessions fall behind real time, not after.
 */
export interface LoadLimits {
  /**
   * Event-loop utilization (share of time the loop is busy, 0..1) that counts as full.
   * Audio frames queue up behind busy time and fall behind once the loop is busy all the
   * time; stopping new offers at 0.8 leaves headroom for the calls already accepted to
   * ramp up. Default 0.8.
   */
  eventLoopUtilization?: number;
  /** Process CPU, as a share of all the machine's cores (0..1), that counts as full. Default 0.9. */
  cpu?: number;
  /** Event-loop p99 delay that counts as full, in ms. Default 250. */
  lagP99Ms?: number;
}

export const DEFAULT_LOAD_LIMITS: Readonly<Required<LoadLimits>> = Object.freeze({ eventLoopUtilization: 0.8, cpu: 0.9, lagP99Ms: 250 });

export function resolveLoadLimits(limits: LoadLimits | undefined, option = 'loadLimits'): Required<LoadLimits> {
  if (limits === undefined) return { ...DEFAULT_LOAD_LIMITS };
  if (typeof limits !== 'object' || limits === null) throw invalidOption(option, 'must be an object of load limits', limits);
  const resolved = { ...DEFAULT_LOAD_LIMITS, ...limits };
  for (const key of ['eventLoopUtilization', 'cpu'] as const) {
    const value = resolved[key];
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw invalidOption(`${option}.${key}`, 'must be a number above 0 and at most 1', value);
  }
  const lag = resolved.lagP99Ms;
  if (typeof lag !== 'number' || !Number.isFinite(lag) || lag <= 0) throw invalidOption(`${option}.lagP99Ms`, 'must be a positive number of milliseconds', lag);
  return resolved;
}

/** How long one measurement window lasts, in ms: reads within it reuse the last result. */
const WINDOW_MS = 1000;
/**
 * Load counts only when it lasts: the share is the lowest of the last few windows, so one
 * busy second (several sessions starting at once) does not turn calls away, while load
 * that persists for this many windows does.
 */
const SUSTAINED_WINDOWS = 3;

/** How full one window's readings say the worker is (0..1), and which reading says it. */
export function busyShare(reading: LoadReading, limits: Required<LoadLimits>): number {
  const shares = [
    reading.utilization / limits.eventLoopUtilization,
    reading.cpu / limits.cpu,
    reading.lagP99Ms / limits.lagP99Ms,
  ];
  const share = Math.max(...shares.map((s) => (Number.isFinite(s) ? s : 1)));
  return Math.min(1, Math.max(0, share));
}

/**
 * How busy the worker's process is, as a share of full (0..1): the largest of its event-
 * loop utilization, its CPU and its event-loop lag, each against its limit, sustained over
 * the last few windows. Reads come from the status interval and from every admission or
 * session end; a window closes at most once a second.
 */
export class LoadMonitor {
  private readonly limits: Required<LoadLimits>;
  private windowStartedAt: number;
  private readonly recentShares: number[] = [];
  private lastReading: LoadReading = { utilization: 0, cpu: 0, lagP99Ms: 0 };

  constructor(limits?: LoadLimits, private readonly probe: LoadProbe = processLoadProbe()) {
    this.limits = resolveLoadLimits(limits);
    this.windowStartedAt = probe.now();
  }

  /** Sustained busy share (0..1); 1 means full for us. 0 until enough windows have closed. */
  busyShare(): number {
    const now = this.probe.now();
    if (now - this.windowStartedAt >= WINDOW_MS) {
      this.lastReading = this.probe.read();
      this.recentShares.push(busyShare(this.lastReading, this.limits));
      if (this.recentShares.length > SUSTAINED_WINDOWS) this.recentShares.shift();
      this.windowStartedAt = now;
    }
    return this.recentShares.length < SUSTAINED_WINDOWS ? 0 : Math.min(...this.recentShares);
  }

  /** The readings of the last closed window. */
  reading(): LoadReading {
    return { ...this.lastReading };
  }

  stop(): void {
    this.probe.stop();
  }
}

/**
 * The load reported to LiveKit. LiveKit offers a job only to a worker below its target
 * load (0.7 by default), so the worker's own fullness (the larger of its session share
 * and its busy share, 0..1) is scaled onto 0..targetLoad: the reported load reaches the
 * target exactly when the worker is full for itself. At or above the target the worker
 * reports WS_FULL.
 */
export function reportedLoad(fullness: number, targetLoad: number): { load: number; full: boolean } {
  const share = Math.min(1, Math.max(0, Number.isFinite(fullness) ? fullness : 1));
  return { load: share * targetLoad, full: share >= 1 };
}
