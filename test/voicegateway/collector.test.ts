import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCollector, startPgCollector, virtualKey } from './pg_collector.js';

// The local collector answers as voicegateway's ingest API does; the exporter is tested
// against it, so its answers are pinned here.
const ACME_KEY = virtualKey();
const READ_ONLY_KEY = virtualKey();
let c: PgCollector;

beforeAll(async () => {
  c = await startPgCollector({ keys: { [ACME_KEY]: 'acme' }, readOnlyKeys: { [READ_ONLY_KEY]: 'acme' } });
});

afterAll(async () => {
  await c?.close();
});

const row = (id: string, extra: Record<string, unknown> = {}) => ({
  id, timestamp: 1_764_000_000.5, modality: 'llm', model_id: 'openai/gpt-4o', provider: 'openai', input_units: 10, ...extra,
});

async function ingest(body: unknown, key: string | null = ACME_KEY): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${c.collector.url}/v1/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe('the local voicegateway collector', () => {
  it('stores rows under the key\'s tenant, drops unknown keys and counts a resent id as a duplicate', async () => {
    const first = await ingest([row('c-1', { metadata: { tenant_id: 'acme', room: 'r1' }, surprise: 'dropped', tenant_id: 'globex' }), row('c-2')]);
    expect(first).toMatchObject({ status: 200, body: { accepted: 2, duplicates: 0 } });
    const again = await ingest([row('c-2'), row('c-3')]);
    expect(again).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 1 } });
    const stored = (await c.rows()).filter((r) => r.id.startsWith('c-'));
    expect(stored.map((r) => r.id)).toEqual(['c-1', 'c-2', 'c-3']);
    // tenant_id comes from the key only, never from the row.
    expect(stored.every((r) => r.tenant_id === 'acme')).toBe(true);
    expect(JSON.parse(stored[0]!.metadata!)).toEqual({ tenant_id: 'acme', room: 'r1' });
    expect(stored[0]).not.toHaveProperty('surprise');
    expect(stored[0]).toMatchObject({ timestamp: 1_764_000_000.5, modality: 'llm', input_units: 10, output_units: null });
  });

  it('answers 401 without a key or with an unknown or malformed one, and 403 for a key that may not ingest', async () => {
    expect((await ingest([row('a-1')], null)).status).toBe(401);
    expect((await ingest([row('a-2')], virtualKey())).status).toBe(401);
    expect((await ingest([row('a-3')], 'sk-not-a-virtual-key')).status).toBe(401);
    expect((await ingest([row('a-4')], READ_ONLY_KEY)).status).toBe(403);
    expect((await c.rows()).filter((r) => r.id.startsWith('a-'))).toEqual([]);
  });

  it('answers 413 over 1 000 rows and takes exactly 1 000', async () => {
    const rows = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => row(`${prefix}-${i}`));
    expect((await ingest(rows(1_001, 'big'))).status).toBe(413);
    expect(await ingest(rows(1_000, 'full'))).toMatchObject({ status: 200, body: { accepted: 1_000, duplicates: 0 } });
    expect((await c.rows()).filter((r) => r.id.startsWith('big-'))).toEqual([]);
  });

  it('answers 422 for invalid rows, naming each, and stores none of the request', async () => {
    const answer = await ingest([
      row('v-1'),
      row('v-2', { modality: 'video' }),
      { ...row('v-3'), id: undefined },
      row('v-4', { timestamp: '2026-01-01' }),
      row('v-5', { cost_usd: -1 }),
      row('v-6', { metadata: ['x'] }),
    ]);
    expect(answer.status).toBe(422);
    expect((answer.body as { detail: { index: number }[] }).detail.map((d) => d.index)).toEqual([1, 2, 3, 4, 5]);
    expect((await ingest('{"not": "an array"}')).status).toBe(422);
    expect((await c.rows()).filter((r) => r.id.startsWith('v-'))).toEqual([]);
  });

  it('plays queued faults: 429 with Retry-After, 503, and a connection cut after the rows were stored', async () => {
    c.collector.failNext({ kind: 'status', status: 429, retryAfter: '3' }, { kind: 'status', status: 503 }, { kind: 'drop_connection', afterStoring: true });
    const limited = await ingest([row('f-1')]);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await ingest([row('f-1')])).status).toBe(503);
    await expect(ingest([row('f-1')])).rejects.toThrow();
    // The cut request stored its row: the resend is a duplicate.
    expect(await ingest([row('f-1')])).toMatchObject({ status: 200, body: { accepted: 0, duplicates: 1 } });
    expect(c.collector.requests.slice(-4).map((r) => r.status)).toEqual([429, 503, 'dropped', 200]);
  });
});
