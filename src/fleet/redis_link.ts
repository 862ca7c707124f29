import { performance } from 'node:perf_hooks';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { ATTR_STORE, ATTR_STORE_OPERATION, SPAN_STORE, TRACER_NAME } from '../telemetry/attributes.js';
import { errorMessage } from '../errors.js';
import type { OutagePolicy, StoreKind, StoreMode, StoreObserver, StoreStatus } from '../admission/store_status.js';
import type { Clock, TimerHandle } from '../util/clock.js';

/** Whether a store can reach Redis, as plain data with one transition function. */
export type LinkState = { name: 'up' } | { name: 'down'; since: number; error: string };

export type LinkEvent = { type: 'failed'; at: number; error: string } | { type: 'recovered' };

export function nextLinkState(state: LinkState, event: LinkEvent): LinkState {
  switch (event.type) {
    case 'failed':
      return state.name === 'down' ? state : { name: 'down', since: event.at, error: event.error };
    case 'recovered':
      return { name: 'up' };
  }
}

export interface RedisLinkOptions {
  store: StoreKind;
  client: Redis;
  policy: OutagePolicy;
  /** A call that has not answered after this long counts as a failure, in ms. */
  operationTimeoutMs: number;
  /** How often an unreachable Redis is tried again, in ms. */
  recoveryIntervalMs: number;
  clock: Clock;
  /**
   * Runs when Redis answers again, before the store switches back to it: the store puts
   * Redis back in step with what it did meanwhile. A throw keeps the store switched away.
   */
  reconcile: () => Promise<void>;
}

export type CallResult<T> = { ok: true; value: T } | { ok: false };

/**
 * A store's connection to Redis: times every call, reports it, and on the first failure
 * switches the store away from Redis (to its local fallback or to refusing, by policy)
 * and keeps trying Redis until it answers and the store has reconciled.
 */
export class RedisLink {
  private state: LinkState = { name: 'up' };
  private switches = 0;
  private readonly observers = new Set<StoreObserver>();
  private recoveryTimer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly options: RedisLinkOptions) {}

  get up(): boolean {
    return this.state.name === 'up';
  }

  get client(): Redis {
    return this.options.client;
  }

  observe(observer: StoreObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  status(): StoreStatus {
    return {
      backend: 'redis',
      mode: this.mode(this.state),
      policy: this.options.policy,
      switches: this.switches,
      unavailableSince: this.state.name === 'down' ? this.state.since : null,
    };
  }

  /** Runs one call against Redis; a failure switches the store away from Redis. */
  async call<T>(operation: string, fn: (client: Redis) => Promise<T>): Promise<CallResult<T>> {
    const started = performance.now();
    // A span only inside a call's trace (admission, session end): background renewals and
    // probes would otherwise each start a trace of their own.
    const span = trace.getActiveSpan() === undefined ? undefined : trace.getTracer(TRACER_NAME).startSpan(SPAN_STORE, {
      attributes: { [ATTR_STORE]: this.options.store, [ATTR_STORE_OPERATION]: operation },
    });
    try {
      const value = await this.withTimeout(fn(this.options.client));
      this.report(operation, started, undefined);
      span?.end();
      return { ok: true, value };
    } catch (error: unknown) {
      const message = describeRedisError(error);
      this.report(operation, started, message);
      span?.setStatus({ code: SpanStatusCode.ERROR, message });
      span?.end();
      this.fail(message);
      return { ok: false };
    }
  }

  /**
   * Waits (up to `waitMs`) for a client that is still connecting, so the first calls of a
   * starting worker do not count as an outage; a client that does not connect in time is
   * left to the outage policy.
   */
  async connected(waitMs = 5_000): Promise<void> {
    const client = this.options.client;
    if (client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = this.options.clock.setTimer(done, waitMs);
      function done(): void {
        timer.cancel();
        client.off('ready', done);
        resolve();
      }
      client.once('ready', done);
    });
  }

  /** Marks Redis unreachable (if it was not already) and starts trying it again. */
  fail(error: string): void {
    if (this.closed) return;
    this.transition({ type: 'failed', at: this.options.clock.now(), error }, error);
    this.scheduleRecovery();
  }

  close(): void {
    this.closed = true;
    this.recoveryTimer?.cancel();
    this.recoveryTimer = undefined;
  }

  private scheduleRecovery(): void {
    if (this.recoveryTimer || this.closed) return;
    this.recoveryTimer = this.options.clock.setTimer(() => {
      this.recoveryTimer = undefined;
      void this.tryRecover();
    }, this.options.recoveryIntervalMs);
  }

  private async tryRecover(): Promise<void> {
    if (this.closed || this.state.name === 'up') return;
    const started = performance.now();
    try {
      await this.withTimeout(this.options.client.ping());
      this.report('ping', started, undefined);
      await this.options.reconcile();
      if (!this.closed) this.transition({ type: 'recovered' }, 'recovered');
    } catch (error: unknown) {
      this.report('ping', started, describeRedisError(error));
      this.scheduleRecovery();
    }
  }

  private transition(event: LinkEvent, detail: string): void {
    const before = this.state;
    this.state = nextLinkState(before, event);
    if (before.name === this.state.name) return;
    this.switches++;
    const change = {
      store: this.options.store, from: this.mode(before), to: this.mode(this.state), policy: this.options.policy,
      at: this.options.clock.now(), detail,
    };
    for (const observer of this.observers) {
      try {
        observer.modeChange(change);
      } catch {
        // An observer (telemetry) must never change what the store does.
      }
    }
  }

  private mode(state: LinkState): StoreMode {
    if (state.name === 'up') return 'shared';
    return this.options.policy === 'fail-open' ? 'fallback' : 'refusing';
  }

  private report(operation: string, started: number, error: string | undefined): void {
    const event = { store: this.options.store, operation, durationMs: performance.now() - started, error };
    for (const observer of this.observers) {
      try {
        observer.operation(event);
      } catch {
        // As above.
      }
    }
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const { operationTimeoutMs } = this.options;
    return new Promise<T>((resolve, reject) => {
      const timer = this.options.clock.setTimer(
        () => reject(new Error(`no answer from Redis within ${operationTimeoutMs} ms`)),
        operationTimeoutMs,
      );
      work.then(
        (value) => { timer.cancel(); resolve(value); },
        (error: unknown) => { timer.cancel(); reject(error instanceof Error ? error : new Error(errorMessage(error))); },
      );
    });
  }
}

/** A short description of a Redis failure; connection strings (which may hold a password) are cut out. */
export function describeRedisError(error: unknown): string {
  return errorMessage(error).replace(/rediss?:\/\/\S*/g, 'redis://…').slice(0, 200);
}
