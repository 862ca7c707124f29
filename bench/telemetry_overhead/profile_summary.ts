// Summarises V8 CPU profiles written by the benchmark (BENCH_CPU_PROFILE_DIR): self time per
// function and per package, and, given two sets, the difference between them.
//   tsx bench/telemetry_overhead/profile_summary.ts <dir> [top]
// reads <dir>/on-*.cpuprofile and <dir>/off-*.cpuprofile, averages each set per run, and
// prints the functions and packages whose self time grew most from off to on.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

type Totals = Map<string, number>;

/** Self time in ms per key, from sample time deltas. */
function selfTimes(profile: Profile, keyOf: (node: ProfileNode) => string): Totals {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals: Totals = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the delta to the next one.
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const node = byId.get(samples[i]!);
    if (!node) continue;
    const key = keyOf(node);
    totals.set(key, (totals.get(key) ?? 0) + ms);
  }
  return totals;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function packageOf(node: ProfileNode): string {
  const url = node.callFrame.url;
  if (!url) return `(${node.callFrame.functionName || 'native'})`;
  if (url.startsWith('node:')) return 'node:internal';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/src/')) return 'openrtc:' + url.slice(url.indexOf('/src/') + 5).split('/')[0];
  return url;
}

function functionOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
}

function average(profiles: Profile[], keyOf: (node: ProfileNode) => string): Totals {
  const sum: Totals = new Map();
  for (const p of profiles) for (const [k, v] of selfTimes(p, keyOf)) sum.set(k, (sum.get(k) ?? 0) + v);
  for (const [k, v] of sum) sum.set(k, v / profiles.length);
  return sum;
}

function diffTable(on: Totals, off: Totals, top: number, title: string): string {
  const keys = new Set([...on.keys(), ...off.keys()]);
  const rows = [...keys].map((k) => ({ k, on: on.get(k) ?? 0, off: off.get(k) ?? 0 }))
    .sort((a, b) => b.on - b.off - (a.on - a.off)).slice(0, top);
  const total = (t: Totals) => [...t.values()].reduce((a, b) => a + b, 0);
  return [
    `${title} (ms per run; total on ${total(on).toFixed(0)}, off ${total(off).toFixed(0)})`,
    '   +ms      on     off  name',
    ...rows.map((r) => `${(r.on - r.off).toFixed(1).padStart(6)} ${r.on.toFixed(1).padStart(7)} ${r.off.toFixed(1).padStart(7)}  ${r.k}`),
  ].join('\n');
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: profile_summary.ts <dir> [top]');
const top = Number(process.argv[3] ?? 40);
const load = (prefix: string) => readdirSync(dir)
  .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.cpuprofile'))
  .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Profile);
const on = load('on');
const off = load('off');
console.log(`${on.length} "on" and ${off.length} "off" profiles`);
console.log(diffTable(average(on, packageOf), average(off, packageOf), 20, 'Self time by package'));
console.log();
console.log(diffTable(average(on, functionOf), average(off, functionOf), top, 'Self time by function'));
