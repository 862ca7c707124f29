import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARD_FILES, contentPanels, readDashboard } from './dashboard_json.js';
import { runTool } from './tools.js';

const root = new URL('../../', import.meta.url).pathname;
const readYaml = <T>(path: string) => parse(readFileSync(join(root, path), 'utf8')) as T;

interface ComposeFile {
  services: Record<string, { image?: string; build?: unknown; volumes?: string[]; command?: string[] }>;
}
const compose = readYaml<ComposeFile>('docker-compose.yml');

describe('docker-compose.yml', () => {
  it('passes docker-compose config', async () => {
    await runTool('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], root);
  });

  it('runs the whole stack, every image pinned to an exact tag', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['alertmanager', 'grafana', 'livekit', 'loki', 'otel-collector', 'prometheus', 'redis', 'tempo', 'worker']);
    for (const [name, service] of Object.entries(compose.services)) {
      const image = service.image ?? '';
      expect(image, name).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+(-[\w.]+)?$/);
      expect(image, name).not.toMatch(/:latest$/);
    }
    expect(compose.services.worker?.build).toBe('.');
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:\d+\.\d+\.\d+-[\w-]+$/m);
  });

  it('mounts only files and folders that exist', () => {
    const mounts = Object.values(compose.services).flatMap((s) => s.volumes ?? []);
    expect(mounts.length).toBeGreaterThan(5);
    for (const mount of mounts) {
      const source = mount.split(':')[0]!;
      expect(source.startsWith('./'), mount).toBe(true);
      expect(existsSync(join(root, source)), mount).toBe(true);
    }
  });

  it('gives Prometheus a config that promtool accepts, with the alert rules it mounts beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtc-compose-'));
    try {
      // The same layout as in the container: prometheus.yml with alerts/ beside it.
      cpSync(join(root, 'deploy/prometheus/prometheus.yml'), join(dir, 'prometheus.yml'));
      cpSync(join(root, 'alerts'), join(dir, 'alerts'), { recursive: true });
      const out = await runTool('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      expect(out).toContain('SUCCESS: 1 rule files found');
      expect(out).toContain('SUCCESS: 15 rules found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(compose.services.prometheus?.volumes).toEqual(expect.arrayContaining([
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro', './alerts:/etc/prometheus/alerts:ro',
    ]));
    const config = readYaml<{ scrape_configs: { job_name: string }[] }>('deploy/prometheus/prometheus.yml');
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(['openrtc']);
  });

  it('gives Alertmanager a config that amtool accepts', async () => {
    const out = await runTool('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml'], root);
    expect(out).toContain('SUCCESS');
  });

  it('provisions the datasources the dashboards name, and the dashboards folder it mounts', () => {
    const { datasources } = readYaml<{ datasources: { uid: string; type: string }[] }>('deploy/grafana/provisioning/datasources/datasources.yaml');
    const byUid = new Map(datasources.map((d) => [d.uid, d.type]));
    const used = new Map<string, string>();
    for (const file of DASHBOARD_FILES) {
      for (const panel of contentPanels(readDashboard(file))) {
        for (const ref of [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)]) {
          if (ref && ref.uid !== '${datasource}') used.set(ref.uid, ref.type);
        }
      }
    }
    expect([...used.keys()].sort()).toEqual(['openrtc-loki', 'openrtc-tempo', 'openrtc-voicegateway']);
    for (const [uid, type] of used) expect(byUid.get(uid), uid).toBe(type);
    // The $datasource variable lists Prometheus datasources: one is provisioned.
    expect([...byUid.values()]).toContain('prometheus');

    const { providers } = readYaml<{ providers: { options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/dashboards.yaml');
    expect(compose.services.grafana?.volumes).toContain(`./dashboards:${providers[0]!.options.path}:ro`);
  });
});
