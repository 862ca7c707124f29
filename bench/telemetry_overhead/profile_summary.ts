// Summarises V8 profiles written by the benchmark: CPU profiles (BENCH_CPU_PROFILE_DIR),
// self time per function and per package, and allocation profiles (BENCH_HEAP_PROFILE_DIR),
// bytes allocated per function and per package; given the "on" and "off" sets, the
// difference between them.
//   tsx bench/telemetry_overhead/profile_summary.ts <dir> [top]
// reads <dir>/{on,off,control}-*.cpuprofile and -*.heapprofile, averages each set per run,
// and prints the functions and packages whose self time (or allocation) grew most from off to on.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** A node of a sampling heap profile (`HeapProfiler.stopSampling`): bytes allocated at this frame. */
interface HeapProfileNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapProfileNode[];
}
interface HeapProfile {
  head: HeapProfileNode;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

type Totals = Map<string, number>;

/**
 * Ms per key over a profile's samples: `keyFor` names what a sample (its leaf node's id)
 * is charged to, or undefined to leave it out. A sample's time is the delta to the next one.
 */
function chargeSamples(profile: Profile, keyFor: (leaf: number) => string | undefined): Totals {
  const totals: Totals = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const key = keyFor(samples[i]!);
    if (key !== undefined) totals.set(key, (totals.get(key) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
  return totals;
}

/** Self time in ms per key, from sample time deltas. */
function selfTimes(profile: Profile, keyOf: (node: ProfileNode) => string): Totals {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  return chargeSamples(profile, (leaf) => {
    const node = byId.get(leaf);
    return node === undefined ? undefined : keyOf(node);
  });
}

/** KB allocated per key: every sampled allocation the profile kept, collected ones included. */
function allocatedKb(profile: HeapProfile, keyOf: (node: ProfileNode) => string): Totals {
  const totals: Totals = new Map();
  const stack = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const key = keyOf({ id: 0, callFrame: node.callFrame });
    totals.set(key, (totals.get(key) ?? 0) + node.selfSize / 1024);
    stack.push(...node.children);
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

/**
 * Whether a frame is telemetry's own code: pino, OpenTelemetry, openrtc's telemetry modules
 * and the secret scrubber every log line and span passes through.
 */
function isTelemetryFrame(node: ProfileNode): boolean {
  const url = node.callFrame.url;
  return /node_modules\/(pino|@opentelemetry|quick-format-unescaped|fast-redact|sonic-boom)\//.test(url)
    || /\/src\/telemetry\//.test(url) || url.endsWith('/src/util/secret_scrubber.js');
}

/** Frames that belong to no package: Node's internals, natives, the VM's own entries. */
function isPackageless(node: ProfileNode): boolean {
  const url = node.callFrame.url;
  return url === '' || url.startsWith('node:');
}

/**
 * Time spent inside telemetry, by the call that entered it. For each sample, the frames
 * are walked from the leaf towards the root past Node's internals (a `Buffer.from` that
 * pino calls is pino's cost); the first frame of a package decides: telemetry or not. A
 * telemetry sample is charged to the outermost frame of its unbroken run of telemetry
 * frames, the entry point (pino's log method, a pool event listener, `Tracer.startSpan`).
 * Wrappers such as the context manager's `with` count only for their own frames: the
 * agents-js work they run is agents-js's. Garbage collection has no stack and is left out
 * (the self-time table shows it).
 */
function telemetryEntryTimes(profile: Profile, keyOf: (node: ProfileNode) => string): Totals {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  return chargeSamples(profile, (leaf) => {
    let id: number | undefined = leaf;
    while (id !== undefined && isPackageless(byId.get(id)!)) id = parentOf.get(id);
    if (id === undefined || !isTelemetryFrame(byId.get(id)!)) return undefined;
    let entry = byId.get(id)!;
    // Climb the run of telemetry frames (and the internals between them) to its outermost one.
    for (let up = parentOf.get(id); up !== undefined; up = parentOf.get(up)) {
      const node = byId.get(up)!;
      if (isPackageless(node)) continue;
      if (!isTelemetryFrame(node)) break;
      entry = node;
    }
    return keyOf(entry);
  });
}

function average<P>(profiles: P[], keyOf: (node: ProfileNode) => string, measure: (p: P, keyOf: (node: ProfileNode) => string) => Totals): Totals {
  const sum: Totals = new Map();
  for (const p of profiles) for (const [k, v] of measure(p, keyOf)) sum.set(k, (sum.get(k) ?? 0) + v);
  for (const [k, v] of sum) sum.set(k, v / profiles.length);
  return sum;
}

function diffTable(on: Totals, off: Totals, top: number, title: string, unit = 'ms'): string {
  const keys = new Set([...on.keys(), ...off.keys()]);
  const rows = [...keys].map((k) => ({ k, on: on.get(k) ?? 0, off: off.get(k) ?? 0 }))
    .sort((a, b) => b.on - b.off - (a.on - a.off)).slice(0, top);
  const total = (t: Totals) => [...t.values()].reduce((a, b) => a + b, 0);
  return [
    `${title} (${unit} per run; total on ${total(on).toFixed(0)}, off ${total(off).toFixed(0)})`,
    `${`+${unit}`.padStart(6)}      on     off  name`,
    ...rows.map((r) => `${(r.on - r.off).toFixed(1).padStart(6)} ${r.on.toFixed(1).padStart(7)} ${r.off.toFixed(1).padStart(7)}  ${r.k}`),
  ].join('\n');
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: profile_summary.ts <dir> [top]');
const top = Number(process.argv[3] ?? 40);
const load = <P>(prefix: string, extension: string) => readdirSync(dir)
  .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith(extension))
  .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as P);

const on = load<Profile>('on', '.cpuprofile');
const off = load<Profile>('off', '.cpuprofile');
if (on.length > 0 || off.length > 0) {
  console.log(`${on.length} "on" and ${off.length} "off" CPU profiles`);
  console.log(diffTable(average(on, packageOf, selfTimes), average(off, packageOf, selfTimes), 20, 'Self time by package'));
  console.log();
  console.log(diffTable(average(on, functionOf, selfTimes), average(off, functionOf, selfTimes), top, 'Self time by function'));
  console.log();
  // "off" runs a little of this code too (the session's async context lives in
  // src/telemetry): its figure is the classification's floor.
  console.log(diffTable(average(on, functionOf, telemetryEntryTimes), average(off, functionOf, telemetryEntryTimes), top, 'Time inside telemetry code, by entry point'));
}

// Allocation is far steadier than CPU time on a shared machine: the same variant's runs
// agree to a fraction of a percent, so a change's effect on it shows in one round.
const heaps = { on: load<HeapProfile>('on', '.heapprofile'), off: load<HeapProfile>('off', '.heapprofile'), control: load<HeapProfile>('control', '.heapprofile') };
if (heaps.on.length > 0 || heaps.off.length > 0) {
  const totalMb = (p: HeapProfile) => [...allocatedKb(p, packageOf).values()].reduce((a, b) => a + b, 0) / 1024;
  if (on.length > 0 || off.length > 0) console.log();
  console.log('MiB allocated during each measured phase (sampled, collected objects included):');
  for (const [variant, list] of Object.entries(heaps)) console.log(`  ${variant.padEnd(7)} ${list.map((p) => totalMb(p).toFixed(1)).join(' ')}`);
  console.log(diffTable(average(heaps.on, packageOf, allocatedKb), average(heaps.off, packageOf, allocatedKb), 20, 'Allocation by package', 'KB'));
  console.log();
  console.log(diffTable(average(heaps.on, functionOf, allocatedKb), average(heaps.off, functionOf, allocatedKb), top, 'Allocation by function', 'KB'));
}
