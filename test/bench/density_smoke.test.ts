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
 * sessions, two seconds of steady state) and checks that its report is complete and sane.
 * It checks that work happened, not how fast: the figures themselves are the benchmark's
 * business, and a busy machine must not fail this test. The run is bounded by its own
 * work (two sessions, two seconds, the script's own generous settle limits), so the time
 * limits here are only a backstop against a hang.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('bench/density (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openrtc-density-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs two openrtc sessions of Silero VAD in two worker processes and reports memory (RSS and PSS), lag, CPU and VAD progress', async () => {
    const json = join(dir, 'report.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/density/run.ts', '--hosts', 'openrtc', '--n', '2', '--seconds', '2', '--settle', '0.5', '--workers', '2', '--json', json],
      { cwd: ROOT, timeout: 280_000 },
    );
    expect(stdout).toContain('N = 2');
    const report = JSON.parse(readFileSync(json, 'utf8')) as DensityReport;
    expect(report.results).toHaveLength(1);
    const [result] = report.results;
    // One event-loop report per worker process; the primary hosts no session.
    expect(result).toMatchObject({ host: 'openrtc', n: 2, workers: 2, sessionsRunning: 2, lagProcesses: 2, leftoverProcesses: 0, sessionErrors: [] });
    expect(result!.baselineRssBytes).toBeGreaterThan(50 * 1024 * 1024);
    // PSS counts shared pages once: never more than RSS, and more than nothing.
    expect(result!.steadyPssBytes).toBeGreaterThan(50 * 1024 * 1024);
    expect(result!.steadyPssBytes).toBeLessThanOrEqual(result!.steadyRssBytes);
    expect(result!.perSessionPssBytes).toBeCloseTo(result!.steadyPssBytes / 2);
    expect(result!.cpuMsPerSessionSecond).toBeGreaterThan(0);
    expect(Number.isFinite(result!.loadAverage1m)).toBe(true);
    expect(report.load.atStart).toBeGreaterThanOrEqual(0);
    expect(result!.steadyRssBytes).toBeGreaterThan(result!.baselineRssBytes * 0.9);
    expect(result!.steadyRssSamples.length).toBeGreaterThanOrEqual(3);
    // Every session pushed audio and ran Silero on it; how much per second depends on the machine.
    expect(result!.framesPerSessionMin).toBeGreaterThan(0);
    expect(result!.inferencesPerSessionMin).toBeGreaterThan(0);
    expect(result!.realtimeFactorMin).toBeGreaterThan(0);
    expect(Number.isFinite(result!.lagP99Ms)).toBe(true);
    expect(result!.lagP99Ms).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
