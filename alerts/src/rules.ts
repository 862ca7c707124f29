// Prometheus alert rules for openrtc, in the monitoring-mixin style: CamelCase names with
// one prefix, a `severity` label, a static `summary`, a `description` templated with the
// series' labels and value, and a `runbook_url` to the alert's heading in
// docs/runbooks/alerts.md. `npm run generate` writes them to alerts/openrtc-alerts.yaml.

/** Where the runbook headings live; the anchor is the alert name in lower case. */
export const RUNBOOK_BASE = 'https://github.com/openrtc/openrtc/blob/main/docs/runbooks/alerts.md';

/** The scrape job that reads openrtc workers (docker-compose and the tests use this name). */
export const JOB_SELECTOR = 'job="openrtc"';

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

function rule(alert: string, severity: Severity, forDuration: string, expr: string, summary: string, description: string): AlertRule {
  return {
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${RUNBOOK_BASE}#${alert.toLowerCase()}` },
  };
}

const J = JOB_SELECTOR;

const tenantRules: AlertRule[] = [
  rule('OpenRtcTenantBreakerOpen', 'critical', '1m',
    // Max over 5 minutes: after the cooldown the breaker half-opens for a probe, and a tenant
    // whose probes keep failing must not resolve and re-fire every cycle.
    `max by (job, tenant) (max_over_time(openrtc_tenant_breaker_state{${J}}[5m])) == 2`,
    'A tenant\'s circuit breaker is open: its new calls are refused.',
    'The circuit breaker of tenant {{ $labels.tenant }} (job {{ $labels.job }}) is open: too many of its sessions failed, and its new calls are refused with circuit_open.'),
  rule('OpenRtcTenantFailureRatioHigh', 'warning', '10m',
    `(
  sum by (job, tenant) (increase(openrtc_sessions_ended_total{${J}, outcome="failed"}[15m]))
  /
  sum by (job, tenant) (increase(openrtc_sessions_ended_total{${J}, outcome=~"success|failed"}[15m]))
) > 0.2
and
sum by (job, tenant) (increase(openrtc_sessions_ended_total{${J}, outcome=~"success|failed"}[15m])) >= 10`,
    'Many of a tenant\'s sessions fail.',
    '{{ $value | humanizePercentage }} of the sessions of tenant {{ $labels.tenant }} (job {{ $labels.job }}) failed over the last 15 minutes.'),
  rule('OpenRtcTenantNearCap', 'warning', '15m',
    `max by (job, tenant) (openrtc_tenant_cap_utilization_ratio{${J}}) >= 0.9`,
    'A tenant runs close to its session cap.',
    'Tenant {{ $labels.tenant }} (job {{ $labels.job }}) has used {{ $value | humanizePercentage }} of its session cap for 15 minutes; its next calls may be refused with tenant_cap.'),
  rule('OpenRtcTenantCapRefusals', 'warning', '5m',
    `sum by (job, tenant) (increase(openrtc_admission_refusals_total{${J}, reason="tenant_cap"}[10m])) > 0`,
    'Calls of a tenant are refused by its session cap.',
    'Tenant {{ $labels.tenant }} (job {{ $labels.job }}) had {{ $value | humanize }} calls refused by its session cap over the last 10 minutes.'),
  rule('OpenRtcGlobalCapRefusals', 'warning', '5m',
    `sum by (job) (increase(openrtc_admission_refusals_total{${J}, reason="global_cap"}[10m])) > 0`,
    'Calls are refused because the workers are full.',
    '{{ $value | humanize }} calls were refused by maxConcurrentSessions in job {{ $labels.job }} over the last 10 minutes.'),
  rule('OpenRtcTenantRefusalsSpiking', 'warning', '5m',
    `(
  sum by (job, tenant) (increase(openrtc_admissions_total{${J}, decision="refused"}[10m]))
  /
  sum by (job, tenant) (increase(openrtc_admissions_total{${J}}[10m]))
) > 0.25
and
sum by (job, tenant) (increase(openrtc_admissions_total{${J}}[10m])) >= 10`,
    'A large share of a tenant\'s calls are refused.',
    '{{ $value | humanizePercentage }} of the calls of tenant {{ $labels.tenant }} (job {{ $labels.job }}) were refused over the last 10 minutes.'),
  rule('OpenRtcTenantConfigLoadsFailing', 'warning', '5m',
    `sum by (job, tenant) (increase(openrtc_tenant_config_loads_total{${J}, result=~"error|timeout"}[15m])) >= 3`,
    'A tenant\'s config cannot be loaded.',
    'The tenant config loader failed or timed out {{ $value | humanize }} times for tenant {{ $labels.tenant }} (job {{ $labels.job }}) over the last 15 minutes; those calls were refused with config_error.'),
  rule('OpenRtcTenantProviderErrors', 'warning', '5m',
    `sum by (job, tenant, component, provider) (increase(openrtc_provider_errors_total{${J}, kind="unrecoverable"}[15m])) >= 3`,
    'A tenant\'s provider keeps failing its sessions.',
    'The {{ $labels.component }} provider {{ $labels.provider }} of tenant {{ $labels.tenant }} (job {{ $labels.job }}) reported {{ $value | humanize }} unrecoverable errors over the last 15 minutes.'),
  rule('OpenRtcTenantTurnLatencyHigh', 'warning', '10m',
    `histogram_quantile(0.95, sum by (job, tenant, le) (rate(openrtc_turn_latency_seconds_bucket{${J}}[10m]))) > 2
and on (job, tenant)
sum by (job, tenant) (increase(openrtc_turn_latency_seconds_count{${J}}[10m])) >= 20`,
    'A tenant\'s callers wait long for the agent to answer.',
    'The 95th percentile of the turn latency of tenant {{ $labels.tenant }} (job {{ $labels.job }}) is {{ $value | humanizeDuration }} over the last 10 minutes.'),
  rule('OpenRtcTenantLlmSlow', 'warning', '10m',
    `histogram_quantile(0.95, sum by (job, tenant, provider, model, le) (rate(openrtc_llm_ttft_seconds_bucket{${J}}[10m]))) > 1.5
and on (job, tenant, provider, model)
sum by (job, tenant, provider, model) (increase(openrtc_llm_ttft_seconds_count{${J}}[10m])) >= 20`,
    'A tenant\'s LLM is slow to start answering.',
    'The 95th percentile of the LLM time to first token of tenant {{ $labels.tenant }} ({{ $labels.provider }} {{ $labels.model }}, job {{ $labels.job }}) is {{ $value | humanizeDuration }}.'),
];

