import { type HrTime, ValueType } from '@opentelemetry/api';
import { type Histogram as HistogramValue, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, LatencyHistograms } from '../../src/telemetry/latency_histograms.js';
import { attachPoolMetrics } from '../../src/telemetry/pool_metrics.js';
import { makePool } from '../helpers/calls.js';

/** A reader the test collects from by hand. */
class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  async histograms(): Promise<Map<string, { attributes: Record<string, unknown>; value: HistogramValue }[]>> {
    const { resourceMetrics } = await this.collect();
    return histogramsOf(resourceMetrics);
  }
}

function histogramsOf(resourceMetrics: ResourceMetrics) {
  const out = new Map<string, { attributes: Record<string, unknown>; value: HistogramValue }[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const points = metric.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value as HistogramValue }));
      out.set(metric.descriptor.name, [...(out.get(metric.descriptor.name) ?? []), ...points]);
    }
  }
  return out;
}

const byLabels = (a: { attributes: Record<string, unknown> }, b: { attributes: Record<string, unknown> }) =>
  JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes));

// Every bound itself (upper bounds are inclusive), values between and around them, zero,
// values above the last bound, and NaN (not counted).
const VALUES = [0, ...LATENCY_BUCKETS, ...LATENCY_BUCKETS.map((b) => b * 1.01), 0.0001, 31, 1000, Number.NaN];

describe('LatencyHistograms', () => {
  it('collects what the SDK histogram with the same bounds collects, series by series', async () => {
    const sdkReader = new CollectingReader();
    const sdk = new MeterProvider({ readers: [sdkReader] }).getMeter('openrtc')
      .createHistogram('openrtc_llm_ttft_seconds', { unit: 's', advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] } });
    const ours = new LatencyHistograms();
    const ourReader = new CollectingReader({ metricProducers: [ours] });
    new MeterProvider({ readers: [ourReader] });

    VALUES.forEach((seconds, i) => {
      // Two tenants, so series must stay apart.
      const tenant = i % 3 === 0 ? 'globex' : 'acme';
      sdk.record(seconds, { tenant, agent: 'support', provider: 'openai', model: 'gpt-4o' });
      ours.record('llm_ttft', seconds, tenant, 'support', 'openai', 'gpt-4o');
    });

    const expected = (await sdkReader.histograms()).get('openrtc_llm_ttft_seconds')!.sort(byLabels);
    const actual = (await ourReader.histograms()).get('openrtc_llm_ttft_seconds')!.sort(byLabels);
    expect(expected).toHaveLength(2);
    expect(actual).toEqual(expected);
    // Spot check, independent of the SDK: acme's 0.3 fell in the (0.2, 0.3] bucket.
    const acme = actual.find((p) => p.attributes.tenant === 'acme')!;
    expect(acme.value.count).toBe(VALUES.filter((v, i) => !Number.isNaN(v) && i % 3 !== 0).length);
  });

  it('names each stage family as the catalog does, with its unit and help, and only once it has a series', async () => {
    let now: HrTime = [100, 0];
    const ours = new LatencyHistograms(() => now);
    const empty = await ours.collect();
    expect(empty.resourceMetrics.scopeMetrics).toEqual([]);

    ours.record('turn', 1.1, 'acme', 'support');
    now = [160, 0];
    const { resourceMetrics } = await ours.collect();
    const [metric] = resourceMetrics.scopeMetrics[0]!.metrics;
    expect(metric!.descriptor).toMatchObject({ name: 'openrtc_turn_latency_seconds', unit: 's', valueType: ValueType.DOUBLE });
    expect(metric!.descriptor.description).toMatch(/turn latency/i);
    expect(metric!.dataPoints).toEqual([expect.objectContaining({
      attributes: { tenant: 'acme', agent: 'support' }, startTime: [100, 0], endTime: [160, 0],
    })]);
  });

  it('leaves a pool attached with a meter of the caller\'s own on SDK histograms, which that meter\'s readers see', async () => {
    const reader = new CollectingReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('mine');
    const { pool } = makePool({ tenantConfig: { acme: {} } });
    const handle = attachPoolMetrics(pool, { meter, onDiagnostic: () => undefined });
    try {
      pool.runtime.recordLatency({ tenant: 'acme', agent: 'support', provider: 'openai', model: 'gpt-4o', stage: 'llm_ttft', seconds: 0.4 });
      const ttft = (await reader.histograms()).get('openrtc_llm_ttft_seconds');
      expect(ttft).toHaveLength(1);
      expect(ttft![0]!.attributes).toEqual({ tenant: 'acme', agent: 'support', provider: 'openai', model: 'gpt-4o' });
      expect(ttft![0]!.value).toMatchObject({ count: 1, sum: 0.4 });
    } finally {
      handle.detach();
    }
  });
});
