import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '../../src/telemetry/metric_catalog.js';
import { OPENRTC_VERSION } from '../../src/version.js';

interface DocRow {
  name: string;
  type: string;
  unit: string;
  labels: string[];
}

function docRows(): DocRow[] {
  const doc = readFileSync(new URL('../../docs/telemetry.md', import.meta.url), 'utf8');
  return doc
    .split('\n')
    .filter((line) => line.startsWith('| `openrtc_'))
    .map((line) => {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      const unquote = (c: string) => c.replace(/^`|`$/g, '');
      return {
        name: unquote(cells[0]!),
        type: cells[1]!,
        unit: unquote(cells[2]!),
        labels: cells[3] === '(none)' ? [] : cells[3]!.split(',').map((l) => unquote(l.trim())),
      };
    });
}

describe('METRIC_CATALOG', () => {
  it('matches the table in docs/telemetry.md, row for row', () => {
    const fromCatalog = METRIC_CATALOG.map((m) => ({
      name: m.name, type: m.type, unit: m.unit, labels: [...m.labels, ...m.optionalLabels.map((l) => `${l}?`)],
    }));
    expect(docRows()).toEqual(fromCatalog);
  });

  it('follows the Prometheus naming rules the exporter relies on', () => {
    for (const m of METRIC_CATALOG) {
      expect(m.name).toMatch(/^openrtc_[a-z0-9_]+$/);
      expect(m.name.endsWith('_total')).toBe(m.type === 'counter');
      expect(m.instrument).toBe(m.type === 'counter' ? m.name.slice(0, -'_total'.length) : m.name);
      if (m.unit === 's') expect(m.name).toMatch(/_seconds(_total)?$/);
      for (const label of [...m.labels, ...m.optionalLabels]) {
        expect(['room', 'room_name', 'job', 'job_id', 'session', 'session_id']).not.toContain(label);
      }
    }
    expect(new Set(METRIC_CATALOG.map((m) => m.name)).size).toBe(METRIC_CATALOG.length);
  });
});

describe('OPENRTC_VERSION', () => {
  it('is the package.json version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(OPENRTC_VERSION).toBe(pkg.version);
  });
});
