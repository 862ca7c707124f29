import { OpenRtcError, invalidOption } from '../errors.js';
import { positiveInteger, positiveMillis } from '../util/validate.js';
import type { Clock } from '../util/clock.js';
import { type BackoffOptions, validateBackoff } from '../util/backoff.js';
import { type PriceTable, validatePriceTable } from './price_table.js';
import { VIRTUAL_KEY_RULE, isVirtualKey } from '../tenancy/virtual_key.js';

/** voicegateway answers with 413 above this many rows per request. */
export const MAX_ROWS_PER_REQUEST = 1_000;

export interface VoiceGatewayOptions {
  /** Base URL of the voicegateway collector; rows go to `${url}/v1/ingest`. */
  url: string;
  /**
   * Sent for tenants whose config has no `voiceGatewayKey`. voicegateway files those rows
   * under the key's own tenant; `metadata.tenant_id` still names the call's tenant.
   * Default: env OPENRTC_VOICEGATEWAY_KEY. Without it such rows are dropped (counted).
   */
  fallbackKey?: string;
  /** voicegateway `project` of every row. */
  project?: string;
  /** Prices that give each row a `cost_usd`; models not listed are sent without a cost. */
  prices?: PriceTable;
  /** `pricing_source` of rows priced from `prices`. Default 'openrtc-price-table'. */
  pricingSource?: string;
  /** Rows per request, at most 1 000. Default 1 000. */
  maxBatchRecords?: number;
  /** Rows held for delivery; beyond it the oldest are dropped and counted. Default 10 000. */
  maxBufferedRecords?: number;
  /** How often waiting rows are sent, in ms (sooner when a full batch is waiting). Default 5 000. */
  flushIntervalMs?: number;
  /** One request may take this long before it counts as failed, in ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Backoff between retries after 5xx, 429 without Retry-After and network errors. */
  retry?: Partial<BackoffOptions>;
  /** The longest Retry-After honoured, in ms; longer answers wait this long. Default 300 000. */
  maxRetryAfterMs?: number;
  /** How long drain and shutdown wait for the last rows, in ms. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** Injected time source (retry waits, the flush interval). */
  clock?: Clock;
  /** Jitter source, 0..1. Default Math.random. */
  random?: () => number;
}

export interface ResolvedVoiceGatewayOptions {
  ingestUrl: string;
  fallbackKey: string | undefined;
  project: string | undefined;
  prices: PriceTable | undefined;
  pricingSource: string;
  maxBatchRecords: number;
  maxBufferedRecords: number;
  flushIntervalMs: number;
  requestTimeoutMs: number;
  retry: BackoffOptions;
  maxRetryAfterMs: number;
  shutdownTimeoutMs: number;
}

const DEFAULT_RETRY: BackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0.5 };

const KNOWN = new Set([
  'url', 'fallbackKey', 'project', 'prices', 'pricingSource', 'maxBatchRecords', 'maxBufferedRecords',
  'flushIntervalMs', 'requestTimeoutMs', 'retry', 'maxRetryAfterMs', 'shutdownTimeoutMs', 'clock', 'random',
]);

/** Validates exporter options up front, naming the option and the rule; keys are never echoed. */
export function resolveVoiceGatewayOptions(
  options: VoiceGatewayOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedVoiceGatewayOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('voiceGateway', 'must be an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new OpenRtcError('invalid_option', `\`voiceGateway.${key}\` is not a voicegateway exporter option`);
  }
  if (typeof options.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(options.url)) {
    // A URL may carry credentials: name the rule, not the value.
    throw new OpenRtcError('invalid_option', '`voiceGateway.url` must be an http:// or https:// URL');
  }
  const fallbackKey = options.fallbackKey ?? (env.OPENRTC_VOICEGATEWAY_KEY || undefined);
  if (fallbackKey !== undefined && !isVirtualKey(fallbackKey)) {
    const source = options.fallbackKey === undefined ? 'OPENRTC_VOICEGATEWAY_KEY' : 'voiceGateway.fallbackKey';
    throw new OpenRtcError('invalid_option', `\`${source}\` ${VIRTUAL_KEY_RULE}`);
  }
  for (const field of ['project', 'pricingSource'] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw invalidOption(`voiceGateway.${field}`, 'must be a non-empty string', value);
    }
  }
  const maxBatchRecords = positiveInteger('voiceGateway.maxBatchRecords', options.maxBatchRecords) ?? MAX_ROWS_PER_REQUEST;
  if (maxBatchRecords > MAX_ROWS_PER_REQUEST) {
    throw invalidOption('voiceGateway.maxBatchRecords', `must be at most ${MAX_ROWS_PER_REQUEST} (voicegateway refuses larger requests)`, maxBatchRecords);
  }
  const maxBufferedRecords = positiveInteger('voiceGateway.maxBufferedRecords', options.maxBufferedRecords) ?? 10_000;
  if (maxBufferedRecords < maxBatchRecords) {
    throw invalidOption('voiceGateway.maxBufferedRecords', 'must be at least `maxBatchRecords`', maxBufferedRecords);
  }
  if (options.clock !== undefined && (typeof options.clock?.now !== 'function' || typeof options.clock?.setTimer !== 'function')) {
    throw invalidOption('voiceGateway.clock', 'must be a Clock with now() and setTimer()', options.clock);
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw invalidOption('voiceGateway.random', 'must be a function returning a number from 0 to 1', options.random);
  }
  return {
    ingestUrl: `${options.url.replace(/\/+$/, '')}/v1/ingest`,
    fallbackKey,
    project: options.project,
    prices: validatePriceTable('voiceGateway.prices', options.prices),
    pricingSource: options.pricingSource ?? 'openrtc-price-table',
    maxBatchRecords,
    maxBufferedRecords,
    flushIntervalMs: positiveMillis('voiceGateway.flushIntervalMs', options.flushIntervalMs, 5_000),
    requestTimeoutMs: positiveMillis('voiceGateway.requestTimeoutMs', options.requestTimeoutMs, 10_000),
    retry: validateBackoff({ ...DEFAULT_RETRY, ...options.retry }, 'voiceGateway.retry'),
    maxRetryAfterMs: positiveMillis('voiceGateway.maxRetryAfterMs', options.maxRetryAfterMs, 300_000),
    shutdownTimeoutMs: positiveMillis('voiceGateway.shutdownTimeoutMs', options.shutdownTimeoutMs, 10_000),
  };
}

/**
 * The exporter options a pool gets when it was given none: from OPENRTC_VOICEGATEWAY_URL
 * (and OPENRTC_VOICEGATEWAY_KEY as the fallback key), or none when the variable is unset.
 */
export function voiceGatewayOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): VoiceGatewayOptions | undefined {
  const url = env.OPENRTC_VOICEGATEWAY_URL?.trim();
  if (!url) return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new OpenRtcError('invalid_option', '`OPENRTC_VOICEGATEWAY_URL` must be an http:// or https:// URL');
  return { url };
}
