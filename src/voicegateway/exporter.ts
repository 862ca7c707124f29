import type { Meter } from '@opentelemetry/api';
import { OpenRtcError } from '../errors.js';
import type { UsageEvent } from '../telemetry/pool_events.js';
import { type Clock, type TimerHandle, systemClock } from '../util/clock.js';
import { Backoff } from '../util/backoff.js';
import { type Batch, DeliveryQueue, type QueuedRecord } from './delivery_queue.js';
import { type DeliveryMetrics, type DropReason, createDeliveryMetrics } from './delivery_metrics.js';
import { type IngestAnswer, postBatch } from './ingest_client.js';
import { type ResolvedVoiceGatewayOptions, type VoiceGatewayOptions, resolveVoiceGatewayOptions } from './options.js';
import { buildRecord, recordIdOf } from './record.js';

/** Where the exporter reports drops and refusals; the worker's pino logger fits. */
export interface VoiceGatewayLogSink {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the exporter needs from a pool: its usage, its session ends and each call's key. */
export interface UsageSource {
  on(name: 'usage', listener: (event: UsageEvent) => void): () => void;
  on(name: 'sessionEnded', listener: (event: { jobId: string }) => void): () => void;
  ticket(jobId: string): { tenantProviders: { voiceGatewayKey?: string } | null } | undefined;
}

export interface VoiceGatewayAttachOptions {
  /** Delivery metrics go here (the worker's meter). Default: none. */
  meter?: Meter;
  logger?: VoiceGatewayLogSink;
  /** `revision` of every row: the pool's deployment version. */
  revision?: string;
}

// Buffer-full drops can come once per usage event; one log line per window is enough.
const DROP_LOG_WINDOW_MS = 10_000;
const SILENT_LOG: VoiceGatewayLogSink = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Sends one voicegateway row per provider request of every session: the tenant's own
 * virtual key (from its tenant config) or the fallback key, `metadata` naming the tenant,
 * room, job, trace and agent. Rows wait in a bounded buffer and go out in batches of at
 * most 1 000 under one key; a 413 halves the batch, a 422 bisects it down to the invalid
 * row, 429 and 5xx and lost connections are retried with backoff and jitter (Retry-After
 * wins), and the same id goes out on every retry so the collector counts a resend as a
 * duplicate. Nothing here throws into the pool: trouble is counted and logged.
 */
export class VoiceGatewayExporter {
  private readonly settings: ResolvedVoiceGatewayOptions;
  private readonly clock: Clock;
  private readonly queue: DeliveryQueue;
  private readonly backoff: Backoff;
  private metrics: DeliveryMetrics = createDeliveryMetrics(undefined, () => 0);
  private logger: VoiceGatewayLogSink = SILENT_LOG;
  private revision: string | undefined;
  private keyFor: (usage: UsageEvent) => string | undefined;
  private unsubscribe: (() => void)[] = [];
  /** Rows per request; a 413 lowers it for good. */
  private batchLimit: number;
  /** After a 422, the next request takes this many rows only, to find the invalid one. */
  private bisectNext: number | undefined;
  private retryAt = 0;
  private timer: { handle: TimerHandle; at: number } | undefined;
  private pumping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private stopped = false;
  /** Per session: rows made without a request id, and ids used (a repeated request id gets a suffix). */
  private readonly sessions = new Map<string, { sequence: number; ids: Set<string> }>();
  private readonly pendingDropLogs = new Map<string, number>();
  private lastDropLogAt = Number.NEGATIVE_INFINITY;
  /** Set from the first retryable failure until the next accepted batch: one log line each way. */
  private failingSince: number | undefined;

  constructor(options: VoiceGatewayOptions) {
    this.settings = resolveVoiceGatewayOptions(options);
    this.clock = options.clock ?? systemClock;
    this.queue = new DeliveryQueue(this.settings.maxBufferedRecords);
    this.backoff = new Backoff(this.settings.retry, options.random ?? Math.random);
    this.batchLimit = this.settings.maxBatchRecords;
    const fallback = this.settings.fallbackKey;
    this.keyFor = () => fallback;
  }

  /** Rows held for delivery, in flight included. */
  get bufferedRecords(): number {
    return this.queue.size;
  }

