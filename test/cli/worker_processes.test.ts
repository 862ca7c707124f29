import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkerProcesses } from '../../src/cli/commands/worker_processes.js';

/*
 * The primary's restart policy, with real child processes that crash at once (a broken
 * configuration): each is restarted with a doubling delay, and after five fast crashes in
 * a row the primary gives up and exits 1 instead of restarting forever.
 */
describe('WorkerProcesses', () => {
  it('restarts a crashing child with a doubling delay and gives up with 1 after five fast crashes', async () => {
    const lines: string[] = [];
    const code = await new WorkerProcesses({
      count: 1,
      module: fileURLToPath(new URL('../fixtures/multicore/crashing_child.mjs', import.meta.url)),
      args: [],
      execArgv: [],
      env: process.env,
      holdStores: true,
      firstBackoffMs: 10,
      log: (line) => lines.push(line),
    }).run();
    expect(code).toBe(1);
    expect(lines.filter((l) => l.startsWith('restarting worker 0')).map((l) => /in (\d+) ms/.exec(l)?.[1])).toEqual(['20', '40', '80', '160']);
    expect(lines.filter((l) => /exited with code 1/.test(l))).toHaveLength(5);
    expect(lines.at(-1)).toMatch(/worker 0 crashed 5 times within 10 s of starting: giving up/);
  }, 60_000);
});
