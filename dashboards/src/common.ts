// Shared pieces of openrtc's dashboards: datasources, variables, selectors and small panel
// factories, so every panel gets a title, a description, a unit and the datasource variable
// the same way. Panel modules (dashboards/src/panels/*.ts) use these and nothing else.
import { ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import {
  DatasourceVariableBuilder, MappingType, QueryVariableBuilder, VariableRefresh, VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataSourceRef, ValueMappingResult } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PromQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/** Every Prometheus query goes through the dashboard's one datasource variable. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
/**
 * Logs and traces come from datasources provisioned with these fixed uids (see
 * deploy/grafana/provisioning/datasources/datasources.yaml): a dashboard has one
 * datasource variable, the Prometheus one.
 */
export const LOKI: DataSourceRef = { type: 'loki', uid: 'openrtc-loki' };
export const TEMPO: DataSourceRef = { type: 'tempo', uid: 'openrtc-tempo' };

/** Matchers every worker-level query carries. */
export const WORKER = 'job=~"$job", instance=~"$instance"';
/** Matchers every tenant-level query carries. */
export const TENANT = `${WORKER}, tenant=~"$tenant"`;

export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

function labelVariable(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query({ query, refId: `${name}-variable` })
    .definition(query)
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

export function jobVariable(): QueryVariableBuilder {
  return labelVariable('job', 'Job', 'label_values(openrtc_build_info, job)');
}

export function instanceVariable(): QueryVariableBuilder {
  return labelVariable('instance', 'Instance', 'label_values(openrtc_build_info{job=~"$job"}, instance)');
}

/**
 * Tenants from a series every tenant has from its first admission on (configured tenants
 * from the start), without the `~other` and `~invalid` markers.
 */
export function tenantVariable(): QueryVariableBuilder {
  return labelVariable('tenant', 'Tenant', `label_values(openrtc_admission_refusals_total{${WORKER}}, tenant)`)
    .regex('/^[A-Za-z0-9_-]+$/');
}

export interface Query {
  expr: string;
  legend: string;
}

function promTargets(queries: Query[]): PromQuery[] {
  return queries.map((q, i) =>
    new PromQuery().datasource(PROMETHEUS).expr(q.expr).legendFormat(q.legend).refId(String.fromCharCode(65 + i)));
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Grid width (of 24) and height. */
  span?: number;
  height?: number;
}

export function timeseries(spec: PanelSpec): TimeseriesPanel {
  return new TimeseriesPanel()
    .title(spec.title).description(spec.description).unit(spec.unit)
    .datasource(PROMETHEUS).targets(promTargets(spec.queries))
    .span(spec.span ?? 12).height(spec.height ?? 8)
    .fillOpacity(10).min(0);
}

export function stat(spec: PanelSpec): StatPanel {
  return new StatPanel()
    .title(spec.title).description(spec.description).unit(spec.unit)
    .datasource(PROMETHEUS).targets(promTargets(spec.queries).map((t) => t.instant()))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .span(spec.span ?? 6).height(spec.height ?? 5);
}

export interface StateSpec extends Omit<PanelSpec, 'unit'> {
  /** Value -> [text, colour]. */
  states: Record<number, [string, string]>;
}

export function stateTimeline(spec: StateSpec): StateTimelinePanel {
  const options: Record<string, ValueMappingResult> = Object.fromEntries(
    Object.entries(spec.states).map(([value, [text, color]], index) => [value, { text, color, index }]));
  return new StateTimelinePanel()
    .title(spec.title).description(spec.description).unit('none')
    .datasource(PROMETHEUS).targets(promTargets(spec.queries))
    .mappings([{ type: MappingType.ValueToText, options }])
    .span(spec.span ?? 12).height(spec.height ?? 8);
}

/** `histogram_quantile` over a histogram family, grouped by `by` (plus `le`). */
export function quantile(q: number, family: string, matchers: string, by: string[] = []): string {
  const group = [...by, 'le'].join(', ');
  return `histogram_quantile(${q}, sum by (${group}) (rate(${family}_bucket{${matchers}}[$__rate_interval])))`;
}
