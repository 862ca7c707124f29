// The dashboards openrtc ships, built with Grafana's foundation SDK. `npm run generate`
// writes each one to dashboards/<file> as provisioning-ready JSON: a fixed uid derived from
// the file name, the `$datasource` variable in every Prometheus query, no `__inputs`.
// A new section is a panel module in ./panels returning panel builders, added to a
// dashboard's `sections` below.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { DashboardBuilder, DashboardCursorSync, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard, Panel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { datasourceVariable, instanceVariable, jobVariable, tenantVariable } from './common.js';
import { costPanels, traceIdVariable } from './panels/cost.js';
import { firstDayPanels } from './panels/first_day.js';
import { onboardingPanels } from './panels/onboarding.js';
import { tenantsSideBySidePanels, workerPanels } from './panels/pool.js';

export interface DashboardSpec {
  /** File under dashboards/; the uid is this name without `.json`. */
  file: string;
  title: string;
  description: string;
  withTenant: boolean;
  /** Variables after the Prometheus ones (a text box, say). */
  extraVariables?: () => Builder<VariableModel>[];
  sections: { title: string; panels: () => Builder<Panel>[] }[];
}

export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    file: 'openrtc-tenant.json',
    title: 'openrtc / Tenant',
    description: 'One or more tenants: verify an onboarding, then watch the first day of traffic.',
    withTenant: true,
    extraVariables: () => [traceIdVariable()],
    sections: [
      { title: 'Onboarding verification', panels: onboardingPanels },
      { title: 'First-day watch', panels: firstDayPanels },
      { title: 'Cost (voicegateway)', panels: costPanels },
    ],
  },
  {
    file: 'openrtc-pool.json',
    title: 'openrtc / Pool',
    description: 'Every tenant side by side, and the workers that host them.',
    withTenant: false,
    sections: [
      { title: 'Tenants side by side', panels: tenantsSideBySidePanels },
      { title: 'Workers', panels: workerPanels },
    ],
  },
];

export function uidOf(spec: DashboardSpec): string {
  return spec.file.replace(/\.json$/, '');
}

export function buildDashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(uidOf(spec))
    .description(spec.description)
    .tags(['openrtc'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(datasourceVariable())
    .withVariable(jobVariable())
    .withVariable(instanceVariable());
  if (spec.withTenant) builder.withVariable(tenantVariable());
  for (const variable of spec.extraVariables?.() ?? []) builder.withVariable(variable);
  for (const section of spec.sections) {
    builder.withRow(new RowBuilder(section.title));
    for (const panel of section.panels()) builder.withPanel(panel);
  }
  const dashboard = builder.build();
  // Stable panel ids, so links to a panel (viewPanel=N) survive a regeneration.
  dashboard.panels?.forEach((panel, index) => {
    panel.id = index + 1;
  });
  return dashboard;
}

export function renderDashboard(spec: DashboardSpec): string {
  return `${JSON.stringify(buildDashboard(spec), null, 2)}\n`;
}
