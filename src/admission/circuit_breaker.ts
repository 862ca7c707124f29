import type { Clock } from '../util/clock.js';
import type { BreakerPolicy } from './breaker_policy.js';
import {
  type AdmitVerdict,
  type BreakerState,
  type BreakerStateName,
  type OutcomeReport,
  type Step,
  type TransitionReason,
  admit,
  closed,
  currentState,
  isAtRest,
  isPristine,
  recordOutcome,
  rest,
  returnProbe,
} from './breaker_state.js';
import type { BreakerStore } from './breaker_store.js';
import { liveBuckets, tally } from './outcome_window.js';

export interface BreakerTransitionEvent {
  tenant: string;
  from: BreakerStateName;
  to: BreakerStateName;
  reason: TransitionReason;
  at: number;
}

export interface BreakerStatus {
  state: BreakerStateName;
  /** Outcomes in the current window (closed only). */
  samples: number;
  failures: number;
  /** When an open breaker lets probes through (epoch ms), if open. */
  reopenAt?: number;
  probesAdmitted?: number;
  /** How many times it has opened in a row without closing. */
  trips: number;
}

/**
 * One breaker per tenant over a store; a tenant's state never touches another's.
 * Decisions always go through the store's atomic `update`. The status the snapshot shows
 * is this worker's view: the state the store returned from this worker's latest update
 * of that tenant, so reading it stays synchronous and cheap. With the in-memory store
 * that is the stored state exactly; with a shared store it is as fresh as this worker's
 * last call of that tenant.
 */
export class TenantCircuitBreaker {
  private readonly seen = new Map<string, BreakerState>();

  constructor(
    private readonly policy: BreakerPolicy,
    private readonly store: BreakerStore,
    private readonly clock: Clock,
    private readonly onTransition: (event: BreakerTransitionEvent) => void,
  ) {}

  async admit(tenant: string): Promise<AdmitVerdict> {
    return this.apply(tenant, (state, now) => admit(state, this.policy, now));
  }

  /** Gives back the slot of a probe of `episode` that never ran; a later episode keeps its own. */
  async returnProbe(tenant: string, episode: number): Promise<void> {
    await this.apply(tenant, (state) => returnProbe(state, episode));
  }

  async record(tenant: string, outcome: OutcomeReport): Promise<void> {
    await this.apply(tenant, (state, now) => recordOutcome(state, this.policy, now, outcome));
  }

  /**
   * Forgets a tenant whose breaker has nothing left to remember (closed, every outcome out
   * of the window), here and in the store. Resolves whether it was forgotten.
   */
  async forgetIfAtRest(tenant: string): Promise<boolean> {
    return this.apply(tenant, (state, now) => rest(state, this.policy, now));
  }

  /**
   * Whether this worker's view of the tenant's breaker is at rest, so that asking the
   * store to forget it is worth a round trip. The store decides on its own state.
   */
  looksAtRest(tenant: string): boolean {
    const state = this.seen.get(tenant);
    return state === undefined || isAtRest(state, this.policy, this.clock.now());
  }

  status(tenant: string): BreakerStatus {
    const now = this.clock.now();
    const state = currentState(this.seen.get(tenant) ?? closed(), this.policy, now);
    switch (state.name) {
      case 'closed': {
        const { samples, failures } = tally(liveBuckets(state.buckets, now, this.policy.windowMs));
        return { state: 'closed', samples, failures, trips: 0 };
      }
      case 'open':
        return { state: 'open', samples: 0, failures: 0, reopenAt: state.reopenAt, trips: state.trips };
      case 'half_open':
        return { state: 'half_open', samples: 0, failures: 0, probesAdmitted: state.probesAdmitted, trips: state.trips };
    }
  }

  /** Tenants this worker has a breaker state for. */
  tenants(): string[] {
    return [...this.seen.keys()];
  }

  private async apply<T>(tenant: string, step: (state: BreakerState, now: number) => Step<T>): Promise<T> {
    const now = this.clock.now();
    const applied = await this.store.update(tenant, (state) => step(state, now));
    if (isPristine(applied.next)) this.seen.delete(tenant);
    else this.seen.set(tenant, applied.next);
    for (const transition of applied.transitions) {
      try {
        this.onTransition({ tenant, ...transition, at: now });
      } catch {
        // A telemetry listener must never change a breaker decision.
      }
    }
    return applied.result;
  }
}
