import type { Room } from '@livekit/rtc-node';

/**
 * How a session reaches its call. In production that is a real rtc-node `Room` joined
 * with the assignment's url and token, and agents-js's RoomIO carries audio and text.
 * Without an SFU (tests, the demo) a simulated room carries scripted text turns instead,
 * so the same admission, session, breaker and telemetry paths run end to end.
 */
export interface ConnectRequest {
  /** The assignment's url (the LiveKit server's, or the stand-in's). */
  url: string;
  /** The assignment's token for the agent participant. */
  token: string;
  roomName: string;
  jobId: string;
}

export interface CallConnection {
  readonly kind: 'rtc' | 'simulated';
  /** The room (rtc only), not yet joined: the runner joins it through JobContext.connect() and the session starts with it. */
  readonly room: Room | undefined;
  /** Registers for user text turns (simulated only; rtc delivers them through RoomIO). */
  onUserText(listener: (text: string) => void): void;
  /** Sends the agent's reply to the caller (simulated only; rtc replies through RoomIO). */
  sendAgentText(text: string): void;
  /**
   * Called once when the call is over for the agent, with a short reason. `lost` is true
   * when the agent lost the room while the call went on (removed, connection failure):
   * LiveKit then fails the job ("agent worker left the room"), and so does the runner.
   */
  onDisconnected(listener: (reason: string, lost: boolean) => void): void;
  /** Leaves the call. Idempotent. */
  disconnect(): Promise<void>;
}

export interface RoomTransport {
  connect(request: ConnectRequest): Promise<CallConnection>;
}
