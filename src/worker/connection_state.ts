/**
 * The worker connection's lifecycle as plain data: one pure transition function decides,
 * `WorkerConnection` applies the result and runs what entering and leaving a state needs
 * (timers, the first status report, releasing reservations). Every socket event names the
 * socket it came from, so an event of a socket that is no longer current is refused here,
 * in one place, instead of by checks spread over the class.
 */
export type ConnectionState<S> =
  /** Constructed; `start()` not called yet. */
  | { name: 'idle' }
  /** A socket is open or opening and `register` was sent; no answer yet. */
  | { name: 'connecting'; socket: S; reconnect: boolean }
  /** Registered on `socket`: the one state in which messages flow. */
  | { name: 'registered'; socket: S; workerId: string; reconnect: boolean }
  /** The socket was lost (or an attempt failed); the next attempt waits for the backoff. */
  | { name: 'waiting' }
  /** `close()` was called, or the first attempt failed: nothing happens any more. */
  | { name: 'closed' };

export type ConnectionStateName = ConnectionState<unknown>['name'];

export type ConnectionEvent<S> =
  /** A new socket was opened for a first attempt (`reconnect` false) or a later one. */
  | { type: 'dial'; socket: S; reconnect: boolean }
  /** The server answered `register` on `socket`. */
  | { type: 'registered'; socket: S; workerId: string }
  /** `socket` closed, failed, or was cut for silence. */
  | { type: 'lost'; socket: S }
  /** The first attempt failed: the connection never came up and will not retry. */
  | { type: 'failed_to_start'; socket: S }
  | { type: 'close' };

export interface ConnectionStep<S> {
  next: ConnectionState<S>;
  /** False when the event does not apply (a stale socket, a closed connection): nothing changes. */
  applied: boolean;
}

const keep = <S>(state: ConnectionState<S>): ConnectionStep<S> => ({ next: state, applied: false });

/** The socket a state holds, if any. */
export function socketOf<S>(state: ConnectionState<S>): S | undefined {
  return state.name === 'connecting' || state.name === 'registered' ? state.socket : undefined;
}

export function transition<S>(state: ConnectionState<S>, event: ConnectionEvent<S>): ConnectionStep<S> {
  if (state.name === 'closed') return keep(state);
  switch (event.type) {
    case 'close':
      return { next: { name: 'closed' }, applied: true };
    case 'dial':
      // A first attempt starts from idle, a later one from waiting; never over a live socket.
      if (event.reconnect ? state.name !== 'waiting' : state.name !== 'idle') return keep(state);
      return { next: { name: 'connecting', socket: event.socket, reconnect: event.reconnect }, applied: true };
    case 'registered':
      if (state.name !== 'connecting' || state.socket !== event.socket) return keep(state);
      return { next: { name: 'registered', socket: event.socket, workerId: event.workerId, reconnect: state.reconnect }, applied: true };
    case 'lost':
      if (socketOf(state) !== event.socket || socketOf(state) === undefined) return keep(state);
      return { next: { name: 'waiting' }, applied: true };
    case 'failed_to_start':
      if (state.name !== 'connecting' || state.socket !== event.socket || state.reconnect) return keep(state);
      return { next: { name: 'closed' }, applied: true };
  }
}
