// Writes the generated alert rules and dashboards that are committed beside their sources:
// alerts/openrtc-alerts.yaml, its promtool tests and dashboards/*.json. Tests fail when a committed file differs
// from what this would write.
import { writeFileSync } from 'node:fs';
import { renderRuleFile } from '../alerts/src/render.js';
import { renderRuleTests } from '../alerts/tests/scenarios.js';
import { DASHBOARDS, renderDashboard } from '../dashboards/src/dashboards.js';

const root = new URL('..', import.meta.url);
writeFileSync(new URL('alerts/openrtc-alerts.yaml', root), renderRuleFile());
writeFileSync(new URL('alerts/tests/openrtc-alerts.test.yaml', root), renderRuleTests());
for (const dashboard of DASHBOARDS) {
  writeFileSync(new URL(`dashboards/${dashboard.file}`, root), renderDashboard(dashboard));
}
