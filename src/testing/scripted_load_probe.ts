import type { LoadProbe, LoadReading } from '../worker/load_probe.js';

/**
 * A load probe whose clock moves and whose readings change only when a test says so, for
 * the load monitor's tests: `set` the readings of the coming windows, `advance` the clock.
 * Not part of `openrtc/testing`: users cannot hand a worker a probe.
 */
export class ScriptedLoadProbe implements LoadProbe {
  private current = 0;
  private readingNow: LoadReading = { utilization: 0, cpu: 0, lagP99Ms: 0 };
  /** How many windows have been read. */
  reads = 0;
  stopped = false;

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  /** The readings every later window returns, until set again. */
  set(reading: Partial<LoadReading>): void {
    this.readingNow = { ...this.readingNow, ...reading };
  }

  read(): LoadReading {
    this.reads += 1;
    return { ...this.readingNow };
  }

  stop(): void {
    this.stopped = true;
  }
}
