import { invalidOption } from '../errors.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Attributes, BatchObservableCallback, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { ObservedPool } from './observed_pool.js';
import type { UsageEvent } from './pool_events.js';
import type { RuntimeSnapshot } from './runtime_snapshot.js';
import type { ConfigLoadEvent } from '../tenancy/tenant_config.js';
import type { StoreStatus } from '../admission/store_status.js';
import { OPENRTC_VERSION } from '../version.js';
import { metricSpec } from './metric_catalog.js';
import { SeriesSeeder } from './series_seeds.js';
import { attachSessionMetrics, boundLabel } from './session_metrics.js';
import { DEFAULT_TENANT_LABEL_LIMIT, OTHER_TENANT_LABEL, TenantLabeler } from './tenant_labels.js';

/** Something telemetry wants an operator to know, reported instead of thrown. */
export interface TelemetryDiagnostic {
  code: 'tenant_label_limit';
  message: string;
}

export interface PoolMetricsOptions {
  /** Where instruments are created; usually `OpenRtcTelemetry.meter`. */
  meter: Meter;
  /** Distinct tenants with a label of their own; later ones fold into `~other`. Default 500. */
  tenantLabelLimit?: number;
  /** Worker load 0..1 (what the worker reports to LiveKit). Default: reserved+running / maxConcurrentSessions. */
  workerLoad?: () => number;
  /** Receives warnings such as the tenant label limit being reached. Default: process.emitWarning. */
  onDiagnostic?: (diagnostic: TelemetryDiagnostic) => void;
}

export interface PoolMetricsHandle {
  /** Stops listening and observing; counters keep their last values. */
  detach(): void;
}

const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

// Buckets in seconds: a call lasts minutes, an admission milliseconds, a loader a network round trip.
const SESSION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];
const ADMISSION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const REDIS_STORE_MODES = ['shared', 'fallback', 'refusing'] as const;
const LOADER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Turns what a pool decides and observes into metrics. Counters and histograms follow
 * pool events; gauges are read from the pool once per collection, so a scrape always
 * shows the pool as it is, not as the last event left it.
 */
