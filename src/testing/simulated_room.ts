import { WebSocket } from 'ws';
import type { CallConnection, ConnectRequest, RoomTransport } from '../session/room_transport.js';
import { type Clock, systemClock } from '../util/clock.js';
import { frameText, toWebSocketBase, withPath } from '../worker/protocol_codec.js';
import { SIM_ROOM_PATH, type SimClientFrame, type SimParticipant, parseServerFrame } from './sim_room_protocol.js';

export interface SimulatedRoomTransportOptions {
  /** How long to wait for the room's `joined` frame, in ms. */
  connectTimeoutMs?: number;
  clock?: Clock;
}

/**
 * Joins the stand-in server's simulated room with the assignment's url and token, so a
 * session runs a scripted text call end to end without an SFU.
 */
export class SimulatedRoomTransport implements RoomTransport {
  private readonly connectTimeoutMs: number;
  private readonly clock: Clock;

  constructor(options: SimulatedRoomTransportOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
  }

  async connect(request: ConnectRequest): Promise<CallConnection> {
    const endpoint = withPath(toWebSocketBase(request.url), SIM_ROOM_PATH);
    const shown = endpoint.toString();
    endpoint.searchParams.set('access_token', request.token);
    const socket = new WebSocket(endpoint);
    const connection = new SimulatedCallConnection(socket);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (why: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        socket.terminate();
        reject(new Error(`simulated room at ${shown} (room ${request.roomName}, job ${request.jobId}): ${why}`, { cause }));
      };
      const timer = this.clock.setTimer(() => fail(`no joined frame within ${this.connectTimeoutMs} ms`), this.connectTimeoutMs);
      socket.on('unexpected-response', (_req, response) => fail(`refused with HTTP ${response.statusCode ?? 'unknown'}`));
      socket.on('error', (error) => fail(error.message, error));
      socket.on('close', (code, reason) => fail(`closed before joining (code ${code}${reason.length ? `, ${reason.toString()}` : ''})`));
      connection.onJoined = () => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve();
      };
    });
    return connection;
  }
}

class SimulatedCallConnection implements CallConnection {
  readonly kind = 'simulated' as const;
  readonly room = undefined;
  participants: SimParticipant[] = [];
  onJoined: () => void = () => undefined;
  private readonly textListeners: ((text: string) => void)[] = [];
  // Turns that arrive before anyone listens (the first turn follows `joined` at once) wait here.
  private readonly bufferedTexts: string[] = [];
  private readonly disconnectListeners: ((reason: string, lost: boolean) => void)[] = [];
  private endReason: string | undefined;
  private lost = false;
  private leaving = false;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame;
      try {
        frame = parseServerFrame(frameText(data));
      } catch {
        return;
      }
      if (frame.type === 'joined') {
        this.participants = frame.participants;
        this.onJoined();
      } else if (frame.type === 'user_text') {
        if (this.textListeners.length === 0) this.bufferedTexts.push(frame.text);
        for (const listener of this.textListeners) listener(frame.text);
      } else if (frame.type === 'removed') {
        this.ended('agent_removed', true);
      } else {
        this.ended('hangup');
      }
    });
    socket.on('close', (_code, reason) => this.ended(this.leaving ? 'agent_left' : reason.toString() || 'socket_closed'));
    // Errors after joining end the call through `close`; this listener keeps them from throwing.
    socket.on('error', () => undefined);
  }

  onUserText(listener: (text: string) => void): void {
    this.textListeners.push(listener);
    for (const text of this.bufferedTexts.splice(0)) listener(text);
  }

  sendAgentText(text: string): void {
    this.send({ type: 'agent_text', text });
  }

  onDisconnected(listener: (reason: string, lost: boolean) => void): void {
    if (this.endReason !== undefined) {
      const reason = this.endReason;
      const lost = this.lost;
      queueMicrotask(() => listener(reason, lost));
      return;
    }
    this.disconnectListeners.push(listener);
  }

  async disconnect(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    if (!this.leaving) {
      this.leaving = true;
      this.send({ type: 'leave' });
      this.socket.close(1000, 'agent_left');
    }
    await new Promise<void>((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) resolve();
      else this.socket.once('close', () => resolve());
    });
  }

  private ended(reason: string, lost = false): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.lost = lost;
    for (const listener of this.disconnectListeners.splice(0)) listener(reason, lost);
  }

  private send(frame: SimClientFrame): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}
