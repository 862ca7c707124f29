// What lives only while the worker is registered on one socket, and is dropped with it:
// the liveness watch, the periodic status report, the status last sent, and the jobs
// accepted on this socket whose assignment has not come yet.
import type { WorkerStatus } from '@livekit/protocol';
import { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../util/clock.js';
import { LivenessWatch } from './liveness_watch.js';

export interface RegisteredSessionSettings {
  clock: Clock;
  livenessTimeoutMs: number;
  updateIntervalMs: number;
  /** The server was silent too long: the socket has been cut. */
  onSilent(silentMs: number): void;
  /** Sends the current status; returns the status sent, or undefined when it could not be sent. */
  sendStatus(): WorkerStatus | undefined;
}

export class RegisteredSession {
  lastSentStatus: WorkerStatus | undefined;
  /** Jobs accepted on this socket whose assignment has not come yet. */
  readonly unassigned = new Set<string>();
  private readonly liveness: LivenessWatch;
  private updateTimer: TimerHandle | undefined;
  private ended = false;

  constructor(socket: WebSocket, private readonly settings: RegisteredSessionSettings) {
    // Live calls are untouched by a cut: their rooms do not depend on this socket.
    this.liveness = new LivenessWatch(
      settings.clock,
      settings.livenessTimeoutMs,
      () => {
        if (socket.readyState === WebSocket.OPEN) socket.ping();
      },
      (silentMs) => {
        settings.onSilent(silentMs);
        socket.terminate();
      },
    );
  }

  /** Anything from the server (message, ping, pong) shows the socket is alive. */
  heard(): void {
    this.liveness.heard();
  }

  reportStatus(): void {
    const sent = this.settings.sendStatus();
    if (sent !== undefined) this.lastSentStatus = sent;
  }


  /** Stops the watch and the reports; returns the jobs whose assignment will never come. */
  end(): Set<string> {
    this.ended = true;
    this.updateTimer?.cancel();
    this.liveness.stop();
    return this.unassigned;
  }

  /** Reports the status on every interval from now until the session ends. */
  scheduleReports(): void {
    this.updateTimer = this.settings.clock.setTimer(() => {
      if (this.ended) return;
      this.reportStatus();
      this.scheduleReports();
    }, this.settings.updateIntervalMs);
  }
}
