import { EventEmitter } from 'node:events';
import type { Room } from '@livekit/rtc-node';

/**
 * agents-js's JobContext needs a Room object even when no SFU is involved. For simulated
 * calls this stands in: it is never connected and has no participants, which is exactly
 * what JobContext and a room-less AgentSession read from it.
 */
export function createRoomStub(name: string): Room {
  const emitter = new EventEmitter();
  const stub = {
    name,
    isConnected: false,
    remoteParticipants: new Map(),
    localParticipant: undefined,
    on: (event: string, listener: (...args: unknown[]) => void) => {
      emitter.on(event, listener);
      return stub;
    },
    off: (event: string, listener: (...args: unknown[]) => void) => {
      emitter.off(event, listener);
      return stub;
    },
    once: (event: string, listener: (...args: unknown[]) => void) => {
      emitter.once(event, listener);
      return stub;
    },
    removeListener: (event: string, listener: (...args: unknown[]) => void) => {
      emitter.off(event, listener);
      return stub;
    },
    disconnect: () => Promise.resolve(),
  };
  return stub as unknown as Room;
}
