/**
 * The pool worker's lifecycle as plain data, moved only by `nextWorkerState`, like the
 * connection (`connection_state.ts`) and the breaker (`admission/breaker_state.ts`).
 * Draining is recorded here for the worker and in the pool's hosting runtime for
 * admission, which the worker's entry into `draining` sets; the connection keeps no drain
 * flag of its own for a pool worker: the job handler reports the worker full while the
 * pool drains.
 */
import type { DrainReport } from './run_options.js';

export type WorkerState =
  /** Constructed; `start()` not called, or not finished. */
  | { name: 'created' }
  /** Registered and taking calls. */
  | { name: 'running' }
  /** Taking no calls; `drained` settles once the live sessions ended or were cancelled and everything is let go. */
  | { name: 'draining'; drained: Promise<DrainReport> }
  /** Drained and closed: nothing happens any more. */
  | { name: 'stopped'; report: DrainReport };

export type WorkerStateName = WorkerState['name'];

export type WorkerEvent =
  | { type: 'started' }
  | { type: 'drain'; drained: Promise<DrainReport> }
  | { type: 'stopped'; report: DrainReport };

export interface WorkerStep {
  next: WorkerState;
  /** False when the event does not apply (a second drain, a start after the drain began): nothing changes. */
  applied: boolean;
}

const keep = (state: WorkerState): WorkerStep => ({ next: state, applied: false });

export function nextWorkerState(state: WorkerState, event: WorkerEvent): WorkerStep {
  switch (event.type) {
    case 'started':
      return state.name === 'created' ? { next: { name: 'running' }, applied: true } : keep(state);
    case 'drain':
      // A worker may be drained before it finished starting (a signal during start-up).
      if (state.name !== 'created' && state.name !== 'running') return keep(state);
      return { next: { name: 'draining', drained: event.drained }, applied: true };
    case 'stopped':
      return state.name === 'draining' ? { next: { name: 'stopped', report: event.report }, applied: true } : keep(state);
  }
}
