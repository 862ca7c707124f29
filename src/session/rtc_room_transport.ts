import { DisconnectReason, Room, RoomEvent } from '@livekit/rtc-node';
import type { CallConnection, ConnectRequest, RoomTransport } from './room_transport.js';

/**
 * Disconnects in which the agent lost a call that went on without it. The others end the
 * call for everyone (room deleted, server shutting down) or are the agent's own leaving.
 */
const LOST_ROOM_REASONS: ReadonlySet<DisconnectReason> = new Set([
  DisconnectReason.PARTICIPANT_REMOVED,
  DisconnectReason.DUPLICATE_IDENTITY,
  DisconnectReason.STATE_MISMATCH,
  DisconnectReason.JOIN_FAILURE,
  DisconnectReason.SIGNAL_CLOSE,
]);

/**
 * The production transport: a real rtc-node Room. The room is returned unjoined; the
 * runner joins it through agents-js `JobContext.connect()` so that agent code calling
 * `ctx.connect()` itself finds it already connected, as it would under agents-js.
 */
export class RtcRoomTransport implements RoomTransport {
  connect(_request: ConnectRequest): Promise<CallConnection> {
    const room = new Room();
    const disconnectListeners: ((reason: string, lost: boolean) => void)[] = [];
    let announced = false;
    room.on(RoomEvent.Disconnected, (reason) => {
      if (announced) return;
      announced = true;
      const lost = LOST_ROOM_REASONS.has(reason);
      for (const listener of disconnectListeners) listener(`room disconnected (${String(reason)})`, lost);
    });
    // With RoomIO, the session ends when the caller leaves: treat the last remote
    // participant leaving as a hangup.
    room.on(RoomEvent.ParticipantDisconnected, () => {
      if (announced || room.remoteParticipants.size > 0) return;
      announced = true;
      for (const listener of disconnectListeners) listener('caller left', false);
    });
    return Promise.resolve({
      kind: 'rtc',
      room,
      onUserText: () => {},
      sendAgentText: () => {},
      onDisconnected: (listener) => disconnectListeners.push(listener),
      disconnect: async () => {
        announced = true;
        if (room.isConnected) await room.disconnect();
      },
    });
  }
}
