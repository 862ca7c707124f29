// Heap figures after a full garbage collection, for tests that bound memory per call or
// per tenant. vitest's workers start without --expose-gc; V8 lets a running process turn
// the flag on, and a fresh context then carries the `gc` function.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFunction: (() => void) | undefined;

function gc(): () => void {
  if (gcFunction) return gcFunction;
  const global = globalThis as { gc?: () => void };
  if (typeof global.gc === 'function') return (gcFunction = global.gc);
  setFlagsFromString('--expose-gc');
  gcFunction = runInNewContext('gc') as () => void;
  return gcFunction;
}

/** Heap in use after collecting garbage (a few rounds, so weak references and finalizers settle). */
export async function heapAfterGc(): Promise<number> {
  const collect = gc();
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
