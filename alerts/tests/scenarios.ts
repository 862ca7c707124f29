// Unit tests for the alert rules, run by `promtool test rules`. Each scenario feeds one
// failing subject and one healthy neighbour, then checks the alert one evaluation before
// its `for:` has elapsed (silent) and when it has (firing for the failing subject alone,
// with every label and annotation). `npm run generate` writes them to
// alerts/tests/openrtc-alerts.test.yaml; the descriptions below are written out by hand,
// so a template change shows up as a failing test.
import { stringify } from 'yaml';
import { type AlertRule, allRules } from '../src/rules.js';

interface Scenario {
  alert: string;
  /** Minutes after the start at which the expression first holds. */
  trueFrom: number;
  /** Series in promtool's expanding notation; `job="openrtc"` is added to each. */
  series: Record<string, string>;
  /** Labels of the one firing alert, besides `severity` and `alertname`. */
  labels: Record<string, string>;
  description: string;
}

const SCENARIOS: Scenario[] = [
  {
    alert: 'OpenRtcTenantBreakerOpen',
    trueFrom: 10,
    series: {
      'openrtc_tenant_breaker_state{tenant="initech"}': '0x9 2x40',
      'openrtc_tenant_breaker_state{tenant="acme"}': '0x50',
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: 'The circuit breaker of tenant initech (job openrtc) is open: too many of its sessions failed, and its new calls are refused with circuit_open.',
  },
  {
    // One success a minute throughout; one failure a minute from minute 31. Over 15 minutes
    // the failed share passes 20% at minute 34 (4 of 19).
    alert: 'OpenRtcTenantFailureRatioHigh',
    trueFrom: 34,
    series: {
      'openrtc_sessions_ended_total{tenant="initech",agent="support",outcome="success"}': '0+1x60',
      'openrtc_sessions_ended_total{tenant="initech",agent="support",outcome="failed"}': '0x30 1+1x30',
      'openrtc_sessions_ended_total{tenant="acme",agent="support",outcome="success"}': '0+2x60',
      'openrtc_sessions_ended_total{tenant="acme",agent="support",outcome="failed"}': '0x60',
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: '48.28% of the sessions of tenant initech (job openrtc) failed over the last 15 minutes.',
  },
  {
    alert: 'OpenRtcTenantNearCap',
    trueFrom: 10,
    series: {
      'openrtc_tenant_cap_utilization_ratio{tenant="initech"}': '0.5x9 0.95x40',
      'openrtc_tenant_cap_utilization_ratio{tenant="acme"}': '0.5x50',
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: 'Tenant initech (job openrtc) has used 95% of its session cap for 15 minutes; its next calls may be refused with tenant_cap.',
  },
  {
    alert: 'OpenRtcTenantCapRefusals',
    trueFrom: 10,
    series: {
      'openrtc_admission_refusals_total{tenant="initech",reason="tenant_cap"}': '0x9 1+1x30',
      'openrtc_admission_refusals_total{tenant="acme",reason="tenant_cap"}': '0x40',
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: 'Tenant initech (job openrtc) had 6 calls refused by its session cap over the last 10 minutes.',
  },
  {
    alert: 'OpenRtcGlobalCapRefusals',
    trueFrom: 10,
    series: {
      'openrtc_admission_refusals_total{tenant="initech",reason="global_cap"}': '0x9 1+1x30',
      'openrtc_admission_refusals_total{tenant="acme",reason="global_cap"}': '0x40',
    },
    labels: { job: 'openrtc' },
    description: '6 calls were refused by maxConcurrentSessions in job openrtc over the last 10 minutes.',
  },
  {
    // Two accepted calls a minute; refusals from minute 30. Over 10 minutes the refused share
    // passes 25% at minute 36 (7 of 27).
    alert: 'OpenRtcTenantRefusalsSpiking',
    trueFrom: 36,
    series: {
      'openrtc_admissions_total{tenant="initech",agent="support",decision="accepted"}': '0+2x60',
      'openrtc_admissions_total{tenant="initech",agent="support",decision="refused"}': '0x29 1+1x30',
      'openrtc_admissions_total{tenant="acme",agent="support",decision="accepted"}': '0+2x60',
      'openrtc_admissions_total{tenant="acme",agent="support",decision="refused"}': '0x60',
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: '33.33% of the calls of tenant initech (job openrtc) were refused over the last 10 minutes.',
  },
  {
    alert: 'OpenRtcTenantConfigLoadsFailing',
    trueFrom: 12,
    series: {
      'openrtc_tenant_config_loads_total{tenant="initech",result="error"}': '0x9 1+1x30',
      'openrtc_tenant_config_loads_total{tenant="acme",result="error"}': '0x40',
      'openrtc_tenant_config_loads_total{tenant="acme",result="loaded"}': '0+1x40',
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: 'The tenant config loader failed or timed out 8 times for tenant initech (job openrtc) over the last 15 minutes; those calls were refused with config_error.',
  },
  {
    alert: 'OpenRtcTenantProviderErrors',
    trueFrom: 12,
    series: {
      'openrtc_provider_errors_total{tenant="initech",component="llm",provider="openai",kind="unrecoverable"}': '0x9 1+1x30',
      // Recoverable errors are retried by agents-js: no alert however many.
      'openrtc_provider_errors_total{tenant="acme",component="tts",provider="cartesia",kind="recoverable"}': '0+1x40',
    },
    labels: { job: 'openrtc', tenant: 'initech', component: 'llm', provider: 'openai' },
    description: 'The llm provider openai of tenant initech (job openrtc) reported 8 unrecoverable errors over the last 15 minutes.',
  },
  {
    // Five turns a minute from minute 10, all between 2 and 3 s: p95 2.95 s; the volume guard
    // (20 turns in 10 minutes) holds from minute 13.
    alert: 'OpenRtcTenantTurnLatencyHigh',
    trueFrom: 13,
    series: {
      ...histogram('openrtc_turn_latency_seconds', 'tenant="initech",agent="support"', ['0.5', '2', '3'], 2, '0x9 5+5x50'),
      ...histogram('openrtc_turn_latency_seconds', 'tenant="acme",agent="support"', ['0.5', '2', '3'], 0, '0+5x60'),
    },
    labels: { job: 'openrtc', tenant: 'initech' },
    description: 'The 95th percentile of the turn latency of tenant initech (job openrtc) is 2.95s over the last 10 minutes.',
  },
  {
    alert: 'OpenRtcTenantLlmSlow',
    trueFrom: 13,
    series: {
      ...histogram('openrtc_llm_ttft_seconds', 'tenant="initech",agent="support",provider="openai",model="gpt-4o"', ['0.5', '1.5', '2'], 2, '0x9 5+5x50'),
      ...histogram('openrtc_llm_ttft_seconds', 'tenant="acme",agent="support",provider="openai",model="gpt-4o"', ['0.5', '1.5', '2'], 0, '0+5x60'),
    },
    labels: { job: 'openrtc', tenant: 'initech', provider: 'openai', model: 'gpt-4o' },
    description: 'The 95th percentile of the LLM time to first token of tenant initech (openai gpt-4o, job openrtc) is 1.975s.',
  },
  {
    alert: 'OpenRtcWorkerDown',
    trueFrom: 10,
    series: { 'up{instance="w1:9464"}': '1x9 0x30', 'up{instance="w2:9464"}': '1x40' },
    labels: { job: 'openrtc', instance: 'w1:9464' },
    description: 'Prometheus has not scraped the openrtc worker w1:9464 (job openrtc) for 2 minutes: it is down or unreachable, and its sessions are not visible.',
  },
  {
    alert: 'OpenRtcWorkersAbsent',
    trueFrom: 10,
    series: { 'up{instance="w1:9464"}': '1x9 stale' },
    labels: { job: 'openrtc' },
    description: 'Prometheus has no openrtc target in job openrtc: service discovery lost every worker, or none is deployed.',
  },
  {
    alert: 'OpenRtcDrainTooLong',
    trueFrom: 10,
    series: { 'openrtc_worker_draining{instance="w1:9464"}': '0x9 1x60', 'openrtc_worker_draining{instance="w2:9464"}': '0x70' },
    labels: { job: 'openrtc', instance: 'w1:9464' },
    description: 'Worker w1:9464 (job openrtc) has been draining for over 35 minutes; it should have cancelled its last sessions and exited after drainTimeoutMs.',
  },
  {
    alert: 'OpenRtcEventLoopLagHigh',
    trueFrom: 10,
    series: {
      'openrtc_event_loop_lag_seconds{instance="w1:9464",quantile="0.99"}': '0.01x9 0.25x30',
      'openrtc_event_loop_lag_seconds{instance="w2:9464",quantile="0.99"}': '0.01x40',
    },
    labels: { job: 'openrtc', instance: 'w1:9464' },
    description: 'The event loop of worker w1:9464 (job openrtc) lags 250ms at the 99th percentile; the sessions it hosts hear delayed audio.',
  },
  {
    alert: 'OpenRtcTenantLabelLimitReached',
    trueFrom: 10,
    series: {
      // The series starts at 0 at the first folded admission; refusals under ~other never alert.
      'openrtc_admissions_total{instance="w1:9464",tenant="~other",agent="support",decision="accepted"}': '_x9 0 1+1x20',
      'openrtc_admissions_total{instance="w1:9464",tenant="~other",decision="refused"}': '0+1x30',
      'openrtc_admissions_total{instance="w2:9464",tenant="acme",agent="support",decision="accepted"}': '0+1x30',
    },
    labels: { job: 'openrtc', instance: 'w1:9464' },
    description: 'Worker w1:9464 (job openrtc) has admitted more tenants than its tenantLabelLimit; later tenants are counted under tenant="~other" and cannot be told apart on dashboards.',
  },
];

/**
 * A healthy tenant on healthy workers for an hour: every alert stays silent throughout.
 */
const HEALTHY: Record<string, string> = {
  'up{instance="w1:9464"}': '1x60',
  'openrtc_tenant_breaker_state{tenant="acme"}': '0x60',
  'openrtc_tenant_cap_utilization_ratio{tenant="acme"}': '0.4x60',
  'openrtc_sessions_ended_total{tenant="acme",agent="support",outcome="success"}': '0+3x60',
  'openrtc_sessions_ended_total{tenant="acme",agent="support",outcome="failed"}': '0x30 1x30',
  'openrtc_admissions_total{tenant="acme",agent="support",decision="accepted"}': '0+3x60',
  'openrtc_admissions_total{tenant="acme",agent="support",decision="refused"}': '0x60',
  'openrtc_admission_refusals_total{tenant="acme",reason="tenant_cap"}': '0x60',
  'openrtc_admission_refusals_total{tenant="acme",reason="global_cap"}': '0x60',
  'openrtc_tenant_config_loads_total{tenant="acme",result="error"}': '0x60',
  'openrtc_provider_errors_total{tenant="acme",component="llm",provider="openai",kind="unrecoverable"}': '0x60',
  'openrtc_worker_draining{instance="w1:9464"}': '0x60',
  'openrtc_event_loop_lag_seconds{instance="w1:9464",quantile="0.99"}': '0.005x60',
  ...histogram('openrtc_turn_latency_seconds', 'tenant="acme",agent="support"', ['0.5', '2', '3'], 1, '0+6x60'),
  ...histogram('openrtc_llm_ttft_seconds', 'tenant="acme",agent="support",provider="openai",model="gpt-4o"', ['0.5', '1.5', '2'], 0, '0+6x60'),
};

/**
 * Bucket, count and sum series of a histogram whose observations all fall in bucket
 * `into` (an index into `bounds`, or bounds.length for +Inf); `values` is their count.
 */
function histogram(name: string, labels: string, bounds: string[], into: number, values: string): Record<string, string> {
  const out: Record<string, string> = {};
  [...bounds, '+Inf'].forEach((le, i) => {
    out[`${name}_bucket{${labels},le="${le}"}`] = i >= into ? values : '0x60';
  });
  out[`${name}_count{${labels}}`] = values;
  return out;
}

function withJob(series: Record<string, string>): { series: string; values: string }[] {
  return Object.entries(series).map(([selector, values]) => ({
    series: selector.includes('{') ? selector.replace('{', '{job="openrtc",') : `${selector}{job="openrtc"}`,
    values,
  }));
}

/** promtool durations: whole minutes. */
const minutes = (m: number) => `${m}m`;

function forMinutes(rule: AlertRule): number {
  const match = /^(\d+)m$/.exec(rule.for);
  if (!match) throw new Error(`${rule.alert}: for "${rule.for}" is not in whole minutes`);
  return Number(match[1]);
}

function scenarioTest(rule: AlertRule, scenario: Scenario) {
  const firesAt = scenario.trueFrom + forMinutes(rule);
  return {
    name: `${rule.alert}: silent just before its for: elapses, then firing for the failing subject alone`,
    interval: '1m',
    input_series: withJob(scenario.series),
    alert_rule_test: [
      { eval_time: minutes(firesAt - 1), alertname: rule.alert, exp_alerts: [] },
      {
        eval_time: minutes(firesAt),
        alertname: rule.alert,
        exp_alerts: [{
          exp_labels: { severity: rule.labels.severity, ...scenario.labels },
          exp_annotations: { summary: rule.annotations.summary, description: scenario.description, runbook_url: rule.annotations.runbook_url },
        }],
      },
    ],
  };
}

/** The promtool test file: one test per alert, and an hour of a healthy tenant. */
export function renderRuleTests(): string {
  const rules = allRules();
  const byName = new Map(rules.map((r) => [r.alert, r]));
  const missing = rules.filter((r) => !SCENARIOS.some((s) => s.alert === r.alert)).map((r) => r.alert);
  if (missing.length > 0) throw new Error(`alerts without a test scenario: ${missing.join(', ')}`);
  const tests = SCENARIOS.map((scenario) => {
    const rule = byName.get(scenario.alert);
    if (!rule) throw new Error(`scenario for unknown alert ${scenario.alert}`);
    return scenarioTest(rule, scenario);
  });
  tests.push({
    name: 'a healthy tenant on healthy workers never alerts',
    interval: '1m',
    input_series: withJob(HEALTHY),
    alert_rule_test: rules.flatMap((rule) =>
      [15, 30, 45, 60].map((m) => ({ eval_time: minutes(m), alertname: rule.alert, exp_alerts: [] }))),
  });
  const header = '# Generated by `npm run generate` from alerts/tests/scenarios.ts: edit that file, not this one.\n'
    + '# Run: promtool test rules alerts/tests/openrtc-alerts.test.yaml\n';
  return header + stringify({ rule_files: ['../openrtc-alerts.yaml'], evaluation_interval: '1m', tests }, { lineWidth: 0 });
}
