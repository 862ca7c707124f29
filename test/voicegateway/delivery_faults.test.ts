import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Scrape, valueOf } from '../telemetry/prometheus_text.js';
import { type DeliveryHarness, startDeliveryHarness } from './delivery_harness.js';
import { type PgCollector, startPgCollector, virtualKey } from './pg_collector.js';

// Must show: under 413, 429 with Retry-After, 503 and a connection cut during a flush, no
// row is lost and none is doubled in the table (each id is the same on every retry); a
// collector that is down cannot grow the buffer past its bound, and the drops are counted.
const KEYS = { acme: virtualKey(), globex: virtualKey() };
const AGENCY_KEY = virtualKey();
const UNKNOWN_KEY = virtualKey();
let c: PgCollector;
let h: DeliveryHarness | undefined;

beforeAll(async () => {
  c = await startPgCollector({ keys: { [KEYS.acme]: 'acme', [KEYS.globex]: 'globex', [AGENCY_KEY]: 'agency' } });
});

afterEach(async () => {
  await h?.close();
  h = undefined;
});

afterAll(async () => {
  await c?.close();
});

async function harness(options: Parameters<typeof startDeliveryHarness>[1] = { url: '' }) {
  h = await startDeliveryHarness({ ...KEYS, umbrella: UNKNOWN_KEY }, { fallbackKey: AGENCY_KEY, ...options, url: c.collector.url });
  return h;
}

/** Rows stored for these ids, each id with how many times it is in the table. */
async function stored(ids: string[]): Promise<Map<string, number>> {
  const result = await c.db.query<{ id: string; n: string }>(
    `SELECT id, COUNT(*) AS n FROM ${c.table.table} WHERE id = ANY($1) GROUP BY id`, [ids]);
  return new Map(result.rows.map((r) => [r.id, Number(r.n)]));
}

function requestsSince(mark: number) {
  return c.collector.requests.slice(mark);
}

const counter = (s: Scrape, name: string, labels: Record<string, string>) => valueOf(s, name, labels) ?? 0;

