import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS, renderDashboard, uidOf } from '../../dashboards/src/dashboards.js';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import {
  DASHBOARD_FILES, contentPanels, prometheusTargets, readDashboard, variableQuery,
} from './dashboard_json.js';
import { metricNamesIn } from './promql.js';

const catalogued = new Set(METRIC_CATALOG.flatMap((m) => m.type === 'histogram'
  ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`]
  : [m.name]));

describe('dashboards', () => {
  it('are committed exactly as the generator writes them', () => {
    expect(DASHBOARDS.map((d) => d.file).sort()).toEqual([...DASHBOARD_FILES].sort());
    for (const spec of DASHBOARDS) {
      const committed = readFileSync(new URL(`../../dashboards/${spec.file}`, import.meta.url), 'utf8');
      expect(committed, spec.file).toBe(renderDashboard(spec));
    }
  });

  it('have fixed, unique uids derived from their file names, and no export-for-sharing inputs', () => {
    const uids = DASHBOARD_FILES.map((file) => readDashboard(file).uid);
    expect(uids).toEqual(['openrtc-tenant', 'openrtc-pool']);
    expect(new Set(uids).size).toBe(uids.length);
    for (const spec of DASHBOARDS) expect(readDashboard(spec.file).uid).toBe(uidOf(spec));
    for (const file of DASHBOARD_FILES) {
      const text = readFileSync(new URL(`../../dashboards/${file}`, import.meta.url), 'utf8');
      expect(text).not.toContain('__inputs');
      expect(text).not.toContain('${DS_');
    }
    expect(readDashboard('openrtc-tenant.json').title).toBe('openrtc / Tenant');
    expect(readDashboard('openrtc-pool.json').title).toBe('openrtc / Pool');
  });

  it('have exactly one datasource variable, then multi-select job and instance (and tenant) with all-value .+', () => {
    for (const file of DASHBOARD_FILES) {
      const vars = readDashboard(file).templating.list;
      expect(vars.filter((v) => v.type === 'datasource'), file).toEqual([expect.objectContaining({ name: 'datasource', query: 'prometheus' })]);
      expect(vars[0]?.name).toBe('datasource');
      const expected = file === 'openrtc-tenant.json' ? ['job', 'instance', 'tenant'] : ['job', 'instance'];
      const queries = vars.filter((v) => v.type === 'query');
      expect(queries.map((v) => v.name), file).toEqual(expected);
      for (const v of queries) {
        expect(v, `${file} $${v.name}`).toMatchObject({ multi: true, includeAll: true, allValue: '.+', refresh: 2 });
        expect(v.datasource?.uid).toBe('${datasource}');
        expect(variableQuery(v)).toMatch(/^label_values\(/);
      }
    }
  });

  it('give every panel a title, a description and a unit or value mappings', () => {
    for (const file of DASHBOARD_FILES) {
      for (const panel of contentPanels(readDashboard(file))) {
        const name = `${file}: ${panel.title ?? `panel ${panel.id}`}`;
        expect(panel.title, name).toBeTruthy();
        expect(panel.description, name).toBeTruthy();
        if (panel.type === 'logs') continue; // log lines have no unit
        const defaults = panel.fieldConfig?.defaults ?? {};
        expect(Boolean(defaults.unit) || (defaults.mappings?.length ?? 0) > 0, `${name} unit or mappings`).toBe(true);
      }
      const titles = contentPanels(readDashboard(file)).map((p) => p.title);
      expect(new Set(titles).size, `${file} titles unique`).toBe(titles.length);
    }
  });

  it('query Prometheus through $datasource only, and logs and traces through the provisioned uids', () => {
    for (const file of DASHBOARD_FILES) {
      for (const panel of contentPanels(readDashboard(file))) {
        for (const target of panel.targets ?? []) {
          const ds = target.datasource ?? panel.datasource;
          if (ds?.type === 'prometheus') expect(ds.uid, `${file}: ${panel.title}`).toBe('${datasource}');
          else expect(['openrtc-loki', 'openrtc-tempo', 'openrtc-voicegateway'], `${file}: ${panel.title}`).toContain(ds?.uid);
        }
      }
    }
    const tenant = readDashboard('openrtc-tenant.json');
    expect(contentPanels(tenant).find((p) => p.type === 'logs')?.datasource).toEqual({ type: 'loki', uid: 'openrtc-loki' });
    expect(contentPanels(tenant).find((p) => p.title === 'Tenant call traces')?.datasource).toEqual({ type: 'tempo', uid: 'openrtc-tempo' });
    // Cost comes from voicegateway's PostgreSQL (its queries run against a real one in test/voicegateway).
    for (const title of ['Cost by tenant', 'Cost rows of a trace']) {
      expect(contentPanels(tenant).find((p) => p.title === title)?.datasource, title)
        .toEqual({ type: 'grafana-postgresql-datasource', uid: 'openrtc-voicegateway' });
    }
  });

  it('follow the dashboard-linter rules: job and instance matchers, $__rate_interval in every rate, catalogued metrics', () => {
    let rateCalls = 0;
    for (const file of DASHBOARD_FILES) {
      const targets = prometheusTargets(readDashboard(file));
      expect(targets.length).toBeGreaterThan(10);
      for (const { panel, expr } of targets) {
        const where = `${file}: ${panel}: ${expr}`;
        const selectors = expr.match(/[a-z_]+\{[^}]*\}/g) ?? [];
        expect(selectors.length, where).toBeGreaterThan(0);
        for (const selector of selectors) {
          expect(selector, where).toContain('job=~"$job"');
          expect(selector, where).toContain('instance=~"$instance"');
          if (file === 'openrtc-tenant.json' && !selector.startsWith('openrtc_event_loop_lag_seconds')) {
            expect(selector, where).toContain('tenant=~"$tenant"');
          }
        }
        for (const call of expr.matchAll(/\b(rate|irate|increase)\(([^()]|\([^()]*\))*?\[([^\]]+)\]/g)) {
          expect(call[3], where).toBe('$__rate_interval');
          rateCalls++;
        }
        for (const name of metricNamesIn(expr)) expect(name === 'up' || catalogued.has(name), `${where}: ${name}`).toBe(true);
      }
    }
    expect(rateCalls).toBeGreaterThan(20);
  });

  it('cover the onboarding verification and the first-day watch', () => {
    const tenant = contentPanels(readDashboard('openrtc-tenant.json')).map((p) => p.title);
    for (const title of ['First session seen', 'Sessions since worker start, by agent', 'Refusals by reason since worker start',
      'Config loads by result', 'Tenant logs', 'Tenant call traces', 'Active sessions vs cap', 'Cap utilization', 'Failure ratio',
      'Session outcomes', 'Breaker state', 'Session duration p50 / p95', 'Turn latency by stage p50 / p95', 'Provider errors',
      'LLM tokens by provider and model', 'Event-loop lag of the workers serving the tenant']) {
      expect(tenant).toContain(title);
    }
    const pool = contentPanels(readDashboard('openrtc-pool.json')).map((p) => p.title);
    for (const title of ['Top tenants by active sessions', 'Refusals by reason', 'Breaker opens by tenant', 'Cap utilization by tenant',
      'Worker load', 'Draining workers', 'Admission latency p50 / p99', 'Event-loop lag', '~other and ~invalid volume', 'Build versions', 'Targets up']) {
      expect(pool).toContain(title);
    }
  });
});
