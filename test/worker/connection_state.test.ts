import { describe, expect, it } from 'vitest';
import { type ConnectionState, socketOf, transition } from '../../src/worker/connection_state.js';

type S = { id: string };
const a: S = { id: 'a' };
const b: S = { id: 'b' };

describe('connection lifecycle transitions', () => {
  it('walks idle -> connecting -> registered -> waiting -> connecting -> registered', () => {
    let state: ConnectionState<S> = { name: 'idle' };
    const step = (event: Parameters<typeof transition<S>>[1]) => {
      const { next, applied } = transition(state, event);
      expect(applied).toBe(true);
      state = next;
    };
    step({ type: 'dial', socket: a, reconnect: false });
    expect(state).toEqual({ name: 'connecting', socket: a, reconnect: false });
    step({ type: 'registered', socket: a, workerId: 'W1' });
    expect(state).toEqual({ name: 'registered', socket: a, workerId: 'W1', reconnect: false });
    step({ type: 'lost', socket: a });
    expect(state).toEqual({ name: 'waiting' });
    step({ type: 'dial', socket: b, reconnect: true });
    step({ type: 'registered', socket: b, workerId: 'W2' });
    expect(socketOf(state)).toBe(b);
  });

  it('refuses events of a socket that is no longer current, in one place', () => {
    const registered: ConnectionState<S> = { name: 'registered', socket: b, workerId: 'W2', reconnect: true };
    expect(transition(registered, { type: 'lost', socket: a })).toEqual({ next: registered, applied: false });
    expect(transition(registered, { type: 'registered', socket: a, workerId: 'W3' })).toEqual({ next: registered, applied: false });
    expect(transition(registered, { type: 'dial', socket: a, reconnect: true }).applied).toBe(false);
  });

  it('closes a connection whose first attempt failed, but keeps retrying after a failed reconnect', () => {
    const first: ConnectionState<S> = { name: 'connecting', socket: a, reconnect: false };
    expect(transition(first, { type: 'failed_to_start', socket: a }).next).toEqual({ name: 'closed' });
    const later: ConnectionState<S> = { name: 'connecting', socket: a, reconnect: true };
    expect(transition(later, { type: 'failed_to_start', socket: a }).applied).toBe(false);
    expect(transition(later, { type: 'lost', socket: a }).next).toEqual({ name: 'waiting' });
  });

  it('stays closed whatever comes after close', () => {
    const closed = transition<S>({ name: 'waiting' }, { type: 'close' }).next;
    expect(closed).toEqual({ name: 'closed' });
    for (const event of [{ type: 'dial', socket: a, reconnect: true }, { type: 'lost', socket: a }, { type: 'close' }] as const) {
      expect(transition(closed, event)).toEqual({ next: closed, applied: false });
    }
  });
});
