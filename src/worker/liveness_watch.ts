import type { Clock, TimerHandle } from '../util/clock.js';

/**
 * Notices a half-open socket, which raises no error: pings every third of the timeout and
 * calls `onSilent` once nothing (message, ping or pong) has been heard for the whole of it.
 */
export class LivenessWatch {
  private lastHeardAt: number;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly ping: () => void,
    private readonly onSilent: (silentMs: number) => void,
  ) {
    this.lastHeardAt = clock.now();
    this.schedule();
  }

  heard(): void {
    this.lastHeardAt = this.clock.now();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    const untilSilent = this.timeoutMs - (this.clock.now() - this.lastHeardAt);
    this.timer = this.clock.setTimer(() => {
      if (this.stopped) return;
      const silentMs = this.clock.now() - this.lastHeardAt;
      if (silentMs >= this.timeoutMs) {
        this.stopped = true;
        this.onSilent(silentMs);
        return;
      }
      this.ping();
      this.schedule();
    }, Math.min(this.timeoutMs / 3, Math.max(1, untilSilent)));
  }
}
