import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** TCP (or TLS) sockets corked until the current tick's callbacks and promise jobs have run. */
const corked = new WeakSet<Duplex>();

/**
 * Sends one binary frame, coalescing every frame sent on the same connection within one
 * tick into one write. A burst of offers answered together, an answer and the status
 * update it causes, or job updates queued across a reconnect otherwise cost one write
 * system call each. Each message is still its own WebSocket frame: the frames are only
 * held in the socket's buffer (`cork`) until the tick's promise jobs have run
 * (`process.nextTick` queued from inside them runs after the queue drains), then leave
 * together (`uncork`, one `writev`). `nextTick` rather than `setImmediate`: it adds no
 * wait for I/O, and fake timers in a user's tests do not hold it back.
 *
 * `ws` keeps the TCP socket under a WebSocket in `_socket`; it has no public accessor.
 * Where it is missing the frame is sent unbatched, as `ws` would send it anyway.
 */
export function sendBatched(socket: WebSocket, data: Uint8Array, done: (error?: Error) => void): void {
  const raw = (socket as unknown as { _socket?: Duplex | null })._socket;
  if (raw && !corked.has(raw) && typeof raw.cork === 'function') {
    corked.add(raw);
    raw.cork();
    process.nextTick(() => {
      corked.delete(raw);
      raw.uncork();
    });
  }
  socket.send(data, done);
}
