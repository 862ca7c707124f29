import { errorMessage } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { VoiceGatewayRecord } from './record.js';

/** What one ingest request came to, in the terms the exporter acts on. */
export type IngestAnswer =
  | { kind: 'accepted'; accepted: number; duplicates: number }
  /** 413: too many rows in one request. */
  | { kind: 'too_large' }
  /** 422: some row is invalid. */
  | { kind: 'invalid'; detail: string }
  /** 401/403: the key is unknown or may not ingest. */
  | { kind: 'unauthorized'; status: number }
  /** 429, 408, 5xx, a timeout or a lost connection: the same rows may go again. */
  | { kind: 'retry'; retryAfterMs: number | undefined; detail: string }
  /** Any other answer: sending the same rows again would not help. */
  | { kind: 'rejected'; status: number; detail: string };

// Answer bodies only ever reach a log line; a collector's error page must not flood it.
const MAX_DETAIL_CHARS = 300;

/** POSTs one batch to voicegateway's ingest endpoint and classifies the answer. Never throws. */
export async function postBatch(
  ingestUrl: string,
  key: string,
  records: readonly VoiceGatewayRecord[],
  timeoutMs: number,
  clock: Clock,
): Promise<IngestAnswer> {
  let response: Response;
  try {
    response = await fetch(ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(records),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error: unknown) {
    return { kind: 'retry', retryAfterMs: undefined, detail: `request failed: ${describeFetchError(error)}` };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error: unknown) {
    // The connection dropped while the answer was read: the rows may or may not be stored.
    return { kind: 'retry', retryAfterMs: undefined, detail: `answer lost: ${describeFetchError(error)}` };
  }
  const status = response.status;
  const detail = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
  if (status >= 200 && status < 300) return accepted(text, records.length);
  if (status === 413) return { kind: 'too_large' };
  if (status === 422) return { kind: 'invalid', detail };
  if (status === 401 || status === 403) return { kind: 'unauthorized', status };
  if (status === 429 || status === 408 || status >= 500) {
    return { kind: 'retry', retryAfterMs: retryAfterMs(response.headers.get('retry-after'), clock.now()), detail: `${status} ${detail}` };
  }
  return { kind: 'rejected', status, detail };
}

function accepted(text: string, sent: number): IngestAnswer {
  try {
    const body = JSON.parse(text) as { accepted?: unknown; duplicates?: unknown };
    const duplicates = typeof body.duplicates === 'number' && body.duplicates >= 0 ? body.duplicates : 0;
    const count = typeof body.accepted === 'number' && body.accepted >= 0 ? body.accepted : sent - duplicates;
    return { kind: 'accepted', accepted: count, duplicates };
  } catch {
    // A 2xx without the usual body still means the rows are stored.
    return { kind: 'accepted', accepted: sent, duplicates: 0 };
  }
}

/** Retry-After in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** fetch hides the reason in `cause` ("fetch failed" alone says nothing). */
function describeFetchError(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? `: ${errorMessage(error.cause)}` : '';
  return `${errorMessage(error)}${cause}`;
}
