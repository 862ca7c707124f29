import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/telemetry/pool_events.js';
import { retryAfterMs } from '../../src/voicegateway/ingest_client.js';
import { DeliveryQueue, type QueuedRecord } from '../../src/voicegateway/delivery_queue.js';
import { costOf } from '../../src/voicegateway/price_table.js';
import { buildRecord, modelIdOf, recordIdOf } from '../../src/voicegateway/record.js';
import { usageFromMetrics } from '../../src/session/usage.js';

const SETTINGS = { project: undefined, revision: 'r1', prices: undefined, pricingSource: 'openrtc-price-table' };
const SOURCE = { tenant: 'acme', agent: 'support', jobId: 'AJ_1', roomName: 'room-1', traceId: 'a'.repeat(32) };
const noFallback = () => ({ provider: 'unknown', model: 'unknown' });

describe('rows from agents-js metrics', () => {
  it('bills an LLM request in tokens, with cached tokens apart, and its latencies', () => {
    const usage = usageFromMetrics(SOURCE, {
      type: 'llm_metrics', label: 'x', requestId: 'chatcmpl-1', timestamp: 1_764_000_000_250, durationMs: 812, ttftMs: 140,
      cancelled: false, completionTokens: 42, promptTokens: 1_200, promptCachedTokens: 1_000, totalTokens: 1_242, tokensPerSecond: 50,
      metadata: { modelProvider: 'openai', modelName: 'gpt-4o' },
    }, noFallback)!;
    expect(buildRecord(recordIdOf(usage, 0), usage, 0, SETTINGS)).toEqual({
      id: 'AJ_1:llm:chatcmpl-1', timestamp: 1_764_000_000.25, modality: 'llm', model_id: 'openai/gpt-4o', provider: 'openai',
      input_units: 1_200, output_units: 42, cached_input_units: 1_000, ttfb_ms: 140, total_latency_ms: 812, status: 'success',
      metadata: { tenant_id: 'acme', agent: 'support', room: 'room-1', job_id: 'AJ_1', trace_id: 'a'.repeat(32) },
      session_id: 'AJ_1', agent_id: 'support', revision: 'r1',
    });
  });

  it('bills speech-to-text in minutes of audio and text-to-speech in characters', () => {
    const stt = usageFromMetrics(SOURCE, {
      type: 'stt_metrics', label: 'x', requestId: '', timestamp: 1_764_000_000_000, durationMs: 0, audioDurationMs: 90_000, streamed: true,
      metadata: { modelProvider: 'deepgram', modelName: 'nova-3' },
    }, noFallback)!;
    const tts = usageFromMetrics(SOURCE, {
      type: 'tts_metrics', label: 'x', requestId: 'tts-9', segmentId: 'seg-2', timestamp: 1_764_000_001_000, ttfbMs: 95, durationMs: 300,
      audioDurationMs: 2_000, cancelled: true, charactersCount: 57, streamed: true, metadata: { modelProvider: 'cartesia', modelName: 'sonic-2' },
    }, noFallback)!;
    expect(buildRecord(recordIdOf(stt, 3), stt, 0, SETTINGS)).toMatchObject({
      id: 'AJ_1:stt:n3', modality: 'stt', model_id: 'deepgram/nova-3', input_units: 1.5, total_latency_ms: 0,
    });
    const ttsRecord = buildRecord(recordIdOf(tts, 0), tts, 0, SETTINGS);
    expect(ttsRecord).toMatchObject({ id: 'AJ_1:tts:tts-9:seg-2', modality: 'tts', input_units: 57, ttfb_ms: 95, status: 'cancelled' });
    expect(ttsRecord).not.toHaveProperty('output_units');
  });

  it('prices rows from the table, cached tokens at their own price', () => {
    const usage: UsageEvent = { ...SOURCE, kind: 'llm', provider: 'openai', model: 'gpt-4o', inputTokens: 1_000, outputTokens: 100, cachedTokens: 400, requestId: 'r' };
    const prices = { 'openai/gpt-4o': { usdPerInputUnit: 2.5e-6, usdPerOutputUnit: 1e-5, usdPerCachedInputUnit: 1.25e-6 } };
    const record = buildRecord('id', usage, 0, { ...SETTINGS, prices, pricingSource: 'list-2026' });
    expect(record.cost_usd).toBeCloseTo(600 * 2.5e-6 + 400 * 1.25e-6 + 100 * 1e-5, 15);
    expect(record.pricing_source).toBe('list-2026');
    expect(costOf({ usdPerInputUnit: 2e-6 }, { input: 10, cachedInput: 4 })).toBeCloseTo(2e-5, 15);
    expect(buildRecord('id', { ...usage, model: 'gpt-4o-mini' }, 0, { ...SETTINGS, prices })).not.toHaveProperty('cost_usd');
  });

  it('names the model provider/model once, and gives usage outside a session a random id', () => {
    expect(modelIdOf('openai', 'gpt-4o')).toBe('openai/gpt-4o');
    expect(modelIdOf('openai', 'openai/gpt-4o')).toBe('openai/gpt-4o');
    const outside: UsageEvent = { tenant: 'acme', agent: 'support', kind: 'llm', provider: 'p', model: 'm' };
    expect(recordIdOf(outside, 0)).not.toBe(recordIdOf(outside, 0));
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    const now = Date.parse('2026-12-02T08:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('0.5', now)).toBe(500);
    expect(retryAfterMs('Wed, 02 Dec 2026 08:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Wed, 02 Dec 2026 07:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('DeliveryQueue', () => {
  const item = (id: string, tenant = 'acme', key = 'k1'): QueuedRecord => ({
    record: { id, timestamp: 1, modality: 'llm', model_id: 'p/m', provider: 'p' }, key, tenant, sends: 0,
  });

  it('never holds more than its capacity, in flight included, evicting the oldest waiting row', () => {
    const queue = new DeliveryQueue(3);
    for (const id of ['a', 'b', 'c']) expect(queue.push(item(id))).toEqual([]);
    const batch = queue.take(2)!;
    expect(batch.items.map((i) => i.record.id)).toEqual(['a', 'b']);
    expect(queue.push(item('d')).map((i) => i.record.id)).toEqual(['c']);
    expect(queue.size).toBe(3);
    queue.requeue(batch.items);
    expect(queue.take(10)!.items.map((i) => i.record.id)).toEqual(['a', 'b', 'd']);
  });

  it('batches one key and tenant at a time, oldest first', () => {
    const queue = new DeliveryQueue(10);
    queue.push(item('a1', 'acme', 'k1'));
    queue.push(item('g1', 'globex', 'k1'));
    queue.push(item('a2', 'acme', 'k1'));
    queue.push(item('x1', 'acme', 'k2'));
    expect(queue.take(10)!.items.map((i) => i.record.id)).toEqual(['a1', 'a2']);
    expect(queue.take(10)!.items.map((i) => i.record.id)).toEqual(['g1']);
    expect(queue.take(10)!.items.map((i) => i.record.id)).toEqual(['x1']);
  });
});
