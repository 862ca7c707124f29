import { describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { ScriptedLoadProbe } from '../../src/testing/scripted_load_probe.js';
import { DEFAULT_LOAD_LIMITS, LoadMonitor, busyShare, reportedLoad, resolveLoadLimits } from '../../src/worker/load_monitor.js';
import { processLoadProbe } from '../../src/worker/load_probe.js';
import { PoolJobHandler, type PoolJobHandlerOptions } from '../../src/worker/pool_job_handler.js';
import { accepted, call } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

const LIMITS = resolveLoadLimits(undefined);

/** Closes `windows` one-second windows with the probe's current readings; returns the last share. */
function windows(monitor: LoadMonitor, probe: ScriptedLoadProbe, count: number): number {
  let share = monitor.busyShare();
  for (let i = 0; i < count; i++) {
    probe.advance(1_000);
    share = monitor.busyShare();
  }
  return share;
}

describe('one window\'s busy share', () => {
  it('is the largest of utilization, CPU and lag against their limits, capped at 1', () => {
    expect(DEFAULT_LOAD_LIMITS).toEqual({ eventLoopUtilization: 0.8, cpu: 0.9, lagP99Ms: 250 });
    expect(busyShare({ utilization: 0.4, cpu: 0.1, lagP99Ms: 5 }, LIMITS)).toBeCloseTo(0.5);
    expect(busyShare({ utilization: 0.1, cpu: 0.45, lagP99Ms: 5 }, LIMITS)).toBeCloseTo(0.5);
    expect(busyShare({ utilization: 0.1, cpu: 0.1, lagP99Ms: 125 }, LIMITS)).toBeCloseTo(0.5);
    expect(busyShare({ utilization: 0.8, cpu: 0, lagP99Ms: 0 }, LIMITS)).toBe(1);
    expect(busyShare({ utilization: 1, cpu: 1, lagP99Ms: 5_000 }, LIMITS)).toBe(1);
    expect(busyShare({ utilization: Number.NaN, cpu: 0, lagP99Ms: 0 }, LIMITS)).toBe(1);
  });
});

describe('LoadMonitor', () => {
  it('says nothing until three windows have closed, and reads the probe once per window', () => {
    const probe = new ScriptedLoadProbe();
    const monitor = new LoadMonitor(undefined, probe);
    probe.set({ utilization: 0.9 });
    expect(windows(monitor, probe, 2)).toBe(0);
    probe.advance(999);
    expect(monitor.busyShare()).toBe(0);
    expect(probe.reads).toBe(2);
    probe.advance(1);
    expect(monitor.busyShare()).toBe(1);
    expect(probe.reads).toBe(3);
    expect(monitor.reading()).toEqual({ utilization: 0.9, cpu: 0, lagP99Ms: 0 });
  });

  it('counts load only when it lasts: one busy window among quiet ones leaves it low', () => {
    const probe = new ScriptedLoadProbe();
    const monitor = new LoadMonitor(undefined, probe);
    probe.set({ utilization: 0.2 });
    expect(windows(monitor, probe, 3)).toBeCloseTo(0.25);
    probe.set({ utilization: 1 });
    expect(windows(monitor, probe, 1)).toBeCloseTo(0.25);
    probe.set({ utilization: 0.2 });
    expect(windows(monitor, probe, 1)).toBeCloseTo(0.25);
    // Busy for three windows in a row: full, and back down once it passes.
    probe.set({ utilization: 0.85 });
    expect(windows(monitor, probe, 3)).toBe(1);
    probe.set({ utilization: 0.4, cpu: 0.3 });
    expect(windows(monitor, probe, 3)).toBeCloseTo(0.5);
  });

  it('is full on CPU or on lag alone, at the limits given', () => {
    const probe = new ScriptedLoadProbe();
    const monitor = new LoadMonitor({ cpu: 0.5, lagP99Ms: 100 }, probe);
    probe.set({ cpu: 0.5 });
    expect(windows(monitor, probe, 3)).toBe(1);
    probe.set({ cpu: 0, lagP99Ms: 50 });
    expect(windows(monitor, probe, 3)).toBeCloseTo(0.5);
    monitor.stop();
    expect(probe.stopped).toBe(true);
  });

  it('rejects limits outside their range', () => {
    expect(() => resolveLoadLimits({ eventLoopUtilization: 0 })).toThrow('`loadLimits.eventLoopUtilization` must be a number above 0 and at most 1; got 0');
    expect(() => resolveLoadLimits({ cpu: 1.5 })).toThrow('`loadLimits.cpu` must be a number above 0 and at most 1; got 1.5');
    expect(() => resolveLoadLimits({ lagP99Ms: -1 })).toThrow('`loadLimits.lagP99Ms` must be a positive number of milliseconds; got -1');
    expect(() => resolveLoadLimits(3 as never)).toThrow('`loadLimits` must be an object of load limits; got 3');
  });

  it('reads the process\'s own counters within their ranges', () => {
    const probe = processLoadProbe(2);
    const reading = probe.read();
    probe.stop();
    expect(reading.utilization).toBeGreaterThanOrEqual(0);
    expect(reading.utilization).toBeLessThanOrEqual(1);
    expect(reading.cpu).toBeGreaterThanOrEqual(0);
    expect(reading.lagP99Ms).toBeGreaterThanOrEqual(0);
  });
});

describe('the load a worker reports', () => {
  // load() reads only the pool and the monitor; the session runner's parts are not used.
  const handlerOf = (pool: AgentPool, monitor: LoadMonitor) =>
    new PoolJobHandler({ pool: pool.runtime, loadMonitor: monitor, maxSessions: 10, targetLoad: 0.7, runner: {} as PoolJobHandlerOptions['runner'] });

  it('is the larger of sessions / cap and the busy share, scaled onto the target load', async () => {
    const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock(), maxConcurrentSessions: 10 });
    const probe = new ScriptedLoadProbe();
    const monitor = new LoadMonitor(undefined, probe);
    const handler = handlerOf(pool, monitor);
    for (let i = 0; i < 2; i++) accepted(await pool.admit(call('acme')));
    expect(handler.load()).toEqual({ load: expect.closeTo(0.14, 6) as number, jobCount: 0, full: false });
    // A busy loop with few sessions: the reported load follows the loop, not the count.
    probe.set({ utilization: 0.4 });
    windows(monitor, probe, 3);
    expect(handler.load().load).toBeCloseTo(0.35);
    // Busy enough to fall behind soon: full long before the session cap.
    probe.set({ utilization: 0.8 });
    windows(monitor, probe, 3);
    expect(handler.load()).toMatchObject({ load: 0.7, full: true });
  });

  it('maps fullness onto 0..targetLoad and is full only at 1', () => {
    expect(reportedLoad(0.5, 0.7)).toEqual({ load: 0.35, full: false });
    expect(reportedLoad(1, 0.7)).toEqual({ load: 0.7, full: true });
    expect(reportedLoad(Number.NaN, 0.7)).toEqual({ load: 0.7, full: true });
  });
});
