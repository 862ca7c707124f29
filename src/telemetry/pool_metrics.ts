import type { BatchObservableCallback, Meter, Observable } from '@opentelemetry/api';
import { invalidOption } from '../errors.js';
import { ConfigLoadRecorder } from './config_load_recorder.js';
import type { ObservedPool } from './observed_pool.js';
import { ActivePairs, LoopLag, TenantGauges, observeWorker } from './pool_gauges.js';
import { type EventInstruments, createEventInstruments, createGaugeInstruments } from './pool_instruments.js';
import { SeriesSeeder } from './series_seeds.js';
import { attachSessionMetrics } from './session_metrics.js';
import { DEFAULT_TENANT_LABEL_LIMIT, OTHER_TENANT_LABEL, TenantLabeler } from './tenant_labels.js';
import { UsageBatcher } from './usage_batcher.js';

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

function tenantLabeler(pool: ObservedPool, options: PoolMetricsOptions): TenantLabeler {
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
  for (const tenant of Object.keys(pool.runtimeSnapshot().tenants)) tenants.claim(tenant);
  return tenants;
}

interface EventCounting {
  pool: ObservedPool;
  instruments: EventInstruments;
  tenants: TenantLabeler;
  activePairs: ActivePairs;
  loads: ConfigLoadRecorder;
  usage: UsageBatcher;
}

/** Counts and times what pool events report; returns the unsubscribers. */
function countEvents({ pool, instruments: m, tenants, activePairs, loads, usage }: EventCounting): (() => void)[] {
  // Configured tenants' counters exist at 0 from the start; a new tenant's from its first admission.
  const initial = pool.runtimeSnapshot();
  const seeder = new SeriesSeeder(m);
  for (const [tenant, t] of Object.entries(initial.tenants)) seeder.seed(tenants.label(tenant), initial.agents, () => t.breaker !== null);
  const seedOnAdmission = (tenant: string, raw: string | undefined, agent: string | undefined): void => {
    if (raw === undefined) return;
    seeder.seed(tenant, agent === undefined ? [] : [agent], () => pool.runtimeSnapshot().tenants[raw]?.breaker != null);
  };
  return [
    pool.on('storeOperation', (e) => {
      const attributes = { store: e.store, operation: e.operation };
      m.storeDuration.record(e.durationMs / 1000, attributes);
      if (e.error !== undefined) m.storeErrors.add(1, attributes);
    }),
    pool.on('storeModeChange', (e) => m.storeSwitches.add(1, { store: e.store, from: e.from, to: e.to })),
    pool.on('admission', (e) => {
      const tenant = e.accepted && e.tenant !== undefined ? tenants.claim(e.tenant) : tenants.label(e.tenant);
      loads.flush();
      seedOnAdmission(tenant, e.tenant, e.agent);
      const decision = e.accepted ? 'accepted' : 'refused';
      m.admissions.add(1, e.agent === undefined ? { tenant, decision } : { tenant, agent: e.agent, decision });
      if (!e.accepted && e.reason !== undefined) m.refusals.add(1, { tenant, reason: e.reason });
      m.admissionDuration.record(e.durationMs / 1000);
    }),
    pool.on('sessionStarted', (e) => {
      const tenant = tenants.label(e.tenant);
      activePairs.add(tenant, e.agent);
      m.started.add(1, { tenant, agent: e.agent });
    }),
    pool.on('sessionEnded', (e) => {
      const attributes = { tenant: tenants.label(e.tenant), agent: e.agent, outcome: e.outcome };
      m.ended.add(1, attributes);
      m.sessionDuration.record(e.durationMs / 1000, attributes);
    }),
    pool.on('reservationExpired', (e) => m.expired.add(1, { tenant: tenants.label(e.tenant), agent: e.agent })),
    pool.on('breakerTransition', (e) => m.transitions.add(1, { tenant: tenants.label(e.tenant), from: e.from, to: e.to })),
    pool.on('configLoad', (e) => loads.onLoad(e)),
    pool.on('usage', (e) => usage.record(e)),
  ];
}

/**
 * Turns what a pool decides and observes into metrics. Counters and histograms follow
 * pool events; gauges are read from the pool once per collection, so a scrape always
 * shows the pool as it is, not as the last event left it.
 */
export function attachPoolMetrics(pool: ObservedPool, options: PoolMetricsOptions): PoolMetricsHandle {
  const { meter } = options;
  const tenants = tenantLabeler(pool, options);
  const instruments = createEventInstruments(meter);
  const gauges = createGaugeInstruments(meter);
  const activePairs = new ActivePairs();
  const loads = new ConfigLoadRecorder(instruments.configLoads, instruments.configLoadDuration, tenants);
  const usage = new UsageBatcher(instruments, tenants);
  const unsubscribe = [
    ...countEvents({ pool, instruments, tenants, activePairs, loads, usage }),
    ...attachSessionMetrics(pool, meter, tenants),
  ];

  const lag = new LoopLag();
  const tenantGauges = new TenantGauges();
  const observe: BatchObservableCallback = (result) => {
    usage.flush();
    loads.flush();
    const snapshot = pool.runtimeSnapshot();
    activePairs.observe(result, gauges.active, pool, tenants);
    tenantGauges.observe(result, gauges, snapshot, tenants);
    observeWorker(result, gauges, snapshot, options.workerLoad);
    lag.observe(result, gauges.loopLag);
  };
  const { active, cap, utilization, breakerState, workerLoad, draining, storeMode, loopLag, buildInfo } = gauges;
  const observables: Observable[] = [active, cap, utilization, breakerState, workerLoad, draining, storeMode, loopLag, buildInfo];
  meter.addBatchObservableCallback(observe, observables);

  let attached = true;
  return {
    detach() {
      if (!attached) return;
      attached = false;
      for (const off of unsubscribe) off();
      usage.flush();
      loads.flush();
      meter.removeBatchObservableCallback(observe, observables);
      lag.stop();
    },
  };
}
