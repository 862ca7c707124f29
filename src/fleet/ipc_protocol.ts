import type { BreakerState } from '../admission/breaker_state.js';
import type { ReserveRequest, ReserveResult } from '../admission/reservation_store.js';

/**
 * The messages between `openrtc start --workers N`'s primary process, which holds the
 * in-memory stores, and its children, which decide through them (ipc_stores.ts serves the
 * child side, store_host.ts the primary's). Node's IPC channel carries them as JSON.
 */
export type StoreRequest =
  | { op: 'reserve'; request: ReserveRequest }
  | { op: 'release'; id: string }
  | { op: 'counts' }
  | { op: 'total' }
  | { op: 'breakerRead'; tenant: string }
  | { op: 'breakerWrite'; tenant: string; version: number; state: BreakerState; pristine: boolean }
  | { op: 'breakerTenants' };

/** What each request resolves to. */
export interface StoreReplies {
  reserve: ReserveResult;
  release: boolean;
  counts: Record<string, number>;
  total: number;
  breakerRead: VersionedBreakerState;
  /** True when the version was still current and the state was written. */
  breakerWrite: boolean;
  breakerTenants: string[];
}

/** A tenant's breaker state with the version a write must name (0: none stored). */
export interface VersionedBreakerState {
  version: number;
  state: BreakerState | null;
}

export interface StoreCall {
  kind: 'openrtc-store';
  seq: number;
  request: StoreRequest;
}

export type StoreAnswer =
  | { kind: 'openrtc-store-reply'; seq: number; ok: true; value: unknown }
  | { kind: 'openrtc-store-reply'; seq: number; ok: false; message: string };

export function isStoreCall(message: unknown): message is StoreCall {
  return typeof message === 'object' && message !== null && (message as StoreCall).kind === 'openrtc-store';
}

export function isStoreAnswer(message: unknown): message is StoreAnswer {
  return typeof message === 'object' && message !== null && (message as StoreAnswer).kind === 'openrtc-store-reply';
}

/** Set by the primary in each child's environment: the child's index, from 0. */
export const CHILD_INDEX_ENV = 'OPENRTC_WORKER_INDEX';
/** Set by the primary to `primary` when the children decide through its stores, `redis` when through Redis. */
export const CHILD_STORES_ENV = 'OPENRTC_CHILD_STORES';
