import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { DensityReport } from '../../bench/density/run.js';

/**
 * Keeps the density benchmark from rotting: runs the real script (openrtc side only, two
 * sessions, two seconds of steady state) and checks that its numbers are sane.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('bench/density (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openrtc-density-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs two openrtc sessions of Silero VAD and reports memory, lag and VAD progress', async () => {
    const json = join(dir, 'report.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/density/run.ts', '--hosts', 'openrtc', '--n', '2', '--seconds', '2', '--settle', '0.5', '--json', json],
      { cwd: ROOT, timeout: 19_000 },
    );
    expect(stdout).toContain('N = 2');
    const report = JSON.parse(readFileSync(json, 'utf8')) as DensityReport;
    expect(report.results).toHaveLength(1);
    const [result] = report.results;
    expect(result).toMatchObject({ host: 'openrtc', n: 2, sessionsRunning: 2, lagProcesses: 1, leftoverProcesses: 0, sessionErrors: [] });
    expect(result!.baselineRssBytes).toBeGreaterThan(50 * 1024 * 1024);
    expect(result!.steadyRssBytes).toBeGreaterThan(result!.baselineRssBytes * 0.9);
    expect(result!.steadyRssSamples.length).toBeGreaterThanOrEqual(3);
    // Two seconds of 20 ms frames is 100 frames; Silero runs one inference per 32 ms window.
    expect(result!.framesPerSessionMin).toBeGreaterThan(50);
    expect(result!.inferencesPerSessionMin).toBeGreaterThan(20);
    expect(result!.realtimeFactorMin).toBeGreaterThan(0.5);
    expect(Number.isFinite(result!.lagP99Ms)).toBe(true);
    expect(result!.lagP99Ms).toBeGreaterThanOrEqual(0);
  }, 20_000);
});
