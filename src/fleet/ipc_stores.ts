import { type BreakerState, type Step, closed, isPristine } from '../admission/breaker_state.js';
import type { BreakerStore } from '../admission/breaker_store.js';
import type { ReservationStore, ReserveRequest, ReserveResult } from '../admission/reservation_store.js';
import type { ManagedStore, StoreKind, StoreObserver, StoreStatus } from '../admission/store_status.js';
import { OpenRtcError } from '../errors.js';
import { type StoreAnswer, type StoreCall, type StoreReplies, type StoreRequest, isStoreAnswer } from './ipc_protocol.js';

/** The child's end of the IPC channel: `process` in a forked child. */
export interface ParentChannel {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  readonly connected?: boolean;
}

/**
 * Sends store requests to the primary process and matches the answers by sequence number.
 * Once the channel is gone (the primary died) every request rejects with
 * `store_unavailable`, so the pool refuses calls rather than decide without the others.
 */
export class StoreClient {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private goneAt: number | null = null;
  private readonly observers = new Set<StoreObserver>();

  constructor(private readonly channel: ParentChannel = process) {
    channel.on('message', (message) => {
      if (isStoreAnswer(message)) this.settle(message);
    });
    channel.on('disconnect', () => {
      this.goneAt = Date.now();
      for (const { reject } of this.pending.values()) reject(unavailable());
      this.pending.clear();
      for (const observer of this.observers) {
        for (const store of ['reservations', 'breaker'] as const) {
          observer.modeChange({ store, from: 'shared', to: 'refusing', policy: 'fail-closed', at: this.goneAt, detail: 'the primary process is gone' });
        }
      }
    });
  }

  /** Shared while the primary answers; refusing (fail-closed) once it is gone, for good. */
  status(): StoreStatus {
    const gone = this.goneAt !== null;
    return { backend: 'primary', mode: gone ? 'refusing' : 'shared', policy: 'fail-closed', switches: gone ? 1 : 0, unavailableSince: this.goneAt };
  }

  observe(observer: StoreObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  call<K extends StoreRequest['op']>(request: Extract<StoreRequest, { op: K }>): Promise<StoreReplies[K]> {
    if (this.goneAt !== null || this.channel.connected === false || !this.channel.send) return Promise.reject(unavailable());
    const seq = ++this.seq;
    const message: StoreCall = { kind: 'openrtc-store', seq, request };
    return new Promise<StoreReplies[K]>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.channel.send?.(message);
      } catch {
        this.pending.delete(seq);
        reject(unavailable());
      }
    });
  }

  private settle(answer: StoreAnswer): void {
    const waiter = this.pending.get(answer.seq);
    if (!waiter) return;
    this.pending.delete(answer.seq);
    if (answer.ok) waiter.resolve(answer.value);
    else waiter.reject(new OpenRtcError('store_unavailable', `the primary process could not answer: ${answer.message}`));
  }
}

function unavailable(): OpenRtcError {
  return new OpenRtcError('store_unavailable', 'the primary process holding the shared stores is gone');
}

/**
 * What both IPC stores share: nothing to start or close (the channel belongs to the
 * process), and the channel's own status and mode changes.
 */
abstract class IpcStore implements ManagedStore {
  abstract readonly kind: StoreKind;
  constructor(protected readonly client: StoreClient) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  status(): StoreStatus {
    return this.client.status();
  }

  observe(observer: StoreObserver): () => void {
    return this.client.observe(observer);
  }
}

/** Session slots counted by the primary, for all its children at once. */
export class IpcReservationStore extends IpcStore implements ReservationStore {
  readonly kind: StoreKind = 'reservations';

  tryReserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.client.call({ op: 'reserve', request });
  }

  release(id: string): Promise<boolean> {
    return this.client.call({ op: 'release', id });
  }

  countsByTenant(): Promise<Record<string, number>> {
    return this.client.call({ op: 'counts' });
  }

  total(): Promise<number> {
    return this.client.call({ op: 'total' });
  }
}

/**
 * Breaker state held by the primary. An update reads the state and its version, runs the
 * transition here and writes only if the version is unchanged, retrying when another
 * child wrote first (the contract's optimistic form; the Redis store does the same).
 */
export class IpcBreakerStore extends IpcStore implements BreakerStore {
  readonly kind: StoreKind = 'breaker';
  constructor(client: StoreClient, private readonly maxAttempts = 50) {
    super(client);
  }

  async update<T>(tenant: string, step: (state: BreakerState) => Step<T>): Promise<Step<T>> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const read = await this.client.call({ op: 'breakerRead', tenant });
      const state = read.state ?? closed();
      const applied = step(state);
      // A decision that changes nothing (a closed breaker admitting) needs no write.
      if (applied.next === state && applied.transitions.length === 0) return applied;
      const written = await this.client.call({
        op: 'breakerWrite', tenant, version: read.version, state: applied.next, pristine: isPristine(applied.next),
      });
      if (written) return applied;
    }
    throw new OpenRtcError('store_unavailable', `breaker state of tenant "${tenant}" stayed contended for ${this.maxAttempts} attempts`);
  }

  async read(tenant: string): Promise<BreakerState> {
    return (await this.client.call({ op: 'breakerRead', tenant })).state ?? closed();
  }

  tenants(): Promise<string[]> {
    return this.client.call({ op: 'breakerTenants' });
  }
}
