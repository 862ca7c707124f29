import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { ObservedPool } from './observed_pool.js';
import type { LatencyStage } from './pool_events.js';
import { metricSpec } from './metric_catalog.js';
import type { TenantLabeler } from './tenant_labels.js';

// Seconds. A voice turn feels slow past about a second; an LLM reply can stream for tens.
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30];

const FAMILY_BY_STAGE: Readonly<Record<LatencyStage, string>> = {
  turn: 'openrtc_turn_latency_seconds',
  end_of_utterance: 'openrtc_eou_delay_seconds',
  llm_ttft: 'openrtc_llm_ttft_seconds',
  llm_duration: 'openrtc_llm_duration_seconds',
  tts_ttfb: 'openrtc_tts_ttfb_seconds',
  tts_duration: 'openrtc_tts_duration_seconds',
};

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
  const histograms = new Map<LatencyStage, Histogram>();
  for (const [stage, name] of Object.entries(FAMILY_BY_STAGE) as [LatencyStage, string][]) {
    const m = metricSpec(name);
    histograms.set(stage, meter.createHistogram(m.instrument, {
      description: m.help, unit: m.unit, advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    }));
  }
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
      const tenant = tenants.label(e.tenant);
      const histogram = histograms.get(e.stage);
      if (!histogram) return;
      if (e.provider === undefined) {
        histogram.record(e.seconds, { tenant, agent: e.agent });
        return;
      }
      const provider = boundLabel(e.provider);
      histogram.record(e.seconds, { tenant, agent: e.agent, provider, model: boundLabel(e.model ?? '') });
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
