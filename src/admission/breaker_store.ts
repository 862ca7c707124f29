import { type BreakerState, type Step, closed } from './breaker_state.js';

/**
 * Where breaker state lives. `update` must apply the step function atomically for the
 * tenant: the in-memory store does so trivially; a shared store would use a transaction.
 */
export interface BreakerStore {
  update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>>;
  read(tenant: string): BreakerState;
  tenants(): string[];
}

export class InMemoryBreakerStore implements BreakerStore {
  private readonly states = new Map<string, BreakerState>();

  update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>> {
    const applied = step(this.read(tenant));
    this.states.set(tenant, applied.next);
    return Promise.resolve(applied);
  }

  read(tenant: string): BreakerState {
    return this.states.get(tenant) ?? closed();
  }

  tenants(): string[] {
    return [...this.states.keys()];
  }
}
