import type { WebSocket } from 'ws';
import { Deferred } from '../util/deferred.js';
import { frameText } from '../worker/protocol_codec.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { CallEnd, CallEndReason, SimulatedCallScript, TranscriptEntry } from './dispatch_types.js';
import { type SimServerFrame, parseClientFrame } from './sim_room_protocol.js';

/**
 * The room side of a simulated call: a scripted caller that speaks a turn, waits for the
 * agent's reply, speaks the next, and hangs up after the last reply.
 */
export class SimulatedCall {
  readonly transcript: TranscriptEntry[] = [];
  private readonly joinedDeferred = new Deferred<void>();
  private readonly endedDeferred = new Deferred<CallEnd>();
  private socket: WebSocket | undefined;
  private nextTurn = 0;
  private awaitingReply = false;
  private turnTimer: TimerHandle | undefined;

  constructor(
    readonly roomName: string,
    private readonly script: SimulatedCallScript,
    private readonly clock: Clock,
  ) {}

  get joined(): Promise<void> {
    return this.joinedDeferred.promise;
  }

  get ended(): Promise<CallEnd> {
    return this.endedDeferred.promise;
  }

  get isJoined(): boolean {
    return this.socket !== undefined;
  }

  get isEnded(): boolean {
    return this.endedDeferred.settled;
  }

  /** Takes the agent's socket. Only one agent joins a simulated call. */
  attach(socket: WebSocket): void {
    if (this.socket || this.isEnded) {
      socket.close(4409, this.isEnded ? 'call ended' : 'an agent already joined');
      return;
    }
    this.socket = socket;
    socket.on('message', (data, isBinary) => this.onFrame(isBinary ? '' : frameText(data)));
    socket.on('close', () => this.finish('agent_left'));
    this.send({
      type: 'joined',
      room: this.roomName,
      participants: [
        {
          identity: this.script.callerIdentity ?? 'caller',
          metadata: this.script.callerMetadata ?? '',
          attributes: { ...this.script.callerAttributes },
        },
      ],
    });
    this.joinedDeferred.resolve();
    this.speakNextTurn();
  }

  /** Speaks an unscripted user turn now. */
  say(text: string): void {
    if (!this.socket || this.isEnded) throw new Error(`simulated call in room ${this.roomName} is not live`);
    this.transcript.push({ from: 'user', text });
    this.send({ type: 'user_text', text });
  }

  hangup(): void {
    this.end('hangup', true);
  }

  /** Removes the agent from the room: it is told, then its socket is closed; the call counts as agent_left. */
  removeAgent(): void {
    const socket = this.socket;
    if (!socket || this.isEnded) throw new Error(`simulated call in room ${this.roomName} has no agent to remove`);
    this.finish('agent_left');
    this.send({ type: 'removed' }, socket);
    socket.close(4001, 'agent_removed');
  }

  /** Ends the room side with `reason`; `notify` tells the agent with a hangup frame first. */
  end(reason: CallEndReason, notify: boolean): void {
    if (this.isEnded) return;
    const socket = this.socket;
    this.finish(reason);
    if (!socket) return;
    if (notify) this.send({ type: 'hangup' }, socket);
    socket.close(1000, reason);
  }

  private onFrame(raw: string): void {
    let frame;
    try {
      frame = parseClientFrame(raw);
    } catch {
      this.socket?.close(1003, 'malformed frame');
      return;
    }
    if (frame.type === 'leave') {
      this.end('agent_left', false);
      return;
    }
    this.transcript.push({ from: 'agent', text: frame.text });
    if (!this.awaitingReply) return;
    this.awaitingReply = false;
    this.turnTimer?.cancel();
    if (this.nextTurn < this.script.turns.length) this.speakNextTurn();
    else if (this.script.hangupAfterLastReply ?? true) this.hangup();
  }

  private speakNextTurn(): void {
    const text = this.script.turns[this.nextTurn];
    if (text === undefined) return;
    this.nextTurn++;
    this.awaitingReply = true;
    this.say(text);
    const timeoutMs = this.script.turnTimeoutMs;
    if (timeoutMs !== undefined) {
      this.turnTimer = this.clock.setTimer(() => this.end('turn_timeout', true), timeoutMs);
    }
  }

  private finish(reason: CallEndReason): void {
    this.turnTimer?.cancel();
    this.socket = undefined;
    this.endedDeferred.resolve({ reason });
  }

  private send(frame: SimServerFrame, socket = this.socket): void {
    if (socket && socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  }
}
