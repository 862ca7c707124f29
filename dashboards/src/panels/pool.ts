// The pool as a whole: tenants side by side, then the workers.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { WORKER, quantile, stat, timeseries } from '../common.js';

export function tenantsSideBySidePanels(): Builder<Panel>[] {
  return [
    timeseries({
      title: 'Top tenants by active sessions',
      description: 'The ten tenants with the most sessions running.',
      unit: 'short',
      queries: [{ expr: `topk(10, sum by (tenant) (openrtc_sessions_active{${WORKER}}))`, legend: '{{tenant}}' }],
    }),
    timeseries({
      title: 'Top tenants by sessions started',
      description: 'The ten tenants that started the most sessions per interval.',
      unit: 'short',
      queries: [{ expr: `topk(10, sum by (tenant) (increase(openrtc_sessions_started_total{${WORKER}}[$__rate_interval])))`, legend: '{{tenant}}' }],
    }),
    timeseries({
      title: 'Refusals by reason',
      description: 'Refused calls per interval, all tenants, by stable reason code.',
      unit: 'short',
      queries: [{ expr: `sum by (reason) (increase(openrtc_admission_refusals_total{${WORKER}}[$__rate_interval]))`, legend: '{{reason}}' }],
    }),
    timeseries({
      title: 'Breaker opens by tenant',
      description: 'Circuit breakers that opened per interval, by tenant.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant) (increase(openrtc_breaker_transitions_total{${WORKER}, to="open"}[$__rate_interval]))`, legend: '{{tenant}}' }],
    }),
    timeseries({
      title: 'Cap utilization by tenant',
      description: '(running + reserved) / cap for every tenant with a cap.',
      unit: 'percentunit',
      queries: [{ expr: `max by (tenant) (openrtc_tenant_cap_utilization_ratio{${WORKER}})`, legend: '{{tenant}}' }],
    }),
    timeseries({
      title: '~other and ~invalid volume',
      description: 'Calls counted under tenant="~other" (tenants past tenantLabelLimit) and tenant="~invalid" (malformed tenant ids), per interval.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant) (increase(openrtc_admissions_total{${WORKER}, tenant=~"~other|~invalid"}[$__rate_interval]))`, legend: '{{tenant}}' }],
    }),
  ];
}

export function workerPanels(): Builder<Panel>[] {
  return [
    timeseries({
      title: 'Worker load',
      description: 'Load each worker reports to the LiveKit server (0..1); the server stops offering calls above its target load.',
      unit: 'percentunit',
      queries: [{ expr: `max by (instance) (openrtc_worker_load_ratio{${WORKER}})`, legend: '{{instance}}' }],
    }),
    timeseries({
      title: 'Draining workers',
      description: '1 while a worker drains (accepts no new calls), else 0.',
      unit: 'none',
      queries: [{ expr: `max by (instance) (openrtc_worker_draining{${WORKER}})`, legend: '{{instance}}' }],
    }),
    timeseries({
      title: 'Admission latency p50 / p99',
      description: 'Time to decide one call, tenant config load included.',
      unit: 's',
      queries: [
        { expr: quantile(0.5, 'openrtc_admission_duration_seconds', WORKER, ['instance']), legend: '{{instance}} p50' },
        { expr: quantile(0.99, 'openrtc_admission_duration_seconds', WORKER, ['instance']), legend: '{{instance}} p99' },
      ],
    }),
    timeseries({
      title: 'Event-loop lag',
      description: 'Event-loop delay per worker since the previous scrape: p99 and maximum.',
      unit: 's',
      queries: [{ expr: `max by (instance, quantile) (openrtc_event_loop_lag_seconds{${WORKER}})`, legend: '{{instance}} q{{quantile}}' }],
    }),
    timeseries({
      title: 'Active sessions',
      description: 'Sessions running per worker.',
      unit: 'short',
      queries: [{ expr: `sum by (instance) (openrtc_sessions_active{${WORKER}})`, legend: '{{instance}}' }],
    }),
    stat({
      title: 'Build versions',
      description: 'Workers per openrtc version and deployment version: more than one row during a rollout.',
      unit: 'short',
      queries: [{ expr: `count by (version, deployment) (openrtc_build_info{${WORKER}})`, legend: '{{version}} {{deployment}}' }],
      span: 12,
    }),
    stat({
      title: 'Targets up',
      description: 'Scrape health of each worker: 1 up, 0 down.',
      unit: 'none',
      queries: [{ expr: `up{${WORKER}}`, legend: '{{instance}}' }],
      span: 12,
    }),
  ];
}