const workerRules: AlertRule[] = [
  rule('OpenRtcWorkerDown', 'critical', '2m',
    `up{${J}} == 0`,
    'An openrtc worker cannot be scraped.',
    'Prometheus has not scraped the openrtc worker {{ $labels.instance }} (job {{ $labels.job }}) for 2 minutes: it is down or unreachable, and its sessions are not visible.'),
  rule('OpenRtcWorkersAbsent', 'critical', '5m',
    `absent(up{${J}})`,
    'No openrtc worker is known to Prometheus.',
    'Prometheus has no openrtc target in job {{ $labels.job }}: service discovery lost every worker, or none is deployed.'),
  rule('OpenRtcDrainTooLong', 'warning', '35m',
    // A drain cancels what is left after drainTimeoutMs (default 30 minutes) and exits.
    `max by (job, instance) (openrtc_worker_draining{${J}}) == 1`,
    'A worker has been draining for longer than its drain timeout.',
    'Worker {{ $labels.instance }} (job {{ $labels.job }}) has been draining for over 35 minutes; it should have cancelled its last sessions and exited after drainTimeoutMs.'),
  rule('OpenRtcEventLoopLagHigh', 'warning', '5m',
    `max by (job, instance) (openrtc_event_loop_lag_seconds{${J}, quantile="0.99"}) > 0.1`,
    'A worker\'s event loop is blocked: every session on it stutters.',
    'The event loop of worker {{ $labels.instance }} (job {{ $labels.job }}) lags {{ $value | humanizeDuration }} at the 99th percentile; the sessions it hosts hear delayed audio.'),
  rule('OpenRtcTenantLabelLimitReached', 'warning', '5m',
    // Refused calls of tenants without a label are counted under ~other too; an accepted
    // call there means an admitted tenant found the label budget used up.
    `group by (job, instance) (openrtc_admissions_total{${J}, tenant="~other", decision="accepted"} > 0)`,
    'A worker folds tenants into tenant="~other".',
    'Worker {{ $labels.instance }} (job {{ $labels.job }}) has admitted more tenants than its tenantLabelLimit; later tenants are counted under tenant="~other" and cannot be told apart on dashboards.'),
];

export const RULE_GROUPS: readonly RuleGroup[] = [
  { name: 'openrtc-tenants', rules: tenantRules },
  { name: 'openrtc-workers', rules: workerRules },
];

/** Every alert, in file order. */
export function allRules(): AlertRule[] {
  return RULE_GROUPS.flatMap((group) => group.rules);
}
