import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import {
  AggregationTemporality, type CollectionResult, DataPointType, type HistogramMetricData, type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { TRACER_NAME } from './attributes.js';
import { metricSpec } from './metric_catalog.js';
import type { LatencyStage } from './pool_events.js';
import { OPENRTC_VERSION } from '../version.js';

// Seconds. A voice turn feels slow past about a second; an LLM reply can stream for tens.
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30]);

export const FAMILY_BY_STAGE: Readonly<Record<LatencyStage, string>> = Object.freeze({
  turn: 'openrtc_turn_latency_seconds',
  end_of_utterance: 'openrtc_eou_delay_seconds',
  llm_ttft: 'openrtc_llm_ttft_seconds',
  llm_duration: 'openrtc_llm_duration_seconds',
  tts_ttfb: 'openrtc_tts_ttfb_seconds',
  tts_duration: 'openrtc_tts_duration_seconds',
});

/** One series: cumulative since its first observation, as the SDK's own histograms are. */
interface Series {
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  /** counts[i]: observations in (LATENCY_BUCKETS[i-1], LATENCY_BUCKETS[i]]; the last one above every bound. */
  readonly counts: number[];
  sum: number;
  min: number;
  max: number;
}

/** tenant -> agent -> provider ('' when the stage has none) -> model -> series. */
type ByModel = Map<string, Series>;
type ByProvider = Map<string, ByModel>;
type ByAgent = Map<string, ByProvider>;
type SeriesTree = Map<string, ByAgent>;

/**
 * The per-tenant latency histograms (one family per stage), aggregated here and handed to
 * the metric reader as a `MetricProducer`, instead of through SDK `Histogram` instruments.
 *
 * Why: a session reports several latencies per turn, and the SDK pays for each
 * `Histogram.record` with a hash of its attributes (their keys sorted, then the pairs
 * JSON-encoded) and a map lookup by that string. These were most of the metric records a
 * call makes; in the telemetry benchmark's worker they allocated about 2 MiB per 100 calls.
 * Here a series is found through nested maps of the label values themselves, so a record
 * allocates nothing once its series exists. What a scrape shows is the same as the SDK's
 * explicit-bucket histogram with these bounds (bucket upper bounds inclusive, NaN ignored,
 * cumulative temporality); test/telemetry/latency_histograms.test.ts compares the two.
 */
export class LatencyHistograms implements MetricProducer {
  private readonly stages = new Map<LatencyStage, SeriesTree>();

  constructor(private readonly now: () => HrTime = hrTime) {}

  /** One observation, in seconds. Labels are taken as given: the caller bounds them. */
  record(stage: LatencyStage, seconds: number, tenant: string, agent: string, provider?: string, model?: string): void {
    if (Number.isNaN(seconds)) return;
    const series = this.seriesFor(stage, tenant, agent, provider, model);
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]!) bucket++;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    if (seconds < series.min) series.min = seconds;
    if (seconds > series.max) series.max = seconds;
  }

  collect(): Promise<CollectionResult> {
    const endTime = this.now();
    const metrics: HistogramMetricData[] = [];
    for (const [stage, tree] of this.stages) {
      const spec = metricSpec(FAMILY_BY_STAGE[stage]);
      const dataPoints: HistogramMetricData['dataPoints'] = [];
      for (const series of allSeries(tree)) {
        dataPoints.push({
          attributes: series.attributes,
          startTime: series.startTime,
          endTime,
          value: {
            buckets: { boundaries: [...LATENCY_BUCKETS], counts: [...series.counts] },
            count: series.counts.reduce((total, n) => total + n, 0),
            sum: series.sum,
            min: series.min,
            max: series.max,
          },
        });
      }
      metrics.push({
        descriptor: {
          name: spec.instrument, description: spec.help, unit: spec.unit, valueType: ValueType.DOUBLE,
        },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints,
      });
    }
    return Promise.resolve({
      resourceMetrics: {
        // The reader keeps its own resource; this one is not used.
        resource: undefined as never,
        scopeMetrics: metrics.length === 0 ? [] : [{ scope: { name: TRACER_NAME, version: OPENRTC_VERSION }, metrics }],
      },
      errors: [],
    });
  }

  private seriesFor(stage: LatencyStage, tenant: string, agent: string, provider: string | undefined, model: string | undefined): Series {
    const byTenant = getOrAdd(this.stages, stage, (): SeriesTree => new Map());
    const byAgent = getOrAdd(byTenant, tenant, (): ByAgent => new Map());
    const byProvider = getOrAdd(byAgent, agent, (): ByProvider => new Map());
    const byModel = getOrAdd(byProvider, provider ?? '', (): ByModel => new Map());
    let series = byModel.get(model ?? '');
    if (series === undefined) {
      const attributes: Attributes = provider === undefined ? { tenant, agent } : { tenant, agent, provider, model: model ?? '' };
      series = {
        attributes, startTime: this.now(), counts: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
        sum: 0, min: Infinity, max: -Infinity,
      };
      byModel.set(model ?? '', series);
    }
    return series;
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function* allSeries(tree: SeriesTree): Generator<Series> {
  for (const byAgent of tree.values()) {
    for (const byProvider of byAgent.values()) {
      for (const byModel of byProvider.values()) yield* byModel.values();
    }
  }
}

// The producer a metric reader of `startTelemetry` was given, by the meter pools attach
// with. A meter from elsewhere (a caller's own MeterProvider) has none: its pools record
// into SDK histograms, which any reader of that provider sees.
const producers = new WeakMap<object, LatencyHistograms>();

export function useLatencyHistograms(meter: object, histograms: LatencyHistograms): void {
  producers.set(meter, histograms);
}

export function latencyHistogramsFor(meter: object): LatencyHistograms | undefined {
  return producers.get(meter);
}
