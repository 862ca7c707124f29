import type { VoiceGatewayRecord } from './record.js';

/** A row waiting for delivery, with the key it goes out under and the tenant it counts for. */
export interface QueuedRecord {
  readonly record: VoiceGatewayRecord;
  readonly key: string;
  readonly tenant: string;
  /** Times it was sent without an answer that settled it. */
  sends: number;
}

/** Rows that go out in one request: one key (one Authorization header) and one tenant. */
export interface Batch {
  readonly key: string;
  readonly tenant: string;
  readonly items: QueuedRecord[];
}

/**
 * The exporter's bounded buffer. Rows wait here in arrival order; a batch takes the oldest
 * row and the rows after it with the same key and tenant. The bound covers the batch in
 * flight too, so what the exporter holds never exceeds `capacity`: when full, the oldest
 * waiting row is evicted (and the caller counts and logs it).
 */
export class DeliveryQueue {
  private waiting: QueuedRecord[] = [];
  private inFlight = 0;

  constructor(readonly capacity: number) {}

  /** Rows held: waiting plus in flight. */
  get size(): number {
    return this.waiting.length + this.inFlight;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Adds a row; returns the rows evicted to make room for it (oldest first). */
  push(item: QueuedRecord): QueuedRecord[] {
    const evicted: QueuedRecord[] = [];
    while (this.size >= this.capacity && this.waiting.length > 0) evicted.push(this.waiting.shift()!);
    if (this.size >= this.capacity) {
      // Everything held is in flight: the new row is the one that cannot be kept.
      evicted.push(item);
      return evicted;
    }
    this.waiting.push(item);
    return evicted;
  }

  /** Takes the next batch of at most `maxRows` rows; it counts as in flight until settled. */
  take(maxRows: number): Batch | undefined {
    const first = this.waiting[0];
    if (!first) return undefined;
    const items: QueuedRecord[] = [];
    const rest: QueuedRecord[] = [];
    for (const item of this.waiting) {
      if (items.length < maxRows && item.key === first.key && item.tenant === first.tenant) items.push(item);
      else rest.push(item);
    }
    this.waiting = rest;
    this.inFlight += items.length;
    return { key: first.key, tenant: first.tenant, items };
  }

  /** The batch's answer settled these rows (delivered or dropped). */
  settle(items: readonly QueuedRecord[]): void {
    this.inFlight -= items.length;
  }

  /** Puts rows of a batch back at the front, in order, to be sent again. */
  requeue(items: readonly QueuedRecord[]): void {
    this.inFlight -= items.length;
    this.waiting.unshift(...items);
  }

  /** Removes and returns every waiting row. */
  clear(): QueuedRecord[] {
    const all = this.waiting;
    this.waiting = [];
    return all;
  }
}
