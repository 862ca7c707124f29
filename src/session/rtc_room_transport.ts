import { Room, RoomEvent } from '@livekit/rtc-node';
import type { CallConnection, ConnectRequest, RoomTransport } from './room_transport.js';

/**
 * The production transport: a real rtc-node Room. The room is returned unjoined; the
 * runner joins it through agents-js `JobContext.connect()` so that agent code calling
 * `ctx.connect()` itself finds it already connected, as it would under agents-js.
 */
export class RtcRoomTransport implements RoomTransport {
  connect(_request: ConnectRequest): Promise<CallConnection> {
    const room = new Room();
    const disconnectListeners: ((reason: string) => void)[] = [];
    let announced = false;
    room.on(RoomEvent.Disconnected, (reason) => {
      if (announced) return;
      announced = true;
      for (const listener of disconnectListeners) listener(`room disconnected (${String(reason)})`);
    });
    // With RoomIO, the session ends when the caller leaves: treat the last remote
    // participant leaving as a hangup.
    room.on(RoomEvent.ParticipantDisconnected, () => {
      if (announced || room.remoteParticipants.size > 0) return;
      announced = true;
      for (const listener of disconnectListeners) listener('caller left');
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