  /**
   * Starts exporting a pool's usage. The worker calls this when it starts; `close()`
   * flushes and stops. One exporter serves one pool.
   */
  attach(pool: UsageSource, options: VoiceGatewayAttachOptions = {}): void {
    if (this.unsubscribe.length > 0 || this.stopped) {
      throw new OpenRtcError('invalid_option', 'this voicegateway exporter is already attached (or closed); one exporter serves one pool');
    }
    this.metrics = createDeliveryMetrics(options.meter, () => this.queue.size);
    this.logger = options.logger ?? SILENT_LOG;
    this.revision = options.revision;
    const fallback = this.settings.fallbackKey;
    this.keyFor = (usage) => {
      const own = usage.jobId === undefined ? undefined : pool.ticket(usage.jobId)?.tenantProviders?.voiceGatewayKey;
      return own ?? fallback;
    };
    this.unsubscribe = [
      pool.on('usage', (usage) => this.record(usage)),
      pool.on('sessionEnded', (event) => this.sessions.delete(event.jobId)),
    ];
  }

  /** Turns one usage event into a row and queues it. */
  record(usage: UsageEvent): void {
    const key = this.keyFor(usage);
    if (this.stopped) return this.drop(usage.tenant, 'shutdown', 1, 'the exporter is closed');
    if (key === undefined) return this.drop(usage.tenant, 'no_key', 1, 'the tenant has no voiceGatewayKey and no fallback key is set');
    const record = buildRecord(this.idFor(usage), usage, this.clock.now(), {
      project: this.settings.project, revision: this.revision, prices: this.settings.prices, pricingSource: this.settings.pricingSource,
    });
    const evicted = this.queue.push({ record, key, tenant: usage.tenant, sends: 0 });
    for (const item of evicted) this.drop(item.tenant, 'buffer_full', 1, 'the delivery buffer is full');
    if (this.queue.waitingCount >= this.batchLimit) void this.pump();
    else this.wakeIn(this.settings.flushIntervalMs);
  }

