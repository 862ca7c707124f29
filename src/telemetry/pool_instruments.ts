// The pool's metric instruments, created once from the catalogue so that name, help and
// unit come from one place.
import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import { metricSpec } from './metric_catalog.js';

// Buckets in seconds: a call lasts minutes, an admission milliseconds, a loader a network round trip.
const SESSION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];
const ADMISSION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const LOADER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What pool events count and time. */
export interface EventInstruments {
  started: Counter;
  ended: Counter;
  sessionDuration: Histogram;
  admissions: Counter;
  refusals: Counter;
  admissionDuration: Histogram;
  expired: Counter;
  transitions: Counter;
  configLoads: Counter;
  configLoadDuration: Histogram;
  llmTokens: Counter;
  sttSeconds: Counter;
  ttsCharacters: Counter;
  storeDuration: Histogram;
  storeErrors: Counter;
  storeSwitches: Counter;
}

/** What is read from the pool once per collection. */
export interface GaugeInstruments {
  active: ObservableGauge;
  cap: ObservableGauge;
  utilization: ObservableGauge;
  breakerState: ObservableGauge;
  workerLoad: ObservableGauge;
  draining: ObservableGauge;
  storeMode: ObservableGauge;
  loopLag: ObservableGauge;
  buildInfo: ObservableGauge;
}

export function createEventInstruments(meter: Meter): EventInstruments {
  const counter = (name: string) => {
    const m = metricSpec(name);
    return meter.createCounter(m.instrument, { description: m.help, unit: m.unit });
  };
  const histogram = (name: string, buckets: number[]) => {
    const m = metricSpec(name);
    return meter.createHistogram(m.instrument, {
      description: m.help, unit: m.unit, advice: { explicitBucketBoundaries: buckets },
    });
  };
  return {
    started: counter('openrtc_sessions_started_total'),
    ended: counter('openrtc_sessions_ended_total'),
    sessionDuration: histogram('openrtc_session_duration_seconds', SESSION_BUCKETS),
    admissions: counter('openrtc_admissions_total'),
    refusals: counter('openrtc_admission_refusals_total'),
    admissionDuration: histogram('openrtc_admission_duration_seconds', ADMISSION_BUCKETS),
    expired: counter('openrtc_reservations_expired_total'),
    transitions: counter('openrtc_breaker_transitions_total'),
    configLoads: counter('openrtc_tenant_config_loads_total'),
    configLoadDuration: histogram('openrtc_tenant_config_load_duration_seconds', LOADER_BUCKETS),
    llmTokens: counter('openrtc_llm_tokens_total'),
    sttSeconds: counter('openrtc_stt_audio_seconds_total'),
    ttsCharacters: counter('openrtc_tts_characters_total'),
    storeDuration: histogram('openrtc_store_operation_duration_seconds', STORE_BUCKETS),
    storeErrors: counter('openrtc_store_errors_total'),
    storeSwitches: counter('openrtc_store_mode_switches_total'),
  };
}

export function createGaugeInstruments(meter: Meter): GaugeInstruments {
  const gauge = (name: string) => {
    const m = metricSpec(name);
    return meter.createObservableGauge(m.instrument, { description: m.help, unit: m.unit });
  };
  return {
    active: gauge('openrtc_sessions_active'),
    cap: gauge('openrtc_tenant_session_cap'),
    utilization: gauge('openrtc_tenant_cap_utilization_ratio'),
    breakerState: gauge('openrtc_tenant_breaker_state'),
    workerLoad: gauge('openrtc_worker_load_ratio'),
    draining: gauge('openrtc_worker_draining'),
    storeMode: gauge('openrtc_store_mode'),
    loopLag: gauge('openrtc_event_loop_lag_seconds'),
    buildInfo: gauge('openrtc_build_info'),
  };
}
