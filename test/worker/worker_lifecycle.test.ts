import { describe, expect, it } from 'vitest';
import { type WorkerState, nextWorkerState } from '../../src/worker/worker_lifecycle.js';

const report = { completed: 2, cancelled: 1 };
const drained = Promise.resolve(report);

describe('the pool worker lifecycle', () => {
  it('goes created -> running -> draining -> stopped', () => {
    let state: WorkerState = { name: 'created' };
    for (const event of [{ type: 'started' }, { type: 'drain', drained }, { type: 'stopped', report }] as const) {
      const step = nextWorkerState(state, event);
      expect(step.applied).toBe(true);
      state = step.next;
    }
    expect(state).toEqual({ name: 'stopped', report });
  });

  it('drains once: a second drain, a late start and a drain after the stop change nothing', () => {
    const draining: WorkerState = { name: 'draining', drained };
    const other = Promise.resolve({ completed: 0, cancelled: 0 });
    expect(nextWorkerState(draining, { type: 'drain', drained: other })).toEqual({ next: draining, applied: false });
    expect(nextWorkerState(draining, { type: 'started' })).toEqual({ next: draining, applied: false });
    const stopped: WorkerState = { name: 'stopped', report };
    expect(nextWorkerState(stopped, { type: 'drain', drained: other })).toEqual({ next: stopped, applied: false });
  });

  it('may drain before it finished starting, and stops only from draining', () => {
    expect(nextWorkerState({ name: 'created' }, { type: 'drain', drained }).next).toEqual({ name: 'draining', drained });
    expect(nextWorkerState({ name: 'running' }, { type: 'stopped', report }).applied).toBe(false);
  });
});
