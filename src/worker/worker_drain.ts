// The part of a drain that decides what happens to calls: wait for the live sessions up to
// the deadline, then end what never started and cancel what is still running.
import type { RunningSession } from '../session/session_runner.js';
import type { PoolRuntime } from './pool_runtime.js';
import type { DrainReport } from './run_options.js';

export interface DrainParts {
  pool: Pick<PoolRuntime, 'clock' | 'liveTickets'>;
  /** The sessions hosted right now. */
  running: () => RunningSession[];
}

/** Resolves once no session is running (or the deadline passed and the rest were cancelled). */
export async function settleSessions(parts: DrainParts, timeoutMs: number): Promise<DrainReport> {
  const { pool, running } = parts;
  let timedOut = false;
  let cancelTimer: (() => void) | undefined;
  const deadline = new Promise<void>((resolve) => {
    const timer = pool.clock.setTimer(() => {
      timedOut = true;
      resolve();
    }, timeoutMs);
    cancelTimer = () => timer.cancel();
  });
  // A call accepted before the drain may still get its assignment during it, so the
  // set of live sessions can grow: wait until none is running, not just the first ones.
  const hosted = new Set<RunningSession>();
  for (;;) {
    const now = running();
    for (const session of now) hosted.add(session);
    if (now.length === 0 || timedOut) break;
    await Promise.race([Promise.allSettled(now.map((s) => s.done)), deadline]);
  }
  cancelTimer?.();
  // Accepted calls whose assignment has not come will not be hosted by a stopping worker.
  // Ending their tickets first means no session can start while the rest are cancelled.
  const waiting = pool.liveTickets().filter((t) => t.state === 'reserved');
  const unassigned = Promise.allSettled(waiting.map((t) => t.finish('cancelled', 'worker stopped before the call started')));
  const leftover = running();
  for (const session of leftover) hosted.add(session);
  for (const session of leftover) session.cancel('drain timeout reached');
  // A session that ended by itself but was still tearing down keeps its own outcome.
  const leftoverEnds = await Promise.allSettled(leftover.map((s) => s.done));
  await unassigned;
  const cancelled = leftoverEnds.filter((end) => end.status === 'rejected' || end.value.outcome === 'cancelled').length;
  return { completed: hosted.size - cancelled, cancelled };
}
