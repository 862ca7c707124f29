// A real Prometheus and Alertmanager for end-to-end tests (Debian's packages, installed by
// .ci/run), each on port 0 with the real port read from its log, plus a webhook receiver
// that records what Alertmanager sends.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from './tools.js';

interface Daemon {
  url: string;
  stop(): Promise<void>;
}

/** Spawns a Prometheus-family server and resolves with its URL once it logs the port it listens on. */
function spawnDaemon(name: 'prometheus' | 'prometheus-alertmanager', args: string[]): Promise<Daemon> {
  const child: ChildProcess = spawn(tool(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise<Daemon>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not report its port within 20 s:\n${log}`)), 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = /msg="Listening on" address=([\d.]+:\d+)/.exec(log);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stderr?.removeAllListeners('data');
      // Keep draining the pipes so the daemon never blocks on a full one.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve({
        url: `http://${match[1]}`,
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${name} exited with ${code}:\n${log}`)));
  });
}

export interface WebhookReceiver {
  url: string;
  /** Every alert Alertmanager posted, in order. */
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const alerts: WebhookReceiver['alerts'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const payload = JSON.parse(body) as { alerts?: WebhookReceiver['alerts'] };
      alerts.push(...(payload.alerts ?? []));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    alerts,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface Stack {
  prometheus: Daemon;
  alertmanager: Daemon;
  /** Instant query at the current time; throws on an API error. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Values of a label among series matching a selector (what Grafana's label_values runs). */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Polls an instant query until `accept` holds for its result; rejects after `timeoutMs`. */
  waitFor(expr: string, accept: (result: { metric: Record<string, string>; value: number }[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** host:port of the worker's metrics endpoint. */
  target: string;
  /** Rule file contents (YAML). */
  rules: string;
  webhookUrl: string;
  /** Scrape and rule evaluation interval. */
  interval: string;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const text = await response.text();
  let body: { status?: string; data?: T; error?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${url}: ${response.status} ${text.slice(0, 200)}`);
  }
  if (!response.ok || body.status === 'error') throw new Error(`${url}: ${response.status} ${body.error ?? ''}`);
  return body.data as T;
}

/**
 * Both servers log their port before they serve: Prometheus answers 503 "Service Unavailable"
 * until its TSDB is open, which a loaded CI machine stretches to seconds. `/-/ready` says when.
 */
async function waitReady(daemon: Daemon, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${daemon.url}/-/ready`);
      if (response.ok) return;
      last = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} at ${daemon.url} was not ready within ${timeoutMs} ms; last answer: ${last}`);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'openrtc-prom-'));
  writeFileSync(join(dir, 'alertmanager.yml'), [
    'route:',
    '  receiver: webhook',
    '  group_by: [alertname, tenant]',
    '  group_wait: 0s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: webhook',
    '    webhook_configs:',
    `      - url: ${options.webhookUrl}`,
    '        send_resolved: false',
    '',
  ].join('\n'));
  const alertmanager = await spawnDaemon('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`,
    '--web.listen-address=127.0.0.1:0', '--cluster.listen-address=',
  ]);
  try {
    await waitReady(alertmanager, 'Alertmanager');
  } catch (error) {
    await alertmanager.stop();
    throw error;
  }
  writeFileSync(join(dir, 'rules.yml'), options.rules);
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:',
    `  scrape_interval: ${options.interval}`,
    `  evaluation_interval: ${options.interval}`,
    'rule_files: [rules.yml]',
    'alerting:',
    '  alertmanagers:',
    `    - static_configs: [{ targets: ["${alertmanager.url.replace('http://', '')}"] }]`,
    'scrape_configs:',
    '  - job_name: openrtc',
    `    static_configs: [{ targets: ["${options.target}"] }]`,
    '',
  ].join('\n'));
  let prometheus: Daemon;
  try {
    prometheus = await spawnDaemon('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
    ]);
    try {
      await waitReady(prometheus, 'Prometheus');
    } catch (error) {
      await prometheus.stop();
      throw error;
    }
  } catch (error) {
    await alertmanager.stop();
    throw error;
  }

  const query: Stack['query'] = async (expr) => {
    const data = await getJson<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    prometheus,
    alertmanager,
    query,
    labelValues: (label, match) =>
      getJson<string[]>(`${prometheus.url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`),
    async waitFor(expr, accept, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        last = await query(expr);
        if (accept(last as Awaited<ReturnType<typeof query>>)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`timed out waiting for ${what}; last result of ${expr}: ${JSON.stringify(last)}`);
    },
    async close() {
      await prometheus.stop();
      await alertmanager.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