describe('voicegateway delivery under faults', () => {
  it('sends batches of at most 1 000 rows under each tenant\'s key, the fallback key for tenants without one', async () => {
    const h = await harness();
    const mark = c.collector.requests.length;
    const acme = await h.usage('acme', 2_500);
    const initech = await h.usage('initech', 3);
    expect(await h.exporter.flush()).toBe(true);
    const requests = requestsSince(mark);
    expect(requests.every((r) => r.status === 200 && r.rows <= 1_000)).toBe(true);
    expect(requests.filter((r) => r.tenant === 'acme').map((r) => r.rows)).toEqual([1_000, 1_000, 500]);
    expect(requests.filter((r) => r.tenant === 'agency').map((r) => r.rows)).toEqual([3]);
    const rows = await c.db.query<{ id: string; tenant_id: string; metadata: string }>(
      `SELECT id, tenant_id, metadata FROM ${c.table.table} WHERE id = ANY($1)`, [initech]);
    expect(rows.rows.map((r) => [r.tenant_id, (JSON.parse(r.metadata) as { tenant_id: string }).tenant_id])).toEqual([['agency', 'initech'], ['agency', 'initech'], ['agency', 'initech']]);
    expect([...(await stored(acme)).values()].filter((n) => n === 1)).toHaveLength(2_500);
    const s = await h.metrics();
    expect(counter(s, 'openrtc_voicegateway_records_sent_total', { tenant: 'acme' })).toBe(2_500);
    expect(counter(s, 'openrtc_voicegateway_records_sent_total', { tenant: 'initech' })).toBe(3);
  });

  it('halves a batch the collector answers 413 and delivers every row once', async () => {
    const h = await harness();
    const mark = c.collector.requests.length;
    c.collector.failNext({ kind: 'status', status: 413 });
    const ids = await h.usage('acme', 1_000);
    expect(await h.exporter.flush()).toBe(true);
    expect(requestsSince(mark).map((r) => [r.status, r.rows])).toEqual([[413, 1_000], [200, 500], [200, 500]]);
    expect([...(await stored(ids)).values()]).toEqual(Array(1_000).fill(1));
  });

  it('waits out Retry-After on a 429 and sends the same ids again', async () => {
    const h = await harness();
    const mark = c.collector.requests.length;
    c.collector.failNext({ kind: 'status', status: 429, retryAfter: '1' });
    const ids = await h.usage('globex', 5);
    expect(await h.exporter.flush()).toBe(true);
    const [limited, retried, ...rest] = requestsSince(mark);
    expect(rest).toEqual([]);
    expect([limited?.status, retried?.status]).toEqual([429, 200]);
    expect(retried!.ids).toEqual(limited!.ids);
    expect(limited!.ids).toEqual(ids);
    // The retry backoff here is 5-20 ms: only Retry-After explains a wait of a second.
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(1_000);
    const s = await h.metrics();
    expect(counter(s, 'openrtc_voicegateway_records_retried_total', { tenant: 'globex' })).toBe(5);
    expect(counter(s, 'openrtc_voicegateway_records_sent_total', { tenant: 'globex' })).toBe(5);
  }, 20_000);

  it('retries 503s and a connection cut before or after the rows were stored, with no row lost or doubled', async () => {
    const h = await harness();
    const mark = c.collector.requests.length;
    c.collector.failNext(
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
      { kind: 'drop_connection', afterStoring: false },
      { kind: 'drop_connection', afterStoring: true },
    );
    const ids = await h.usage('acme', 40);
    expect(await h.exporter.flush()).toBe(true);
    const requests = requestsSince(mark);
    expect(requests.map((r) => r.status)).toEqual([503, 503, 'dropped', 'dropped', 200]);
    for (const request of requests) expect(request.ids).toEqual(ids);
    expect([...(await stored(ids)).values()]).toEqual(Array(40).fill(1));
    const s = await h.metrics();
    // The cut after storing lost the answer: the resend found every row already there.
    expect(counter(s, 'openrtc_voicegateway_records_duplicate_total', { tenant: 'acme' })).toBe(40);
    expect(counter(s, 'openrtc_voicegateway_records_sent_total', { tenant: 'acme' })).toBe(0);
    expect(counter(s, 'openrtc_voicegateway_records_retried_total', { tenant: 'acme' })).toBe(160);
    // One line when delivery starts failing, one when it works again: not one per attempt.
    expect(h.logs.map((l) => l.fields.event)).toEqual(['voicegateway_retrying', 'voicegateway_recovered']);
  });

  it('holds at most maxBufferedRecords while the collector is down, counts and logs the drops, then delivers the rest', async () => {
    const h = await harness({ url: '', maxBufferedRecords: 50, maxBatchRecords: 10 });
    c.collector.setDown({ kind: 'status', status: 503 });
    const ids: string[] = [];
    let most = 0;
    for (let i = 0; i < 20; i++) {
      ids.push(...(await h.usage('globex', 10)));
      most = Math.max(most, h.exporter.bufferedRecords);
      await h.exporter.flush(0);
    }
    expect(most).toBe(50);
    const during = await h.metrics();
    expect(valueOf(during, 'openrtc_voicegateway_buffered_records')).toBe(50);
    expect(counter(during, 'openrtc_voicegateway_records_dropped_total', { tenant: 'globex', reason: 'buffer_full' })).toBe(150);
    expect(h.logs.some((l) => l.level === 'warn' && l.fields.reason === 'buffer_full' && l.fields.tenant === 'globex')).toBe(true);

    c.collector.setDown(undefined);
    expect(await h.exporter.flush()).toBe(true);
    // 50 rows arrived, once each, and the oldest were the ones dropped. Which exactly: a
    // batch already in flight when the buffer filled cannot be recalled, so its (older)
    // rows may survive in place of the oldest waiting ones (the retry timer, 5-20 ms here,
    // can start a send while the loop awaits an admission). At most one batch, 10 rows, is
    // in flight, so the newest 40 always survive.
    const rows = await stored(ids);
    expect([...rows.values()]).toEqual(Array(50).fill(1));
    expect([...rows.keys()].every((id) => ids.includes(id))).toBe(true);
    for (const id of ids.slice(-40)) expect(rows.get(id), id).toBe(1);
    expect(h.exporter.bufferedRecords).toBe(0);
  }, 20_000);

  it('drops the rows of a key the collector refuses, and logs it without the key', async () => {
    const h = await harness();
    const ids = await h.usage('umbrella', 3);
    expect(await h.exporter.flush()).toBe(true);
    expect((await stored(ids)).size).toBe(0);
    const s = await h.metrics();
    expect(counter(s, 'openrtc_voicegateway_records_dropped_total', { tenant: 'umbrella', reason: 'unauthorized' })).toBe(3);
    const line = h.logs.find((l) => l.fields.reason === 'unauthorized');
    expect(line?.message).toContain('umbrella');
    expect(JSON.stringify(h.logs)).not.toContain(UNKNOWN_KEY);
  });

  it('isolates an invalid row by bisecting a 422 and delivers the rest', async () => {
    const h = await harness();
    const admitted = await h.pool.admit({ jobId: 'bad-job', roomName: 'r', jobMetadata: JSON.stringify({ tenant: 'acme' }) });
    expect(admitted.accepted).toBe(true);
    const base = { tenant: 'acme', agent: 'support', kind: 'llm' as const, provider: 'openai', model: 'gpt-4o', jobId: 'bad-job' };
    for (let i = 0; i < 9; i++) h.pool.runtime.recordUsage({ ...base, inputTokens: 5, requestId: `ok-${i}` });
    // A negative count is what a broken provider plugin might report: the collector refuses it.
    h.pool.runtime.recordUsage({ ...base, inputTokens: -3, requestId: 'broken' });
    expect(await h.exporter.flush()).toBe(true);
    const ids = [...Array(9).keys()].map((i) => `bad-job:llm:ok-${i}`);
    expect([...(await stored([...ids, 'bad-job:llm:broken'])).keys()].sort()).toEqual(ids.sort());
    const s = await h.metrics();
    expect(counter(s, 'openrtc_voicegateway_records_dropped_total', { tenant: 'acme', reason: 'invalid' })).toBe(1);
    expect(counter(s, 'openrtc_voicegateway_records_sent_total', { tenant: 'acme' })).toBe(9);
  });
});
