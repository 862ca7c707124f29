import { describe, expect, it } from 'vitest';
import { type Graph, cycles, importGraph, layerViolations, srcDirOf } from './dependency_rules.js';

const graph = importGraph(srcDirOf(import.meta.url));

describe('the layers of src/', () => {
  it('reads the imports of every source file', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('pool/agent_pool.ts')?.length).toBeGreaterThan(0);
  });

  it('has no import that points up the layer order', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it('has no import cycle, counting `import type`', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });
});

describe('the dependency checker', () => {
  it('reports an import against the layer order', () => {
    const bad: Graph = new Map([
      ['admission/reservation_store.ts', ['pool/agent_pool.ts']],
      ['pool/agent_pool.ts', []],
    ]);
    expect(layerViolations(bad)).toEqual([
      'admission/reservation_store.ts (admission) imports pool/agent_pool.ts (pool), a layer above it',
    ]);
  });

  it('reports a cycle inside one layer', () => {
    const bad: Graph = new Map([
      ['session/a.ts', ['session/b.ts']],
      ['session/b.ts', ['session/c.ts']],
      ['session/c.ts', ['session/a.ts']],
    ]);
    expect(cycles(bad)).toEqual([['session/a.ts', 'session/b.ts', 'session/c.ts', 'session/a.ts']]);
  });

  it('reports a file outside every layer', () => {
    expect(layerViolations(new Map([['stray/x.ts', []]]))).toEqual(['stray/x.ts is in no layer: add its folder to LAYERS']);
  });
});
