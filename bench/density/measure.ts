// The orchestrator: for one host, start a fresh stand-in server and a fresh host process,
// measure its idle baseline, then for each N add jobs until N sessions run VAD and measure
// a steady-state window; finally tear everything down and make sure no process is left.
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostEntryPoints } from './compile_hosts.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import { BENCH_WORKERS_ENV, HOST_ENV, type HostMessage, type OrchestratorMessage } from './host_ipc.js';
import { TICKS_PER_SECOND, type TreeSample, byRole, isAlive, machineCpuTicks, sampleTree } from './process_tree.js';
import { ENV_FRAME_MS, ENV_STATS_DIR, writeJsonAtomic } from './report_files.mjs';
import type { MeasurementWindow, ProcessLagReport, VadSessionStats } from './vad_session.mjs';

export type HostKind = 'openrtc' | 'agents-js';
export const HOST_KINDS: readonly HostKind[] = ['openrtc', 'agents-js'];

const API_KEY = 'density-key';
const API_SECRET = 'density-secret-density-secret-0123456';

export interface MeasureOptions {
  /** Steady-state window per host and N, in seconds. */
  seconds: number;
  /** Quiet time before the baseline and between "all running" and the window, in seconds. */
  settleSeconds: number;
  /** agents-js warm idle processes. */
  idleProcesses: number;
  frameMs: 10 | 20;
  /** openrtc: worker processes (1: the pool in the host process). */
  workers: number;
  /** A window where any session's VAD got through less audio than this per wall second is marked invalid. */
  minRealtimeFactor: number;
  /** Keep each run's folder (host log, session and lag reports). */
  keep: boolean;
  log: (line: string) => void;
  /**
   * Ramp mode: a step whose calls the worker refuses (full: the server finds no worker) is
   * measured with the sessions the worker kept, and ends the ramp; otherwise a refusal
   * fails that N.
   */
  ramp?: boolean;
  /** The host programs: compiled (as deployed) or the TypeScript sources under tsx. */
  entryPoints: HostEntryPoints;
}

export interface HostResult {
  host: HostKind;
  n: number;
  /** Set when this host could not reach or measure N sessions; the numbers are then NaN. */
  error?: string;
  /** Median RSS of the whole host tree with 0 sessions. */
  baselineRssBytes: number;
  /** Median RSS of the whole host tree during the steady-state window. */
  steadyRssBytes: number;
  /** Median PSS of the whole host tree with 0 sessions, and during the window. */
  baselinePssBytes: number;
  steadyPssBytes: number;
  /**
   * The lowest and highest PSS sampled in the window: a wide gap is memory still moving
   * (garbage piling up between full collections), which the median alone hides.
   */
  steadyPssMinBytes: number;
  steadyPssMaxBytes: number;
  /** steady PSS / N: the headline, shared pages counted once. */
  perSessionPssBytes: number;
  /** openrtc worker processes (1 for agents-js, whose processes are counted in steadyProcesses). */
  workers: number;
  /** Host CPU per session-second during the window, in ms (hostCpuCores * 1000 / N). */
  cpuMsPerSessionSecond: number;
  /** Set when the window does not count: a session's VAD fell behind real time (below `minRealtimeFactor`). */
  invalid?: string;
  /** What the host's workers had last reported to the server before this step's calls were offered. */
  reportedBefore?: { status: string; load: number }[];
  /** Ramp mode: the worker refused some of this step's calls; N is what it kept. */
  refusal?: { offered: number; accepted: number; reason: string };
  /** 1-minute load average of the machine when the window closed (`uptime`). */
  loadAverage1m: number;
  /** Sessions per hosting process (openrtc with --workers: how the server spread them). */
  sessionsPerProcess: number[];
  steadyRssSamples: number[];
  baselineProcesses: number;
  steadyProcesses: number;
  /** (steady - baseline) / N. */
  perSessionOverBaselineBytes: number;
  /** steady / N. */
  perSessionTotalBytes: number;
  /** openrtc: its one process; agents-js: the max over job processes of each one's p99. */
  lagP99Ms: number;
  /** The median over reporting processes of their p99 (the same as lagP99Ms for openrtc). */
  lagP99MedianMs: number;
  lagMaxMs: number;
  lagProcesses: number;
  sessionsRunning: number;
  /** VAD inference windows per session during the window (min and median over sessions). */
  inferencesPerSessionMin: number;
  inferencesPerSessionMedian: number;
  framesPerSessionMin: number;
  /** Audio the VAD got through per wall-clock second during the window (1.0 keeps up). */
  realtimeFactorMin: number;
  realtimeFactorMedian: number;
  /** START_OF_SPEECH events of all sessions during the window. */
  speechStarts: number;
  sessionErrors: string[];
  /** From dispatching the jobs that bring the count to N to every session reporting VAD output, in seconds. */
  rampSeconds: number;
  windowSeconds: number;
  /** CPU used during the window, in cores: the host tree, and everything else on the machine
   * except this orchestrator (other work sharing the cores makes lag and VAD pace worse). */
  hostCpuCores: number;
  otherCpuCores: number;
  /** Processes that were still alive after the host stopped and had to be killed. */
  leftoverProcesses: number;
  processNames: Record<string, number>;
  /** RSS by process role (main, job, inference, ...) at the baseline and at the end of the window. */
  baselineByRole: Record<string, { processes: number; rssBytes: number }>;
  steadyByRole: Record<string, { processes: number; rssBytes: number }>;
}

