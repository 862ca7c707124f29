import type { Clock } from '../util/clock.js';
import type { JobRequest } from '../session/job_assignment.js';
import type { AvailabilityAnswer, JobHandler } from './job_handler.js';

/**
 * Runs the handler's availability decision against a deadline. The decision itself goes
 * on (admission may be awaiting a tenant loader); the caller learns whether it came in
 * time, and the handler's signal aborts at the deadline so admission can stop early.
 */
export async function answerWithin(
  handler: JobHandler,
  request: JobRequest,
  deadlineMs: number,
  clock: Clock,
  hooks: { onExpired(): void; onThrow(error: unknown): void },
): Promise<{ answer: AvailabilityAnswer; expired: boolean }> {
  const controller = new AbortController();
  let expired = false;
  const timer = clock.setTimer(() => {
    expired = true;
    controller.abort();
    hooks.onExpired();
  }, deadlineMs);
  let answer: AvailabilityAnswer;
  try {
    answer = await handler.onAvailability(request, controller.signal);
  } catch (error) {
    hooks.onThrow(error);
    answer = { accept: false, reason: 'handler_error' };
  }
  timer.cancel();
  return { answer, expired };
}
