import { type BreakerState, type Step, closed, isPristine } from './breaker_state.js';

/**
 * Where breaker state lives, one state per tenant. Every method is asynchronous so that a
 * store shared by a fleet of workers (Redis) can implement it.
 *
 * The contract a store must keep:
 * - **Atomic update.** `update` reads the tenant's state, applies `step` and writes the
 *   result as one indivisible step with respect to every other `update` of that tenant
 *   (for a shared store: from any worker). A shared store may do this optimistically and
 *   call `step` again with the fresh state when another writer got there first; `step` is
 *   a pure function of the state (the clock reading is taken before), so that is safe.
 *   The resolved `Step` is the one whose `next` was written.
 * - **Unknown tenants are closed.** `read` of a tenant never written resolves `closed()`.
 * - **Pristine is absent.** A `next` for which `isPristine` holds decides exactly like an
 *   unknown tenant; a store may delete the tenant's state instead of writing it (the
 *   in-memory store does, which is what keeps it bounded: see `rest` in breaker_state).
 * - **Reads are for reporting.** `read` and `tenants` may be stale as soon as they resolve;
 *   decisions go through `update`.
 * - **Rejecting is safe.** An `update` that rejects must not have written; the pool then
 *   refuses the call being decided with `store_unavailable`, and reports a failed update
 *   at a session's end as a process warning.
 */
export interface BreakerStore {
  update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>>;
  read(tenant: string): Promise<BreakerState>;
  /** Tenants with a stored state. */
  tenants(): Promise<string[]>;
}

/** The default store, for one worker: each update runs to completion before it returns. */
export class InMemoryBreakerStore implements BreakerStore {
  private readonly states = new Map<string, BreakerState>();

  update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>> {
    const applied = step(this.states.get(tenant) ?? closed());
    if (isPristine(applied.next)) this.states.delete(tenant);
    else this.states.set(tenant, applied.next);
    return Promise.resolve(applied);
  }

  read(tenant: string): Promise<BreakerState> {
    return Promise.resolve(this.states.get(tenant) ?? closed());
  }

  tenants(): Promise<string[]> {
    return Promise.resolve([...this.states.keys()]);
  }
}