  /**
   * Sends what is buffered, waiting out retry delays, until the buffer is empty (true) or
   * the next attempt would fall after `timeoutMs` (false; the rows stay buffered).
   */
  async flush(timeoutMs: number = this.settings.shutdownTimeoutMs): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      await this.pump();
      if (this.queue.size === 0) return true;
      const now = this.clock.now();
      if (this.stopped || this.retryAt > deadline || now >= deadline) return false;
      if (this.retryAt > now) await new Promise<void>((resolve) => this.clock.setTimer(resolve, this.retryAt - now));
    }
  }

  /** Flushes within the shutdown timeout, drops (and counts) what is left, and stops. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.timer?.handle.cancel();
      this.timer = undefined;
      const emptied = await this.flush();
      this.stopped = true;
      await this.pumping;
      for (const off of this.unsubscribe.splice(0)) off();
      if (!emptied) {
        for (const item of this.queue.clear()) this.drop(item.tenant, 'shutdown', 1, 'delivery did not finish before shutdown');
      }
      this.logPendingDrops(true);
    })();
    return this.closing;
  }

  private idFor(usage: UsageEvent): string {
    if (usage.jobId === undefined) return recordIdOf(usage, 0);
    let session = this.sessions.get(usage.jobId);
    if (!session) {
      session = { sequence: 0, ids: new Set() };
      this.sessions.set(usage.jobId, session);
    }
    const base = recordIdOf(usage, usage.requestId ? 0 : ++session.sequence);
    // A provider that reuses a request id must not have its second request counted as a resend.
    let id = base;
    for (let n = 2; session.ids.has(id); n++) id = `${base}#${n}`;
    session.ids.add(id);
    return id;
  }

  private wakeIn(delayMs: number): void {
    const at = this.clock.now() + delayMs;
    if (this.stopped || (this.timer && this.timer.at <= at)) return;
    this.timer?.handle.cancel();
    const handle = this.clock.setTimer(() => {
      this.timer = undefined;
      void this.pump();
    }, delayMs);
    this.timer = { handle, at };
  }

  /** One delivery loop at a time; it stops when the buffer is empty or a retry must wait. */
  private pump(): Promise<void> {
    this.pumping ??= this.deliverAll().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async deliverAll(): Promise<void> {
    while (!this.stopped) {
      const now = this.clock.now();
      if (this.retryAt > now) {
        this.wakeIn(this.retryAt - now);
        return;
      }
      const batch = this.queue.take(this.bisectNext ?? this.batchLimit);
      this.bisectNext = undefined;
      if (!batch) return;
      await this.deliver(batch);
      if (this.stopped) return;
    }
  }

  private async deliver(batch: Batch): Promise<void> {
    const answer = await postBatch(this.settings.ingestUrl, batch.key, batch.items.map((i) => i.record), this.settings.requestTimeoutMs, this.clock);
    for (const item of batch.items) item.sends++;
    this.settle(batch, answer);
  }

  private settle(batch: Batch, answer: IngestAnswer): void {
    const rows = batch.items.length;
    switch (answer.kind) {
      case 'accepted':
        this.queue.settle(batch.items);
        this.backoff.reset();
        this.metrics.sent(batch.tenant, answer.accepted);
        this.metrics.duplicates(batch.tenant, answer.duplicates);
        this.logPendingDrops(false);
        if (this.failingSince !== undefined) {
          this.logger.info({ event: 'voicegateway_recovered', failedForMs: this.clock.now() - this.failingSince }, 'voicegateway: delivery works again');
          this.failingSince = undefined;
        }
        return;
      case 'too_large':
        if (rows > 1) {
          this.batchLimit = Math.max(1, Math.floor(rows / 2));
          this.queue.requeue(batch.items);
        } else this.dropBatch(batch.items, 'rejected', 'voicegateway refused a single row as too large (413)');
        return;
      case 'invalid':
        if (rows > 1) {
          this.bisectNext = Math.ceil(rows / 2);
          this.queue.requeue(batch.items);
        } else this.dropBatch(batch.items, 'invalid', `voicegateway refused the row as invalid (422): ${answer.detail}`);
        return;
      case 'unauthorized':
        // The key itself is never named: only whose it was.
        this.dropBatch(batch.items, 'unauthorized', `voicegateway refused the key of tenant "${batch.tenant}" (${answer.status})`);
        return;
      case 'rejected':
        this.dropBatch(batch.items, 'rejected', `voicegateway answered ${answer.status}: ${answer.detail}`);
        return;
      case 'retry': {
        this.queue.requeue(batch.items);
        this.metrics.retried(batch.tenant, rows);
        const delay = answer.retryAfterMs === undefined
          ? this.backoff.next()
          : Math.min(answer.retryAfterMs, this.settings.maxRetryAfterMs);
        this.retryAt = this.clock.now() + delay;
        if (this.failingSince === undefined) {
          this.failingSince = this.clock.now();
          this.logger.warn(
            { event: 'voicegateway_retrying', tenant: batch.tenant, records: rows, retryInMs: delay },
            `voicegateway: delivery failed (${answer.detail}); retrying, rows stay buffered`,
          );
        }
        return;
      }
    }
  }

  private dropBatch(items: readonly QueuedRecord[], reason: DropReason, detail: string): void {
    this.queue.settle(items);
    const first = items[0];
    if (first) this.drop(first.tenant, reason, items.length, detail);
  }

  private drop(tenant: string, reason: DropReason, rows: number, detail: string): void {
    this.metrics.dropped(tenant, reason, rows);
    if (reason !== 'buffer_full') {
      this.logger.error({ event: 'voicegateway_dropped', tenant, reason, records: rows }, `voicegateway: ${rows} cost row(s) of tenant "${tenant}" dropped: ${detail}`);
      return;
    }
    this.pendingDropLogs.set(tenant, (this.pendingDropLogs.get(tenant) ?? 0) + rows);
    this.logPendingDrops(false);
  }

  /** Buffer-full drops are logged at most once per window, with the count per tenant. */
  private logPendingDrops(force: boolean): void {
    if (this.pendingDropLogs.size === 0) return;
    const now = this.clock.now();
    if (!force && now - this.lastDropLogAt < DROP_LOG_WINDOW_MS) return;
    this.lastDropLogAt = now;
    for (const [tenant, rows] of this.pendingDropLogs) {
      this.logger.warn(
        { event: 'voicegateway_dropped', tenant, reason: 'buffer_full', records: rows },
        `voicegateway: ${rows} cost row(s) of tenant "${tenant}" dropped: the delivery buffer (${this.queue.capacity} rows) is full`,
      );
    }
    this.pendingDropLogs.clear();
  }
}

