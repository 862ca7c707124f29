import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Values that follow async work, all carried by one AsyncLocalStorage.
 *
 * Each AsyncLocalStorage a process uses costs something on every promise and callback it
 * creates (on Node 20, async_hooks copies every enabled store onto each new resource). A
 * session runs with three such values: its identity (session_context.ts), its provider
 * scope (provider_scope.ts) and, with telemetry, OpenTelemetry's active context. Kept in
 * three stores they cost three times that for every promise agents-js makes; as slots of
 * one store they cost it once. A frame is an immutable array with one entry per slot, so
 * setting one slot for a callback leaves the others as they were.
 */
type Frame = readonly unknown[];

const storage = new AsyncLocalStorage<Frame>();
const EMPTY: Frame = Object.freeze([]);
let slotCount = 0;

export interface AsyncSlot<T> {
  /** The value set for the code running now, or undefined. */
  get(): T | undefined;
  /** Runs `fn(...args)` (and all it starts) with this slot set to `value`; other slots keep theirs. */
  run<R, A extends unknown[]>(value: T, fn: (...args: A) => R, ...args: A): R;
}

/** A new slot. Make slots once per module, not per call: each one widens every frame. */
export function asyncSlot<T>(): AsyncSlot<T> {
  const index = slotCount++;
  return {
    get: () => (storage.getStore() ?? EMPTY)[index] as T | undefined,
    run<R, A extends unknown[]>(value: T, fn: (...args: A) => R, ...args: A): R {
      const frame = (storage.getStore() ?? EMPTY).slice();
      frame[index] = value;
      return storage.run(frame, fn, ...args);
    },
  };
}