function describeRoles(roles: Record<string, { processes: number; rssBytes: number }>): string {
  return Object.entries(roles).map(([role, r]) => `${role} ${r.processes}x ${mib(r.rssBytes)}`).join(', ');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function readJsonFiles<T>(dir: string, prefix: string): T[] {
  const out: T[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as T);
    } catch {
      // Being replaced right now; the next poll reads it.
    }
  }
  return out;
}

/** Every pid a host tree ever showed, so teardown can prove all of them are gone. */
const livePids = new Set<number>();

/** Kills every process any measurement started that is still alive (used on Ctrl-C too). */
export function killAllLeftovers(): number {
  let killed = 0;
  for (const pid of livePids) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // gone meanwhile
      }
    }
    livePids.delete(pid);
  }
  return killed;
}

async function waitUntil<T>(check: () => T | undefined | false, what: string, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Resolves once the tree has kept the same processes, and its RSS has stayed within 3 %,
 * for `quietMs`.
 */
async function waitForQuietTree(sample: () => TreeSample, quietMs: number, what: string, timeoutMs: number): Promise<void> {
  let shape = '';
  let since = Date.now();
  let rssAtSince = 0;
  await waitUntil(() => {
    const s = sample();
    const now = s.processes.map((p) => p.pid).sort((a, b) => a - b).join(',');
    if (now !== shape || Math.abs(s.totalRssBytes - rssAtSince) > 0.03 * rssAtSince) {
      shape = now;
      since = Date.now();
      rssAtSince = s.totalRssBytes;
    }
    return Date.now() - since >= quietMs;
  }, what, timeoutMs);
}

class HostProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private startedPid: number | undefined;

  constructor(host: HostKind, entryPoints: HostEntryPoints, env: NodeJS.ProcessEnv, logFile: string) {
    const logFd = openSync(logFile, 'a');
    this.child = fork(entryPoints[host], [], {
      execArgv: entryPoints.execArgv,
      env,
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    closeSync(logFd);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (message: HostMessage) => {
      if (message.type === 'started') this.startedPid = message.pid;
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('the host process did not start');
    return pid;
  }

  get started(): boolean {
    return this.startedPid !== undefined;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    const message: OrchestratorMessage = { type: 'stop' };
    if (this.child.connected) this.child.send(message);
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

interface Refusal {
  refused: number;
  reason: string;
  refusedCalls: DispatchedCall[];
}

/** Waits for every call to be assigned or refused; describes the refusals, if any. */
async function assignedOrRefused(calls: DispatchedCall[]): Promise<Refusal | undefined> {
  const answers = await Promise.all(calls.map(async (call) => {
    const availability = await call.availability;
    if (availability.available) await call.assigned;
    return { call, availability };
  }));
  const refused = answers.filter((a) => !a.availability.available);
  if (refused.length === 0) return undefined;
  const reasons = [...new Set(refused.map((a) => a.availability.reason ?? 'the worker answered unavailable'))];
  return { refused: refused.length, reason: reasons.join(', '), refusedCalls: refused.map((a) => a.call) };
}

/**
 * Measures one host at each N in `ns` (ascending): one fresh stand-in server and one host
 * process; the idle baseline once, then jobs are added up to each N in turn and a
 * steady-state window is measured there. Everything it starts is gone when it returns.
 */
export async function measureHost(host: HostKind, ns: number[], options: MeasureOptions): Promise<HostResult[]> {
  const { log } = options;
  // Reports go to tmpfs where there is one: on a virtual disk a write + rename can stall
  // for tens of ms, which would show up as event-loop lag that is not the host's.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `openrtc-density-${host}-`));
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [HOST_ENV.url]: server.url,
    [HOST_ENV.apiKey]: API_KEY,
    [HOST_ENV.apiSecret]: API_SECRET,
    [HOST_ENV.idleProcesses]: String(options.idleProcesses),
    [ENV_STATS_DIR]: dir,
    [ENV_FRAME_MS]: String(options.frameMs),
    [BENCH_WORKERS_ENV]: String(host === 'openrtc' ? options.workers : 1),
  };
  const logFile = join(dir, 'host.log');
  const hostProcess = new HostProcess(host, options.entryPoints, env, logFile);
  const rootPid = hostProcess.pid;
  const sample = (): TreeSample => {
    const s = sampleTree(rootPid);
    for (const p of [...s.processes, ...s.excluded]) livePids.add(p.pid);
    if (!hostProcess.running) throw new Error(`the ${host} host process exited`);
    return s;
  };
  const calls: DispatchedCall[] = [];
  const results: HostResult[] = [];
  const running = (): VadSessionStats[] => readJsonFiles<VadSessionStats>(dir, 'session-').filter((s) => s.inferences > 0);
  try {
    const settleMs = Math.max(500, options.settleSeconds * 1000);
    await waitUntil(() => hostProcess.started || !hostProcess.running, 'the host to start', 120_000);
    if (!hostProcess.running) throw new Error(`the ${host} host exited during start-up`);
    await server.waitForWorker({}, 60_000);

    // Idle baseline: agents-js warms its idle processes one at a time; wait until the tree
    // has stopped changing, then take the median of a few samples.
    await waitForQuietTree(sample, settleMs, 'the idle host to settle', 180_000);
    const baselineSamples: TreeSample[] = [];
    for (let i = 0; i < 5; i++) {
      if (i > 0) await sleep(250);
      baselineSamples.push(sample());
    }
    const baselineRssBytes = median(baselineSamples.map((s) => s.totalRssBytes));
    const baselinePssBytes = median(baselineSamples.map((s) => s.totalPssBytes));
    const baselineProcesses = baselineSamples.at(-1)!.processes.length;
    const baselineByRole = byRole(baselineSamples.at(-1)!.processes);
    log(`  ${host}: idle baseline RSS ${mib(baselineRssBytes)} MiB, PSS ${mib(baselinePssBytes)} MiB (load ${loadavg()[0]!.toFixed(2)}) in ${baselineProcesses} process(es) (MiB: ${describeRoles(baselineByRole)})`);

    for (const n of [...ns].sort((a, b) => a - b)) {
      try {
        const dispatchedAt = Date.now();
        const added = n - calls.length;
        for (let i = calls.length; i < n; i++) {
          calls.push(server.dispatch({
            roomName: `density-${host}-${i}`,
            // openrtc joins a simulated room (no SFU); the agents-js job never connects at all.
            ...(host === 'openrtc' ? { simulated: { turns: [], hangupAfterLastReply: false } } : {}),
          }));
        }
        const reportedBefore = server.workers.filter((w) => w.connected).map((w) => ({ status: w.status, load: w.load }));
        const refusal = await assignedOrRefused(calls.slice(calls.length - added));
        if (refusal) {
          // The worker turned calls away (it said it was full, so the server had no worker
          // for them). Keep the ones it took and measure the host right where it refused.
          if (!options.ramp) throw new Error(`${refusal.refused} of ${added} calls refused (${refusal.reason})`);
          for (const call of refusal.refusedCalls) calls.splice(calls.indexOf(call), 1);
          log(`  ${host} N=${n}: the worker refused ${refusal.refused} of ${added} new calls (${refusal.reason}); measuring its ${calls.length} sessions`);
        }
        const target = calls.length;
        // Give up when no further session has come up for a while (agents-js fails a job
        // whose process does not initialise in time; those jobs never arrive).
        let live = 0;
        let progressAt = Date.now();
        await waitUntil(() => {
          sample();
          const now = running().length;
          if (now > live) {
            live = now;
            progressAt = Date.now();
          }
          if (Date.now() - progressAt > 150_000) throw new Error(`only ${live} of ${target} sessions came up; none more in 150 s`);
          return now >= target;
        }, `${target} sessions to run VAD`, 60_000 + added * 10_000, 500);
        const rampSeconds = (Date.now() - dispatchedAt) / 1000;
        log(`  ${host} N=${n}: ${added} more sessions running after ${rampSeconds.toFixed(1)} s; settling, then ${options.seconds} s steady state`);
        // agents-js replaces the idle processes that jobs took; the window starts once those are warm.
        await waitForQuietTree(sample, settleMs, 'the loaded host to settle', 180_000);
        const result = await measureWindow(target, rampSeconds);
        result.reportedBefore = reportedBefore;
        if (refusal) result.refusal = { offered: n, accepted: target, reason: refusal.reason };
        if (result.error) log(`  ${host} N=${n}: INVALID: ${result.error}`);
        else if (result.invalid) log(`  ${host} N=${n}: INVALID: ${result.invalid}`);
        result.baselineRssBytes = baselineRssBytes;
        result.baselinePssBytes = baselinePssBytes;
        result.baselineProcesses = baselineProcesses;
        result.baselineByRole = baselineByRole;
        log(`  ${host} N=${n}: steady RSS ${mib(result.steadyRssBytes)} MiB, PSS ${mib(result.steadyPssBytes)} MiB, load ${result.loadAverage1m.toFixed(2)}; sessions per process ${host === 'openrtc' ? result.sessionsPerProcess.join('/') : `${result.sessionsPerProcess.length} processes`} (MiB at window end: ${describeRoles(result.steadyByRole)})`);
        result.perSessionOverBaselineBytes = (result.steadyRssBytes - baselineRssBytes) / target;
        results.push(result);
        if (refusal) break;
      } catch (error: unknown) {
        // Keep what was measured at smaller N; report this N as failed and stop ramping.
        const message = error instanceof Error ? error.message : String(error);
        log(`  ${host} N=${n}: FAILED: ${message}`);
        results.push(failedResult(host, n, message));
        break;
      }
    }
    return results;
  } catch (error: unknown) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    throw new Error(`${host}: ${error instanceof Error ? error.message : String(error)}${tail ? `\n--- host log tail ---\n${tail}` : ''}`, { cause: error });
  } finally {
    try {
      if (hostProcess.running) sample();
    } catch {
      // exited meanwhile
    }
    // End the calls as the caller would, then stop the host and wait for every process.
    for (const call of calls) {
      try {
        if (host === 'openrtc') call.hangup();
        else call.terminate();
      } catch {
        // already over
      }
    }
    await hostProcess.stop(45_000);
    await waitUntil(() => [...livePids].every((pid) => !isAlive(pid)), 'every host process to exit', 15_000).catch(() => undefined);
    const leftoverProcesses = killAllLeftovers();
    for (const result of results) result.leftoverProcesses = leftoverProcesses;
    log(`  ${host}: stopped; ${leftoverProcesses === 0 ? 'every process exited by itself' : `killed ${leftoverProcesses} process(es) left behind`}`);
    await server.close();
    if (!options.keep && results.every((r) => !r.error)) rmSync(dir, { recursive: true, force: true });
    else log(`  ${host}: reports and host log kept in ${dir}`);
  }

  async function measureWindow(n: number, rampSeconds: number): Promise<HostResult> {
    const window: MeasurementWindow = { id: `n${n}`, startAt: Date.now() + 300, endAt: Date.now() + 300 + options.seconds * 1000 };
    writeJsonAtomic(join(dir, 'window.json'), window);
    await sleep(window.startAt - Date.now());
    const before = new Map(running().map((s) => [s.sessionId, s]));
    const cpuBefore = { machine: machineCpuTicks(), tree: sample(), self: process.cpuUsage(), at: Date.now() };
    const steadySamples: TreeSample[] = [];
    const sampleEveryMs = Math.min(2000, (options.seconds * 1000) / 6);
    while (Date.now() + sampleEveryMs / 2 < window.endAt) {
      await sleep(sampleEveryMs / 2);
      steadySamples.push(sample());
      await sleep(Math.max(0, Math.min(sampleEveryMs / 2, window.endAt - Date.now())));
    }
    await sleep(Math.max(0, window.endAt - Date.now()));
    const cpuAfter = { machine: machineCpuTicks(), tree: sample(), self: process.cpuUsage(cpuBefore.self), at: Date.now() };
    const cpuSeconds = (cpuAfter.at - cpuBefore.at) / 1000;
    const treeTicks = new Map(cpuBefore.tree.processes.map((p) => [p.pid, p.cpuTicks]));
    const hostTicks = cpuAfter.tree.processes.reduce((sum, p) => sum + p.cpuTicks - (treeTicks.get(p.pid) ?? p.cpuTicks), 0);
    const hostCpuCores = hostTicks / TICKS_PER_SECOND / cpuSeconds;
    const selfCores = (cpuAfter.self.user + cpuAfter.self.system) / 1e6 / cpuSeconds;
    const machineCores = (cpuAfter.machine.busy - cpuBefore.machine.busy) / TICKS_PER_SECOND / cpuSeconds;
    // Session reports are up to a second old; rates use each report's own timestamps.
    const after = running();
    const prefix = `lag-${window.id}-`;
    const expectedLagReports = host === 'openrtc' ? options.workers : n;
    const lagReports = await waitUntil(() => {
      const reports = readJsonFiles<ProcessLagReport>(dir, prefix);
      return reports.length >= expectedLagReports ? reports : undefined;
    }, `${expectedLagReports} event-loop reports`, 10_000).catch(() => readJsonFiles<ProcessLagReport>(dir, prefix));

    const perSession = after.flatMap((end) => {
      const start = before.get(end.sessionId);
      if (!start) return [];
      const wallMs = end.updatedAt - start.updatedAt;
      return [{
        inferences: end.inferences - start.inferences,
        frames: end.framesPushed - start.framesPushed,
        realtime: wallMs > 0 ? (end.audioInferredMs - start.audioInferredMs) / wallMs : 0,
      }];
    });
    const steadyRssBytes = median(steadySamples.map((s) => s.totalRssBytes));
    const steadyPss = steadySamples.map((s) => s.totalPssBytes);
    const steadyPssBytes = median(steadyPss);
    const realtimeFactorMin = perSession.length ? Math.min(...perSession.map((s) => s.realtime)) : 0;
    const behind = perSession.filter((s) => s.realtime < options.minRealtimeFactor).length;
    const slow = behind > 0
      ? `${behind} of ${n} sessions' VAD fell below ${options.minRealtimeFactor} x real time (slowest ${realtimeFactorMin.toFixed(2)})`
      : undefined;
    const lastSteady = steadySamples.at(-1) ?? cpuAfter.tree;
    const processNames: Record<string, number> = {};
    for (const p of lastSteady.processes) processNames[p.comm] = (processNames[p.comm] ?? 0) + 1;
    for (const p of lastSteady.excluded) processNames[`${p.comm} (excluded)`] = (processNames[`${p.comm} (excluded)`] ?? 0) + 1;
    const p99s = lagReports.map((r) => r.p99Ms);
    // A session whose process died keeps its last report file: count only sessions that
    // processed audio during the window, and flag the window when any did not.
    const stalled = n - perSession.filter((p) => p.inferences > 0).length;
    const invalid = stalled > 0
      ? `${stalled} of ${n} sessions processed no audio during the window (the tree held ${lastSteady.processes.length} processes: ${JSON.stringify(byRole(lastSteady.processes))})`
      : undefined;
    return {
      ...(invalid ? { error: invalid } : {}),
      ...(slow ? { invalid: slow } : {}),
      host,
      n,
      baselineRssBytes: Number.NaN,
      steadyRssBytes,
      baselinePssBytes: Number.NaN,
      steadyPssBytes,
      steadyPssMinBytes: Math.min(...steadyPss),
      steadyPssMaxBytes: Math.max(...steadyPss),
      perSessionPssBytes: steadyPssBytes / n,
      workers: host === 'openrtc' ? options.workers : 1,
      cpuMsPerSessionSecond: (hostCpuCores * 1000) / n,
      loadAverage1m: loadavg()[0]!,
      sessionsPerProcess: sessionsPerProcess(after),
      steadyRssSamples: steadySamples.map((s) => s.totalRssBytes),
      baselineProcesses: 0,
      steadyProcesses: lastSteady.processes.length,
      perSessionOverBaselineBytes: Number.NaN,
      perSessionTotalBytes: steadyRssBytes / n,
      lagP99Ms: p99s.length ? Math.max(...p99s) : Number.NaN,
      lagP99MedianMs: median(p99s),
      lagMaxMs: lagReports.length ? Math.max(...lagReports.map((r) => r.maxMs)) : Number.NaN,
      lagProcesses: lagReports.length,
      sessionsRunning: after.length,
      inferencesPerSessionMin: perSession.length ? Math.min(...perSession.map((s) => s.inferences)) : 0,
      inferencesPerSessionMedian: median(perSession.map((s) => s.inferences)),
      framesPerSessionMin: perSession.length ? Math.min(...perSession.map((s) => s.frames)) : 0,
      realtimeFactorMin,
      realtimeFactorMedian: median(perSession.map((s) => s.realtime)),
      speechStarts: perSession.length ? after.reduce((sum, s) => sum + s.speechStarts - (before.get(s.sessionId)?.speechStarts ?? 0), 0) : 0,
      sessionErrors: after.flatMap((s) => (s.error ? [`${s.sessionId}: ${s.error}`] : [])),
      rampSeconds,
      windowSeconds: (window.endAt - window.startAt) / 1000,
      hostCpuCores,
      otherCpuCores: Math.max(0, machineCores - hostCpuCores - selfCores),
      leftoverProcesses: 0,
      processNames,
      baselineByRole: {},
      steadyByRole: byRole(lastSteady.processes),
    };
  }
}

/** How many sessions each process hosts, largest first. */
function sessionsPerProcess(sessions: VadSessionStats[]): number[] {
  const counts = new Map<number, number>();
  for (const s of sessions) counts.set(s.pid, (counts.get(s.pid) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => b - a);
}

function failedResult(host: HostKind, n: number, error: string): HostResult {
  const nan = Number.NaN;
  return {
    host, n, error, baselineRssBytes: nan, steadyRssBytes: nan, baselinePssBytes: nan, steadyPssBytes: nan, steadyPssMinBytes: nan, steadyPssMaxBytes: nan, perSessionPssBytes: nan,
    workers: 0, cpuMsPerSessionSecond: nan, loadAverage1m: loadavg()[0]!, sessionsPerProcess: [], steadyRssSamples: [], baselineProcesses: 0, steadyProcesses: 0,
    perSessionOverBaselineBytes: nan, perSessionTotalBytes: nan, lagP99Ms: nan, lagP99MedianMs: nan, lagMaxMs: nan, lagProcesses: 0,
    sessionsRunning: 0, inferencesPerSessionMin: 0, inferencesPerSessionMedian: nan, framesPerSessionMin: 0, realtimeFactorMin: nan,
    realtimeFactorMedian: nan, speechStarts: 0, sessionErrors: [], rampSeconds: nan, windowSeconds: 0, hostCpuCores: nan,
    otherCpuCores: nan, leftoverProcesses: 0, processNames: {}, baselineByRole: {}, steadyByRole: {},
  };
}

export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
