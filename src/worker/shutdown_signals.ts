/** What the signal handler needs from the worker. */
export interface SignalTarget {
  drain(): Promise<unknown>;
  /** Cancels every live session now; the drain in progress then finishes at once. */
  cancelLiveSessions(detail: string): void;
  readonly activeSessions: number;
  log(message: string): void;
}

/** How long a forced exit waits for cancelled sessions to report before exiting anyway, in ms. */
export const FORCED_EXIT_GRACE_MS = 10_000;

/**
 * SIGTERM and SIGINT, counted together: the first drains (WS_FULL, new calls refused,
 * live calls run on for up to the drain timeout) and exits 0. A second one during the
 * drain is logged and changes nothing: orchestrators and impatient terminals resend, and
 * the default action would kill every live call without a word to the server. A third
 * forces a fast exit: every live call is cancelled (its status still sent to the server,
 * its outcome counted), the connection closes, and the process exits 0 once that is done,
 * or with 1 after `FORCED_EXIT_GRACE_MS` if teardown hangs.
 *
 * Returns a function that removes the handlers.
 */
export function handleShutdownSignals(target: SignalTarget, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      target.log(`${signal} received: draining (${target.activeSessions} live calls); send it twice more to cancel them and exit`);
      void target.drain().then(() => exit(0));
    } else if (received === 2) {
      target.log(`${signal} received again: still draining (${target.activeSessions} live calls); send it once more to cancel them and exit`);
    } else if (received === 3) {
      target.log(`${signal} received a third time: cancelling ${target.activeSessions} live calls and exiting`);
      target.cancelLiveSessions(`worker forced to exit by ${signal}`);
      setTimeout(() => exit(1), FORCED_EXIT_GRACE_MS).unref();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
