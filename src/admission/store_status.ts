/**
 * What a store tells the pool about itself, beyond the store contract: where its state
 * lives right now, and what it does while its backend is out of reach. The in-memory
 * stores have nothing to report; a shared store (Redis) implements `ManagedStore` so the
 * pool can start and close it, show its mode in the snapshot and turn its operations
 * into metrics, spans and log lines.
 */
export type StoreKind = 'reservations' | 'breaker';

/** What a shared store does while its backend is unreachable. */
export type OutagePolicy = 'fail-closed' | 'fail-open';

/**
 * - `memory`: the state lives in this process (the default stores).
 * - `shared`: the state lives in the shared backend, for the whole fleet.
 * - `fallback`: the backend is unreachable and the policy is `fail-open`: this worker
 *   decides alone, on a local store.
 * - `refusing`: the backend is unreachable and the policy is `fail-closed`: calls are
 *   refused with `store_unavailable`.
 */
export type StoreMode = 'memory' | 'shared' | 'fallback' | 'refusing';

export interface StoreStatus {
  /** `primary`: held by the primary process of `openrtc start --workers N` for its children. */
  backend: 'memory' | 'redis' | 'primary';
  mode: StoreMode;
  /** Null for the in-memory stores, which cannot become unavailable. */
  policy: OutagePolicy | null;
  /** How many times the mode changed since the store started. */
  switches: number;
  /** When the backend became unreachable (epoch ms), while it is. */
  unavailableSince: number | null;
}

/** Where the pool's two stores keep their state, as the runtime snapshot shows it. */
export interface StoresSnapshot {
  reservations: StoreStatus;
  /** Null when the pool runs without a breaker. */
  breaker: StoreStatus | null;
}

export const MEMORY_STORE_STATUS: Readonly<StoreStatus> = Object.freeze({
  backend: 'memory', mode: 'memory', policy: null, switches: 0, unavailableSince: null,
});

/** One call a store made to its backend. */
export interface StoreOperationEvent {
  store: StoreKind;
  /** `reserve`, `release`, `renew`, `sweep`, `counts`, `read`, `update`, `ping`. */
  operation: string;
  durationMs: number;
  /** Undefined when the call succeeded; a short, secret-free description otherwise. */
  error: string | undefined;
}

/** The store changed mode: the backend went away or came back. */
export interface StoreModeEvent {
  store: StoreKind;
  from: StoreMode;
  to: StoreMode;
  policy: OutagePolicy;
  at: number;
  /** Why: the error that made the backend unreachable, or `recovered`. */
  detail: string;
}

export interface StoreObserver {
  operation(event: StoreOperationEvent): void;
  modeChange(event: StoreModeEvent): void;
}

/** A store with a lifecycle and a status: the pool starts, observes and closes it. */
export interface ManagedStore {
  readonly kind: StoreKind;
  /** Connects, and does what the store must do before its first decision. */
  start(): Promise<void>;
  /** Stops background work; closes the backend connection if the store opened it. */
  close(): Promise<void>;
  status(): StoreStatus;
  /** Adds an observer; returns a function that removes it. */
  observe(observer: StoreObserver): () => void;
}

export function isManagedStore(store: object): store is ManagedStore {
  const candidate = store as Partial<ManagedStore>;
  return typeof candidate.start === 'function' && typeof candidate.close === 'function'
    && typeof candidate.status === 'function' && typeof candidate.observe === 'function';
}
