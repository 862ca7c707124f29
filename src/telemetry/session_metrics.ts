import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { FAMILY_BY_STAGE, LATENCY_BUCKETS, type LatencyHistograms, latencyHistogramsFor } from './latency_histograms.js';
import type { ObservedPool } from './observed_pool.js';
import type { LatencyStage } from './pool_events.js';
import { metricSpec } from './metric_catalog.js';
import type { TenantLabeler } from './tenant_labels.js';

// Provider and model names come from provider objects; bound them so one odd value
// cannot blow up a label.
const MAX_PROVIDER_LABEL_LENGTH = 64;

export function boundLabel(value: string): string {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (trimmed === '') return 'unknown';
  return trimmed.length > MAX_PROVIDER_LABEL_LENGTH ? trimmed.slice(0, MAX_PROVIDER_LABEL_LENGTH) : trimmed;
}

/**
 * Per-tenant latency histograms and the provider error counter, fed by what each
 * session reports about itself (the pool's `latency` and `providerError` events).
 * Returns the functions that stop listening.
 */
export function attachSessionMetrics(pool: ObservedPool, meter: Meter, tenants: TenantLabeler): (() => void)[] {
  const record = latencyRecorder(meter);
  const errorsSpec = metricSpec('openrtc_provider_errors_total');
  const errors: Counter = meter.createCounter(errorsSpec.instrument, { description: errorsSpec.help, unit: errorsSpec.unit });

  // A provider's error series start at 0 the first time a session reports anything of that
  // provider, so that `increase()` sees its first error when it comes later.
  const seeded = new Set<string>();
  const seedErrors = (tenant: string, component: string, provider: string): void => {
    const key = `${tenant}\u0000${component}\u0000${provider}`;
    if (seeded.has(key)) return;
    seeded.add(key);
    errors.add(0, { tenant, component, provider, kind: 'recoverable' });
    errors.add(0, { tenant, component, provider, kind: 'unrecoverable' });
  };

  return [
    pool.on('latency', (e) => {
      if (!Number.isFinite(e.seconds) || e.seconds < 0) return;
      // Own keys only: `in` would also let through a stage named after an Object.prototype member.
      if (!Object.prototype.hasOwnProperty.call(FAMILY_BY_STAGE, e.stage)) return;
      const tenant = tenants.label(e.tenant);
      if (e.provider === undefined) {
        record(e.stage, e.seconds, tenant, e.agent);
        return;
      }
      const provider = boundLabel(e.provider);
      record(e.stage, e.seconds, tenant, e.agent, provider, boundLabel(e.model ?? ''));
      seedErrors(tenant, e.stage.startsWith('llm') ? 'llm' : 'tts', provider);
    }),
    pool.on('usage', (e) => seedErrors(tenants.label(e.tenant), e.kind, boundLabel(e.provider))),
    pool.on('providerError', (e) => {
      const tenant = tenants.label(e.tenant);
      const provider = boundLabel(e.provider);
      seedErrors(tenant, e.component, provider);
      errors.add(1, { tenant, component: e.component, provider, kind: e.recoverable ? 'recoverable' : 'unrecoverable' });
    }),
  ];
}

type RecordLatency = LatencyHistograms['record'];

/**
 * Where latencies go: the `LatencyHistograms` producer of the telemetry that made `meter`
 * (startTelemetry), or, for a meter of the caller's own, SDK histograms with the same
 * names and bounds.
 */
function latencyRecorder(meter: Meter): RecordLatency {
  const producer = latencyHistogramsFor(meter);
  if (producer) return producer.record.bind(producer);
  const histograms = new Map<LatencyStage, Histogram>();
  for (const [stage, name] of Object.entries(FAMILY_BY_STAGE) as [LatencyStage, string][]) {
    const m = metricSpec(name);
    histograms.set(stage, meter.createHistogram(m.instrument, {
      description: m.help, unit: m.unit, advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] },
    }));
  }
  return (stage, seconds, tenant, agent, provider, model) => {
    histograms.get(stage)?.record(seconds, provider === undefined ? { tenant, agent } : { tenant, agent, provider, model: model ?? '' });
  };
}
