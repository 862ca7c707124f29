import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRuleFile } from '../../alerts/src/render.js';
import { allRules } from '../../alerts/src/rules.js';
import { renderRuleTests } from '../../alerts/tests/scenarios.js';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import { metricNamesIn } from './promql.js';
import { runTool } from './tools.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('alert rules', () => {
  it('are committed exactly as the generator writes them, with their promtool tests', () => {
    expect(read('alerts/openrtc-alerts.yaml')).toBe(renderRuleFile());
    expect(read('alerts/tests/openrtc-alerts.test.yaml')).toBe(renderRuleTests());
  });

  it('pass promtool check rules', async () => {
    const out = await runTool('promtool', ['check', 'rules', 'alerts/openrtc-alerts.yaml'], root.pathname);
    expect(out).toContain(`SUCCESS: ${allRules().length} rules found`);
  });

  it('pass promtool test rules: each alert silent before its for:, firing at it, a healthy tenant never', async () => {
    const out = await runTool('promtool', ['test', 'rules', 'alerts/tests/openrtc-alerts.test.yaml'], root.pathname);
    expect(out).toContain('SUCCESS');
    const tests = read('alerts/tests/openrtc-alerts.test.yaml');
    for (const rule of allRules()) expect(tests).toContain(`name: "${rule.alert}: silent just before`);
  });

  it('follow the mixin conventions: prefix, severity, static summary, templated description, runbook heading', () => {
    const runbook = read('docs/runbooks/alerts.md');
    const anchors = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
    const names = allRules().map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of allRules()) {
      expect(rule.alert).toMatch(/^OpenRtc[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).not.toContain('{{');
      expect(rule.annotations.description, rule.alert).toContain('{{ $labels.');
      const anchor = rule.annotations.runbook_url.split('#')[1];
      expect(anchor).toBe(rule.alert.toLowerCase());
      expect(anchors.has(anchor!), `docs/runbooks/alerts.md has a "## ${rule.alert}" heading`).toBe(true);
    }
    expect(allRules().find((r) => r.alert === 'OpenRtcTenantBreakerOpen')?.labels.severity).toBe('critical');
  });

  it('name only catalogued metrics, and read them through the openrtc job', () => {
    const catalogued = new Set(METRIC_CATALOG.flatMap((m) => m.type === 'histogram'
      ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`]
      : [m.name]));
    for (const rule of allRules()) {
      const names = metricNamesIn(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) {
        expect(name === 'up' || catalogued.has(name), `${rule.alert}: ${name}`).toBe(true);
      }
      const selectors = rule.expr.match(/[a-z_]+\{[^}]*\}/g) ?? [];
      for (const selector of selectors) expect(selector, rule.alert).toContain('job="openrtc"');
    }
  });
});