export function attachPoolMetrics(pool: ObservedPool, options: PoolMetricsOptions): PoolMetricsHandle {
  const { meter } = options;
  const limit = options.tenantLabelLimit ?? DEFAULT_TENANT_LABEL_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw invalidOption('tenantLabelLimit', 'must be a positive integer', limit);
  }
  const onDiagnostic = options.onDiagnostic ?? ((d: TelemetryDiagnostic) => process.emitWarning(d.message));
  const tenants = new TenantLabeler(limit, (max, first) =>
    onDiagnostic({
      code: 'tenant_label_limit',
      message: `openrtc: more than ${max} tenants admitted; tenant "${first}" and later ones are counted under tenant="${OTHER_TENANT_LABEL}"`,
    }),
  );
  // Tenants the pool is configured for get their labels first, then tenants as they are admitted.
  const initial = pool.runtimeSnapshot();
  for (const tenant of Object.keys(initial.tenants)) tenants.claim(tenant);

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
  const gauge = (name: string) => {
    const m = metricSpec(name);
    return meter.createObservableGauge(m.instrument, { description: m.help, unit: m.unit });
  };

  const started = counter('openrtc_sessions_started_total');
  const ended = counter('openrtc_sessions_ended_total');
  const sessionDuration = histogram('openrtc_session_duration_seconds', SESSION_BUCKETS);
  const admissions = counter('openrtc_admissions_total');
  const refusals = counter('openrtc_admission_refusals_total');
  const admissionDuration = histogram('openrtc_admission_duration_seconds', ADMISSION_BUCKETS);
  const expired = counter('openrtc_reservations_expired_total');
  const transitions = counter('openrtc_breaker_transitions_total');
  const configLoads = counter('openrtc_tenant_config_loads_total');
  const configLoadDuration = histogram('openrtc_tenant_config_load_duration_seconds', LOADER_BUCKETS);
  const llmTokens = counter('openrtc_llm_tokens_total');
  const sttSeconds = counter('openrtc_stt_audio_seconds_total');
  const ttsCharacters = counter('openrtc_tts_characters_total');

  const active = gauge('openrtc_sessions_active');
  const cap = gauge('openrtc_tenant_session_cap');
  const utilization = gauge('openrtc_tenant_cap_utilization_ratio');
  const breakerState = gauge('openrtc_tenant_breaker_state');
  const workerLoad = gauge('openrtc_worker_load_ratio');
  const draining = gauge('openrtc_worker_draining');
  const loopLag = gauge('openrtc_event_loop_lag_seconds');
  const buildInfo = gauge('openrtc_build_info');

  // Configured tenants' counters exist at 0 from the start; a new tenant's from its first admission.
  const seeder = new SeriesSeeder({ started, ended, admissions, refusals, transitions, configLoads });
  for (const [tenant, t] of Object.entries(initial.tenants)) seeder.seed(tenants.label(tenant), initial.agents, () => t.breaker !== null);
  const seedOnAdmission = (tenant: string, raw: string | undefined, agent: string | undefined): void => {
    if (raw === undefined) return;
    seeder.seed(tenant, agent === undefined ? [] : [agent], () => pool.runtimeSnapshot().tenants[raw]?.breaker != null);
  };

  // A tenant's config is loaded while its call is decided, before the admission that may
  // earn it a label: loads of tenants without one wait for that admission (or the next
  // collection) and then count under the label the tenant has by then.
  const pendingLoads = new Map<string, ConfigLoadEvent[]>();
  const recordLoad = (e: ConfigLoadEvent): void => {
    const tenant = tenants.label(e.tenant);
    configLoads.add(1, { tenant, result: e.result });
    // Static and cached answers take no time; counting their zeros would hide slow loaders.
    if (e.result === 'loaded' || e.result === 'error' || e.result === 'timeout') {
      configLoadDuration.record(e.durationMs / 1000, { tenant });
    }
  };
  const flushLoads = (tenant?: string): void => {
    for (const id of tenant === undefined ? [...pendingLoads.keys()] : [tenant]) {
      const loads = pendingLoads.get(id);
      if (!loads) continue;
      pendingLoads.delete(id);
      for (const e of loads) recordLoad(e);
    }
  };

  // tenant\u0000agent pairs that have had a session, so their gauge drops to 0 instead of vanishing.
  const activePairs = new Set<string>();
  const pairKey = (tenant: string, agent: string) => `${tenant}\u0000${agent}`;

  const storeDuration = histogram('openrtc_store_operation_duration_seconds', STORE_BUCKETS);
  const storeErrors = counter('openrtc_store_errors_total');
  const storeSwitches = counter('openrtc_store_mode_switches_total');
  const storeMode = gauge('openrtc_store_mode');

  const unsubscribe = [
    pool.on('storeOperation', (e) => {
      const attributes = { store: e.store, operation: e.operation };
      storeDuration.record(e.durationMs / 1000, attributes);
      if (e.error !== undefined) storeErrors.add(1, attributes);
    }),
    pool.on('storeModeChange', (e) => {
      storeSwitches.add(1, { store: e.store, from: e.from, to: e.to });
    }),
    pool.on('admission', (e) => {
      const tenant = e.accepted && e.tenant !== undefined ? tenants.claim(e.tenant) : tenants.label(e.tenant);
      flushLoads();
      seedOnAdmission(tenant, e.tenant, e.agent);
      const decision = e.accepted ? 'accepted' : 'refused';
      admissions.add(1, e.agent === undefined ? { tenant, decision } : { tenant, agent: e.agent, decision });
      if (!e.accepted && e.reason !== undefined) refusals.add(1, { tenant, reason: e.reason });
      admissionDuration.record(e.durationMs / 1000);
    }),
    pool.on('sessionStarted', (e) => {
      const tenant = tenants.label(e.tenant);
      activePairs.add(pairKey(tenant, e.agent));
      started.add(1, { tenant, agent: e.agent });
    }),
    pool.on('sessionEnded', (e) => {
      const attributes = { tenant: tenants.label(e.tenant), agent: e.agent, outcome: e.outcome };
      ended.add(1, attributes);
      sessionDuration.record(e.durationMs / 1000, attributes);
    }),
    pool.on('reservationExpired', (e) => {
      expired.add(1, { tenant: tenants.label(e.tenant), agent: e.agent });
    }),
    pool.on('breakerTransition', (e) => {
      transitions.add(1, { tenant: tenants.label(e.tenant), from: e.from, to: e.to });
    }),
    pool.on('configLoad', (e) => {
      if (tenants.label(e.tenant) !== OTHER_TENANT_LABEL) recordLoad(e);
      else pendingLoads.set(e.tenant, [...(pendingLoads.get(e.tenant) ?? []), e]);
    }),
    pool.on('usage', (e) => recordUsage(e)),
    ...attachSessionMetrics(pool, meter, tenants),
  ];

  // Usage arrives many times per turn (agents-js reports TTS per segment, LLM per reply), and
  // every Counter.add costs the SDK an attribute hash and a map lookup. Usage is summed here
  // per series instead, and handed to the counters once per collection (the batch callback
  // below runs before the SDK reads its synchronous instruments) and on detach.
  interface PendingUsage {
    instrument: typeof llmTokens;
    attributes: Attributes;
    value: number;
  }
  const pendingUsage = new Map<string, PendingUsage>();
  const addUsage = (
    instrument: typeof llmTokens, key: string, value: number | undefined, attributes: () => Attributes,
  ): void => {
    if (value === undefined || !Number.isFinite(value) || value <= 0) return;
    const pending = pendingUsage.get(key);
    if (pending) pending.value += value;
    else pendingUsage.set(key, { instrument, attributes: attributes(), value });
  };
  const flushUsage = (): void => {
    for (const pending of pendingUsage.values()) {
      if (pending.value === 0) continue;
      pending.instrument.add(pending.value, pending.attributes);
      pending.value = 0;
    }
  };

  function recordUsage(e: UsageEvent): void {
    const tenant = tenants.label(e.tenant);
    const provider = boundLabel(e.provider);
    const model = boundLabel(e.model);
    const series = `${tenant}\u0000${provider}\u0000${model}`;
    if (e.kind === 'llm') {
      addUsage(llmTokens, `llm\u0000input\u0000${series}`, e.inputTokens, () => ({ tenant, provider, model, type: 'input' }));
      addUsage(llmTokens, `llm\u0000output\u0000${series}`, e.outputTokens, () => ({ tenant, provider, model, type: 'output' }));
      addUsage(llmTokens, `llm\u0000cached\u0000${series}`, e.cachedTokens, () => ({ tenant, provider, model, type: 'cached' }));
    } else if (e.kind === 'stt') {
      addUsage(sttSeconds, `stt\u0000${series}`, e.audioSeconds, () => ({ tenant, provider, model }));
    } else {
      addUsage(ttsCharacters, `tts\u0000${series}`, e.characters, () => ({ tenant, provider, model }));
    }
  }

  // Labelled tenants' last gauge readings (at most tenantLabelLimit of them).
  const gauged = new Map<string, { cap: number | null; breaker: boolean }>();
  const observeTenants = (result: BatchObservableResult, snapshot: RuntimeSnapshot): void => {
    const shown = new Set<string>();
    for (const [id, t] of Object.entries(snapshot.tenants)) {
      const tenant = tenants.label(id);
      // Caps and breaker states of folded tenants cannot be summed into one meaningful value.
      if (tenant === OTHER_TENANT_LABEL) continue;
      shown.add(tenant);
      gauged.set(tenant, { cap: t.cap, breaker: t.breaker !== null });
      if (t.cap !== null) result.observe(cap, t.cap, { tenant });
      if (t.utilization !== null) result.observe(utilization, t.utilization, { tenant });
      if (t.breaker !== null) result.observe(breakerState, BREAKER_STATE_VALUE[t.breaker.state], { tenant });
    }
    // A labelled tenant whose record the pool retired is idle by definition: no call, its
    // breaker closed. Its labels stay (see tenant_labels.ts), so its gauges say so rather
    // than repeat what the last scrape before its retirement saw.
    for (const [tenant, last] of gauged) {
      if (shown.has(tenant)) continue;
      if (last.cap !== null) {
        result.observe(cap, last.cap, { tenant });
        result.observe(utilization, 0, { tenant });
      }
      if (last.breaker) result.observe(breakerState, BREAKER_STATE_VALUE.closed, { tenant });
    }
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();

  const observe: BatchObservableCallback = (result) => {
    flushUsage();
    flushLoads();
    const snapshot = pool.runtimeSnapshot();

    const running = new Map<string, number>();
    for (const key of activePairs) running.set(key, 0);
    for (const ticket of pool.liveTickets()) {
      if (ticket.state !== 'running') continue;
      const key = pairKey(tenants.label(ticket.tenant), ticket.agentName);
      activePairs.add(key);
      running.set(key, (running.get(key) ?? 0) + 1);
    }
    for (const [key, count] of running) {
      const [tenant, agent] = key.split('\u0000') as [string, string];
      result.observe(active, count, { tenant, agent });
    }

    observeTenants(result, snapshot);

    const load = options.workerLoad
      ? options.workerLoad()
      : snapshot.maxConcurrentSessions === null
        ? undefined
        : (snapshot.activeSessions + snapshot.reservedSessions) / snapshot.maxConcurrentSessions;
    if (load !== undefined && Number.isFinite(load)) result.observe(workerLoad, load);
    result.observe(draining, snapshot.draining ? 1 : 0);
    const stores: [string, StoreStatus | null][] = [['reservations', snapshot.stores.reservations], ['breaker', snapshot.stores.breaker]];
    for (const [store, status] of stores) {
      if (status === null) continue;
      if (status.backend === 'memory') result.observe(storeMode, 1, { store, mode: 'memory' });
      else for (const mode of REDIS_STORE_MODES) result.observe(storeMode, status.mode === mode ? 1 : 0, { store, mode });
    }

    // Nanoseconds to seconds; reset so each scrape shows the delay since the previous one.
    // An empty histogram answers odd percentiles; no samples means no measured delay.
    const sampled = lag.count > 0;
    result.observe(loopLag, sampled ? lag.percentile(99) / 1e9 : 0, { quantile: '0.99' });
    result.observe(loopLag, sampled ? lag.max / 1e9 : 0, { quantile: '1' });
    lag.reset();

    result.observe(buildInfo, 1, { version: OPENRTC_VERSION, deployment: snapshot.deploymentVersion });
  };
  const observables: Observable[] = [active, cap, utilization, breakerState, workerLoad, draining, storeMode, loopLag, buildInfo];
  meter.addBatchObservableCallback(observe, observables);

  let attached = true;
  return {
    detach() {
      if (!attached) return;
      attached = false;
      for (const off of unsubscribe) off();
      flushUsage();
      flushLoads();
      meter.removeBatchObservableCallback(observe, observables);
      lag.disable();
    },
  };
}
