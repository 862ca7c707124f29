// Reads the committed dashboard JSON the way Grafana would: panels, their targets and the
// variables, plus the substitution Grafana does before a query reaches Prometheus.
import { readFileSync } from 'node:fs';

export interface DashboardTarget {
  refId: string;
  expr?: string;
  query?: string;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
  fieldConfig?: { defaults?: { unit?: string; mappings?: unknown[] } };
}

export interface DashboardVariable {
  type: string;
  name: string;
  query?: string | { query: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  refresh?: number;
  regex?: string;
  datasource?: { type: string; uid: string };
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export const DASHBOARD_FILES = ['openrtc-tenant.json', 'openrtc-pool.json'] as const;

export function readDashboard(file: string): DashboardJson {
  return JSON.parse(readFileSync(new URL(`../../dashboards/${file}`, import.meta.url), 'utf8')) as DashboardJson;
}

export function contentPanels(d: DashboardJson): DashboardPanel[] {
  return d.panels.filter((p) => p.type !== 'row');
}

export interface PromTarget {
  panel: string;
  refId: string;
  expr: string;
}

export function prometheusTargets(d: DashboardJson): PromTarget[] {
  return contentPanels(d).flatMap((p) => (p.targets ?? [])
    .filter((t) => (t.datasource ?? p.datasource)?.type === 'prometheus')
    .map((t) => ({ panel: p.title ?? '', refId: t.refId, expr: t.expr ?? '' })));
}

export function variableQuery(v: DashboardVariable): string {
  return typeof v.query === 'string' ? v.query : v.query?.query ?? '';
}

/** What Grafana puts in place of the variables before sending a query to Prometheus. */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$(__\w+|\w+)/g, (whole, name: string) => values[name] ?? whole);
}
