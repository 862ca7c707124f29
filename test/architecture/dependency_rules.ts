// The layer order of src/ and a checker for it, kept apart from the test so that the
// test can also run the checker on made-up graphs and show that it fails.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Bottom to top. A module may import modules of its own layer or of a layer below; never
 * one above. Each entry lists path prefixes relative to src/.
 */
export const LAYERS: ReadonlyArray<{ name: string; paths: readonly string[] }> = [
  { name: 'core', paths: ['errors.ts', 'version.ts', 'util/'] },
  { name: 'tenancy', paths: ['tenancy/'] },
  { name: 'routing', paths: ['routing/'] },
  { name: 'admission', paths: ['admission/'] },
  { name: 'telemetry', paths: ['telemetry/'] },
  // Above telemetry: the Redis stores put a span on the call whose decision they serve.
  { name: 'fleet', paths: ['fleet/'] },
  { name: 'exporters', paths: ['voicegateway/'] },
  { name: 'session', paths: ['session/'] },
  { name: 'inspect', paths: ['inspect/'] },
  { name: 'worker', paths: ['worker/'] },
  { name: 'pool', paths: ['pool/'] },
  { name: 'edge', paths: ['index.ts', 'testing/', 'cli/'] },
];

export type Graph = Map<string, string[]>;

export function layerOf(file: string): number {
  const index = LAYERS.findIndex((layer) => layer.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  return index;
}

/** Every .ts/.tsx file under src/, relative to src/ with forward slashes. */
export function sourceFiles(srcDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(relative(srcDir, path).split('\\').join('/'));
    }
  };
  walk(srcDir);
  return found.sort();
}

/**
 * The relative imports of every file, `import type` and `export ... from` included
 * (the compiler's own pre-processor reads them; a regex would miss multi-line forms).
 */
export function importGraph(srcDir: string): Graph {
  const files = sourceFiles(srcDir);
  const known = new Set(files);
  const graph: Graph = new Map();
  for (const file of files) {
    const text = readFileSync(join(srcDir, file), 'utf8');
    const targets: string[] = [];
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, '');
      const target = [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`].find((candidate) => known.has(candidate));
      targets.push(target ?? `${base} (unresolved)`);
    }
    graph.set(file, targets);
  }
  return graph;
}

export function srcDirOf(testFileUrl: string): string {
  return resolve(dirname(new URL(testFileUrl).pathname), '../../src');
}

/** Imports that point up the layer order, and files in no layer. */
export function layerViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    const fromLayer = layerOf(from);
    if (fromLayer < 0) problems.push(`${from} is in no layer: add its folder to LAYERS`);
    for (const to of targets) {
      const toLayer = layerOf(to);
      if (toLayer < 0) problems.push(`${from} imports ${to}, which is in no layer`);
      else if (toLayer > fromLayer) {
        problems.push(`${from} (${LAYERS[fromLayer]?.name}) imports ${to} (${LAYERS[toLayer]?.name}), a layer above it`);
      }
    }
  }
  return problems;
}

/** Every import cycle between files (each reported once, as the path around it). */
export function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}
