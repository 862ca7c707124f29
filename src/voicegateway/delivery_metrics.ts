import { type Meter, createNoopMeter } from '@opentelemetry/api';
import { metricSpec } from '../telemetry/metric_catalog.js';
import { DEFAULT_TENANT_LABEL_LIMIT, TenantLabeler } from '../telemetry/tenant_labels.js';

/** Why rows were given up on. */
export type DropReason = 'buffer_full' | 'no_key' | 'unauthorized' | 'invalid' | 'rejected' | 'shutdown';

/** What the exporter counts about delivery, by tenant. */
export interface DeliveryMetrics {
  sent(tenant: string, rows: number): void;
  duplicates(tenant: string, rows: number): void;
  retried(tenant: string, rows: number): void;
  dropped(tenant: string, reason: DropReason, rows: number): void;
}

/**
 * Delivery counters on the worker's meter. Cost rows exist only for admitted calls, so each
 * tenant claims its label here, from a labeller with the pool's default budget: cost export
 * can never widen the metric set past it.
 */
export function createDeliveryMetrics(meter: Meter | undefined, buffered: () => number): DeliveryMetrics {
  const m = meter ?? createNoopMeter();
  const counter = (name: string) => {
    const spec = metricSpec(name);
    return m.createCounter(spec.instrument, { description: spec.help, unit: spec.unit });
  };
  const sent = counter('openrtc_voicegateway_records_sent_total');
  const duplicates = counter('openrtc_voicegateway_records_duplicate_total');
  const retried = counter('openrtc_voicegateway_records_retried_total');
  const dropped = counter('openrtc_voicegateway_records_dropped_total');
  const bufferSpec = metricSpec('openrtc_voicegateway_buffered_records');
  const gauge = m.createObservableGauge(bufferSpec.instrument, { description: bufferSpec.help, unit: bufferSpec.unit });
  // Observed for as long as the meter lives: a closed exporter reads 0 rather than leaving
  // its last value standing in every scrape.
  gauge.addCallback((result) => result.observe(buffered()));
  const tenants = new TenantLabeler(DEFAULT_TENANT_LABEL_LIMIT, () => undefined);
  const add = (instrument: typeof sent, rows: number, attributes: Record<string, string>) => {
    if (rows > 0) instrument.add(rows, attributes);
  };
  return {
    sent: (tenant, rows) => add(sent, rows, { tenant: tenants.claim(tenant) }),
    duplicates: (tenant, rows) => add(duplicates, rows, { tenant: tenants.claim(tenant) }),
    retried: (tenant, rows) => add(retried, rows, { tenant: tenants.claim(tenant) }),
    dropped: (tenant, reason, rows) => add(dropped, rows, { tenant: tenants.claim(tenant), reason }),
  };
}
