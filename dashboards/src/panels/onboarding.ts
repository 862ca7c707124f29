// "Onboarding verification": the checks of the onboarding runbook's verify step, for the
// tenants chosen in $tenant. They read raw counters (since the worker started), so a
// tenant's very first call shows even though `increase()` cannot see a series' first sample.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as LokiQuery } from '@grafana/grafana-foundation-sdk/loki';
import { PanelBuilder as LogsPanel } from '@grafana/grafana-foundation-sdk/logs';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { DataqueryBuilder as TempoQuery } from '@grafana/grafana-foundation-sdk/tempo';
import { LOKI, TEMPO, TENANT, stat, timeseries } from '../common.js';

export function onboardingPanels(): Builder<Panel>[] {
  return [
    stat({
      title: 'First session seen',
      description: 'When a session of the tenant first ran in the selected time range (per tenant). Empty: no call has reached a worker yet; check the dispatch metadata carries the tenant id.',
      unit: 'dateTimeAsIso',
      queries: [{
        expr: `1000 * min by (tenant) (min_over_time(timestamp(sum by (tenant) (openrtc_sessions_started_total{${TENANT}}) > 0)[$__range:$__interval]))`,
        legend: '{{tenant}}',
      }],
      span: 8,
    }),
    stat({
      title: 'Sessions since worker start, by agent',
      description: 'Sessions started per tenant and agent since each worker started. A call routed to the wrong agent shows here under that agent.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, agent) (openrtc_sessions_started_total{${TENANT}})`, legend: '{{tenant}} / {{agent}}' }],
      span: 8,
    }),
    stat({
      title: 'Admission decisions since worker start',
      description: 'Calls accepted and refused per tenant since each worker started.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, decision) (openrtc_admissions_total{${TENANT}})`, legend: '{{tenant}} {{decision}}' }],
      span: 8,
    }),
    timeseries({
      title: 'Refusals by reason since worker start',
      description: 'Refused calls per tenant and stable reason code (circuit_open, tenant_cap, global_cap, config_error, unknown_agent, draining). All zero is the expected state.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, reason) (openrtc_admission_refusals_total{${TENANT}})`, legend: '{{tenant}} {{reason}}' }],
    }),
    timeseries({
      title: 'Config loads by result',
      description: 'Tenant config resolutions since worker start: static, cache_hit, loaded, error, timeout. error or timeout means calls were refused with config_error.',
      unit: 'short',
      queries: [
        { expr: `sum by (tenant, result) (openrtc_tenant_config_loads_total{${TENANT}})`, legend: '{{tenant}} {{result}}' },
        { expr: `sum by (tenant) (increase(openrtc_tenant_config_loads_total{${TENANT}, result=~"error|timeout"}[$__rate_interval]))`, legend: '{{tenant}} failed loads' },
      ],
    }),
    new LogsPanel()
      .title('Tenant logs')
      .description('The tenant\'s log records (openrtc and agents-js), from Loki over OTLP; tenant arrives as structured metadata. Expand a record and follow its trace_id into the trace.')
      .datasource(LOKI)
      .withTarget(new LokiQuery().datasource(LOKI).refId('A').expr('{service_name="openrtc"} | tenant=~"$tenant"'))
      .showTime(true).wrapLogMessage(true).enableLogDetails(true)
      .span(12).height(10),
    new TablePanel()
      .title('Tenant call traces')
      .description('Recent sessions of the tenant from Tempo: one trace per call, from the admission decision through the session to agents-js turn, LLM and TTS spans.')
      .unit('none')
      .datasource(TEMPO)
      .withTarget(new TempoQuery().datasource(TEMPO).refId('A').queryType('traceql').limit(20)
        .query('{ name = "openrtc.session" && span.openrtc.tenant =~ "$tenant" }'))
      .span(12).height(10),
  ];
}
