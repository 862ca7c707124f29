// Session density: openrtc (every session in one process) against agents-js's own
// process-per-job worker, N concurrent sessions each running Silero VAD in real time.
//   node --import tsx bench/density/run.ts [--n 10,25,50,100] [--seconds 20] [--hosts openrtc,agents-js] [--runs 3] [--from-source]
//                                           [--workers 1|N|auto] [--min-realtime 0.98]
//                                           [--idle production|N] [--frame-ms 20] [--settle 3] [--json out.json] [--keep]
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { compileHosts, sourceHosts } from './compile_hosts.js';
import { HOST_KINDS, type HostKind, killAllLeftovers, measureHost, median, mib, type HostResult } from './measure.js';

export interface DensityReport {
  startedAt: string;
  machine: { cpus: number; node: string };
  options: {
    ns: number[]; seconds: number; hosts: HostKind[]; idleProcesses: number; frameMs: number; settleSeconds: number; workers: number; minRealtimeFactor: number;
    /** Whole runs (both hosts, every N); the goals use the median over runs. */
    runs: number;
    /** Hosts compiled with tsc (as deployed) rather than run from source under tsx. */
    compiled: boolean;
    /** Ramp mode (see rampLines). */
    ramp: boolean;
  };
  /** 1-minute load average when the run started and ended (each result has its own at its window). */
  load: { atStart: number; atEnd: number };
  /** Every host's result, tagged with its run (1-based). */
  results: (HostResult & { run: number })[];
  /** Memory by total PSS / N (agents-js over openrtc) at N = 10 (goal 10x) and N = 50 (goal 20x); lag p99 at N = 50 (goal < 20 ms). */
  goals: {
    pssRatioAt10: number | null; pssRatioAt50: number | null; memoryGoalHolds: boolean | null;
    lagP99At50: number | null; lagGoalHolds: boolean | null;
  };
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string', default: '10,25,50' },
      seconds: { type: 'string', default: '20' },
      hosts: { type: 'string', default: HOST_KINDS.join(',') },
      // agents-js warm idle job processes. Default: what `agents start` (production mode)
      // keeps, min(cores, 4), so a call is answered by a process that has already loaded
      // its modules and Silero; that is how agents-js is deployed. 0 is its development
      // default: a cold fork per job, in parallel, each call waiting for its process to
      // import agents-js and load the model before the agent runs.
      idle: { type: 'string', default: 'production' },
      // openrtc worker processes, as `openrtc start --workers`: 1, a number, or auto (one per CPU).
      workers: { type: 'string', default: '1' },
      'min-realtime': { type: 'string', default: '0.98' },
      'frame-ms': { type: 'string', default: '20' },
      settle: { type: 'string', default: '3' },
      json: { type: 'string' },
      runs: { type: 'string', default: '1' },
      // Ramp mode: add sessions step by step (the --n list) until the worker refuses calls,
      // and show whether it refused before any session's VAD fell behind real time.
      ramp: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      // Run the hosts' TypeScript under tsx instead of compiling them first (quicker to
      // iterate; every host process then also carries tsx, so memory reads higher).
      'from-source': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const ns = [...new Set(values.n.split(',').map((v) => Number(v.trim())))].sort((a, b) => a - b);
  if (ns.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`--n must be positive integers, got ${values.n}`);
  const hosts = values.hosts.split(',').map((v) => v.trim()) as HostKind[];
  for (const h of hosts) if (!HOST_KINDS.includes(h)) throw new Error(`--hosts: unknown host "${h}" (known: ${HOST_KINDS.join(', ')})`);
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds must be positive, got ${values.seconds}`);
  const idleProcesses = values.idle === 'production' ? agentsProductionIdleProcesses() : Number(values.idle);
  // 0 means a cold fork per job. (agents-js reads `numIdleProcesses || default`; the host
  // runs with production: false, whose default is 0, so 0 does mean 0 here.)
  if (!Number.isInteger(idleProcesses) || idleProcesses < 0) throw new Error(`--idle must be "production" or an integer >= 0, got ${values.idle}`);
  const frameMs = ({ '10': 10, '20': 20 } as const)[values['frame-ms']];
  if (frameMs === undefined) throw new Error(`--frame-ms must be 10 or 20, got ${values['frame-ms']}`);
  const settleSeconds = Number(values.settle);
  if (!(settleSeconds >= 0)) throw new Error(`--settle must be >= 0, got ${values.settle}`);
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer or auto, got ${values.workers}`);
  const minRealtimeFactor = Number(values['min-realtime']);
  if (!(minRealtimeFactor > 0 && minRealtimeFactor <= 1)) throw new Error(`--min-realtime must be in (0, 1], got ${values['min-realtime']}`);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  return { runs, ns, hosts, seconds, idleProcesses, frameMs, settleSeconds, workers, minRealtimeFactor, json: values.json, keep: values.keep, fromSource: values['from-source'], ramp: values.ramp };
}

const describeIdle = (idle: number): string =>
  idle === agentsProductionIdleProcesses() ? `${idle} warm idle process(es), its production default`
    : idle === 0 ? 'no warm idle process, its development default (a cold fork per call)' : `${idle} warm idle process(es), set by --idle`;

/** agents-js 1.9's `numIdleProcesses` in production mode (`Default.numIdleProcesses(true)` in its worker.ts). */
export const agentsProductionIdleProcesses = (): number => Math.min(availableParallelism(), 4);

const pad = (text: string, width: number): string => text.padStart(width);

function table(n: number, results: HostResult[], seconds: number): string {
  const a = results.find((r) => r.host === 'openrtc');
  const b = results.find((r) => r.host === 'agents-js');
  const hosts = [a, b];
  const cell = (r: HostResult | undefined, f: (r: HostResult) => string): string => (r ? (r.error ? 'failed' : f(r)) : '-');
  const ratio = (f: (r: HostResult) => number): string => (a && b && !a.error && !b.error && f(a) > 0 ? `${(f(b) / f(a)).toFixed(1)}x` : '-');
  const rows: [string, string, string, string][] = [
    ['', 'openrtc (a)', 'agents-js (b)', '(b)/(a)'],
    ['HEADLINE PSS/session total/N, MiB', ...hosts.map((r) => cell(r, (x) => mib(x.perSessionPssBytes))), ratio((x) => x.perSessionPssBytes)] as [string, string, string, string],
    ['RSS/session total/N, MiB', ...hosts.map((r) => cell(r, (x) => mib(x.perSessionTotalBytes))), ratio((x) => x.perSessionTotalBytes)] as [string, string, string, string],
    ['valid (every session VAD >= min real time)', ...hosts.map((r) => cell(r, (x) => (x.invalid ? 'INVALID' : 'valid'))), ''] as [string, string, string, string],
    ['worker processes (a) / cores used', ...hosts.map((r) => cell(r, (x) => `${x.host === 'openrtc' ? x.workers : '-'} / ${x.hostCpuCores.toFixed(2)}`)), ''] as [string, string, string, string],
    ['CPU per session-second, ms', ...hosts.map((r) => cell(r, (x) => x.cpuMsPerSessionSecond.toFixed(1))), ratio((x) => x.cpuMsPerSessionSecond)] as [string, string, string, string],
    ['load average (1 min) at window end', ...hosts.map((r) => cell(r, (x) => x.loadAverage1m.toFixed(2))), ''] as [string, string, string, string],
    ['processes, idle / steady', ...hosts.map((r) => cell(r, (x) => `${x.baselineProcesses} / ${x.steadyProcesses}`)), ''] as [string, string, string, string],
    ['host RSS idle baseline, MiB', ...hosts.map((r) => cell(r, (x) => mib(x.baselineRssBytes))), ''] as [string, string, string, string],
    ['host RSS steady (median), MiB', ...hosts.map((r) => cell(r, (x) => mib(x.steadyRssBytes))), ratio((x) => x.steadyRssBytes)] as [string, string, string, string],
    ['host PSS idle / steady (median), MiB', ...hosts.map((r) => cell(r, (x) => `${mib(x.baselinePssBytes)} / ${mib(x.steadyPssBytes)}`)), ratio((x) => x.steadyPssBytes)] as [string, string, string, string],
    ['host PSS lowest / highest in window, MiB', ...hosts.map((r) => cell(r, (x) => `${mib(x.steadyPssMinBytes)} / ${mib(x.steadyPssMaxBytes)}`)), ''] as [string, string, string, string],
    ['RSS/session (total-idle)/N, MiB (noisy)', ...hosts.map((r) => cell(r, (x) => mib(x.perSessionOverBaselineBytes))), ratio((x) => x.perSessionOverBaselineBytes)] as [string, string, string, string],
    ['event-loop p99, ms (b: max/median)', cell(a, (x) => x.lagP99Ms.toFixed(1)), cell(b, (x) => `${x.lagP99Ms.toFixed(1)} / ${x.lagP99MedianMs.toFixed(1)}`), ''],
    ['event-loop max, ms', ...hosts.map((r) => cell(r, (x) => x.lagMaxMs.toFixed(1))), ''] as [string, string, string, string],
    ['VAD realtime factor min/median', ...hosts.map((r) => cell(r, (x) => `${x.realtimeFactorMin.toFixed(2)} / ${x.realtimeFactorMedian.toFixed(2)}`)), ''] as [string, string, string, string],
    ['VAD windows/session in window, min', ...hosts.map((r) => cell(r, (x) => String(x.inferencesPerSessionMin))), ''] as [string, string, string, string],
    ['speech starts, all sessions', ...hosts.map((r) => cell(r, (x) => String(x.speechStarts))), ''] as [string, string, string, string],
    ['CPU in window, cores: host / other', ...hosts.map((r) => cell(r, (x) => `${x.hostCpuCores.toFixed(2)} / ${x.otherCpuCores.toFixed(2)}`)), ''] as [string, string, string, string],
    ['sessions running / N', ...hosts.map((r) => cell(r, (x) => `${x.sessionsRunning} / ${x.n}`)), ''] as [string, string, string, string],
    ['ramp to all running, s', ...hosts.map((r) => cell(r, (x) => x.rampSeconds.toFixed(1))), ''] as [string, string, string, string],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => `${row[0].padEnd(widths[0]!)}  ${pad(row[1], widths[1]!)}  ${pad(row[2], widths[2]!)}  ${pad(row[3], widths[3]!)}`);
  const failures = results.flatMap((r) => (r.error ? [`  ${r.host} failed: ${r.error}`] : r.invalid ? [`  ${r.host} INVALID: ${r.invalid}`] : []));
  return [`N = ${n}  (steady state ${seconds} s per host)`, ...lines, ...failures].join('\n');
}

export async function main(argv: string[]): Promise<DensityReport> {
  const options = parseOptions(argv);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const report: DensityReport = {
    startedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version },
    options: {
      ns: options.ns, seconds: options.seconds, hosts: options.hosts, idleProcesses: options.idleProcesses, frameMs: options.frameMs,
      settleSeconds: options.settleSeconds, workers: options.workers, minRealtimeFactor: options.minRealtimeFactor,
      runs: options.runs, compiled: !options.fromSource, ramp: options.ramp,
    },
    load: { atStart: loadavg()[0]!, atEnd: Number.NaN },
    results: [],
    goals: { pssRatioAt10: null, pssRatioAt50: null, memoryGoalHolds: null, lagP99At50: null, lagGoalHolds: null },
  };
  log(`load average at start: ${report.load.atStart.toFixed(2)} (${report.machine.cpus} CPUs); openrtc worker processes: ${options.workers}`);
  log(`agents-js warm idle processes: ${describeIdle(options.idleProcesses)}`);
  const entryPoints = options.fromSource ? sourceHosts() : compileHosts();
  log(options.fromSource ? 'hosts run from their TypeScript sources under tsx' : 'hosts compiled with tsc; they run without a TypeScript loader');
  for (let run = 1; run <= options.runs; run++) {
    // One host after the other, never together: they must not share the cores. Every
    // other run swaps the order, so neither host always runs on a machine the other
    // has just warmed (page cache) or loaded (load average, lingering processes).
    const order = run % 2 === 1 ? options.hosts : [...options.hosts].reverse();
    for (const host of order) {
      log(`run ${run}/${options.runs}, ${host}: N = ${options.ns.join(', ')}`);
      const results = await measureHost(host, options.ns, {
        seconds: options.seconds, settleSeconds: options.settleSeconds, idleProcesses: options.idleProcesses,
        frameMs: options.frameMs, keep: options.keep, log, workers: options.workers, minRealtimeFactor: options.minRealtimeFactor, entryPoints, ramp: options.ramp,
      });
      report.results.push(...results.map((r) => ({ ...r, run })));
    }
    for (const n of options.ns) {
      const label = options.runs > 1 ? `run ${run}/${options.runs}, ` : '';
      process.stdout.write(`\n${label}${table(n, report.results.filter((r) => r.n === n && r.run === run), options.seconds)}\n`);
    }
  }

  report.load.atEnd = loadavg()[0]!;
  if (options.runs > 1) process.stdout.write(`\n${medianLines(report).join('\n')}\n`);
  if (options.ramp) process.stdout.write(`\n${rampLines(report).join('\n')}\n`);
  process.stdout.write(`${goalLines(report).join('\n')}\n`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  const failed = report.results.filter((r) => r.error);
  if (failed.length > 0) process.exitCode = 3;
  return report;
}

/** The figures that matter, per N: each run's value and their median (what the goals use). */
interface RunFigures {
  openrtcPss: number[]; agentsPss: number[]; ratio: number[]; lagP99: number[]; vadMin: number[]; cores: number[];
  openrtcValid: number; agentsValid: number; runs: number;
}

function figuresAt(report: DensityReport, n: number): RunFigures {
  const figures: RunFigures = { openrtcPss: [], agentsPss: [], ratio: [], lagP99: [], vadMin: [], cores: [], openrtcValid: 0, agentsValid: 0, runs: report.options.runs };
  for (let run = 1; run <= report.options.runs; run++) {
    const a = report.results.find((r) => r.host === 'openrtc' && r.n === n && r.run === run && !r.error);
    const b = report.results.find((r) => r.host === 'agents-js' && r.n === n && r.run === run && !r.error);
    if (a) {
      figures.openrtcPss.push(a.perSessionPssBytes);
      figures.lagP99.push(a.lagP99Ms);
      figures.vadMin.push(a.realtimeFactorMin);
      figures.cores.push(a.hostCpuCores);
      if (!a.invalid) figures.openrtcValid++;
    }
    if (b) {
      figures.agentsPss.push(b.perSessionPssBytes);
      if (!b.invalid) figures.agentsValid++;
    }
    if (a && b) figures.ratio.push(b.perSessionPssBytes / a.perSessionPssBytes);
  }
  return figures;
}

function medianLines(report: DensityReport): string[] {
  const list = (values: number[], format: (v: number) => string): string =>
    values.length === 0 ? 'not measured' : `median ${format(median(values))} (runs: ${values.map(format).join(', ')})`;
  const lines = [`Medians of ${report.options.runs} runs (each N: both hosts in every run, order alternating)`];
  for (const n of report.options.ns) {
    const f = figuresAt(report, n);
    lines.push(`N = ${n}`);
    lines.push(`  PSS/session total/N: openrtc ${list(f.openrtcPss, mib)} MiB; agents-js ${list(f.agentsPss, mib)} MiB`);
    lines.push(`  ratio agents-js/openrtc: ${list(f.ratio, (v) => `${v.toFixed(1)}x`)}`);
    lines.push(`  openrtc event-loop p99: ${list(f.lagP99, (v) => `${v.toFixed(1)} ms`)}; cores ${list(f.cores, (v) => v.toFixed(2))}`);
    lines.push(`  openrtc VAD realtime factor, slowest session: ${list(f.vadMin, (v) => v.toFixed(2))}`);
    const valid = (count: number, measured: number): string => (measured === 0 ? 'not measured' : `${count}/${f.runs}`);
    lines.push(`  valid windows: openrtc ${valid(f.openrtcValid, f.openrtcPss.length)}, agents-js ${valid(f.agentsValid, f.agentsPss.length)}`);
  }
  return lines;
}

/**
 * Ramp mode: does the worker turn calls away before its sessions fall behind? Per run and
 * host, each step's window (sessions kept, what the worker had reported before the step,
 * the slowest session's VAD pace) and the verdict: it HOLDS when the worker refused at
 * some step and no window up to and including that step fell below real time.
 */
function rampLines(report: DensityReport): string[] {
  const lines = ['Ramp: does the worker refuse before any session falls behind real time?'];
  for (let run = 1; run <= report.options.runs; run++) {
    for (const host of report.options.hosts) {
      const steps = report.results.filter((r) => r.run === run && r.host === host);
      lines.push(`run ${run}, ${host}:`);
      for (const r of steps) {
        const before = (r.reportedBefore ?? []).map((w) => `${w.status} ${w.load.toFixed(2)}`).join(' / ') || '-';
        lines.push(r.error
          ? `  N ${String(r.n).padStart(3)}: failed: ${r.error}`
          : `  N ${String(r.n).padStart(3)}: reported before the step ${before.padEnd(16)} VAD min ${r.realtimeFactorMin.toFixed(2)}  lag p99 ${r.lagP99Ms.toFixed(1)} ms  cores ${r.hostCpuCores.toFixed(2)}  ${r.invalid ? 'BEHIND' : 'real time'}` +
            (r.refusal ? `  <- refused ${r.refusal.offered - r.refusal.accepted} of the calls offered up to ${r.refusal.offered} (${r.refusal.reason})` : ''));
      }
      const refusedAt = steps.findIndex((r) => r.refusal !== undefined);
      const behindAt = steps.findIndex((r) => !r.error && r.invalid !== undefined);
      const verdict = refusedAt < 0
        ? `never refused up to N = ${report.options.ns.at(-1)}${behindAt >= 0 ? `; sessions fell behind at N = ${steps[behindAt]!.n}: DOES NOT HOLD` : ' (ramp further to see the refusal)'}`
        : behindAt >= 0 && behindAt <= refusedAt
          ? `sessions fell behind at N = ${steps[behindAt]!.n}, before or at the refusal: DOES NOT HOLD`
          : `refused with ${steps[refusedAt]!.n} sessions running, every one at real time (VAD min ${steps[refusedAt]!.realtimeFactorMin.toFixed(2)}): HOLDS`;
      lines.push(`  => ${verdict}`);
    }
  }
  return lines;
}

/** The goals of issue 14, from the medians over runs of valid windows. */
function goalLines(report: DensityReport): string[] {
  const { goals } = report;
  const ratioAt = (n: number): number | null => {
    const f = figuresAt(report, n);
    return f.ratio.length ? median(f.ratio) : null;
  };
  goals.pssRatioAt10 = ratioAt(10);
  goals.pssRatioAt50 = ratioAt(50);
  if (goals.pssRatioAt10 !== null || goals.pssRatioAt50 !== null) {
    goals.memoryGoalHolds = (goals.pssRatioAt10 ?? Infinity) >= 10 && (goals.pssRatioAt50 ?? Infinity) >= 20;
  }
  const at50 = figuresAt(report, 50);
  if (at50.lagP99.length) {
    goals.lagP99At50 = median(at50.lagP99);
    goals.lagGoalHolds = goals.lagP99At50 < 20 && at50.openrtcValid === at50.lagP99.length;
  }
  const fmt = (v: number | null): string => (v === null ? 'not measured' : `${v.toFixed(1)}x`);
  const of = report.options.runs > 1 ? `median of ${report.options.runs} runs` : 'one run';
  const lines = ['', `Goals (${of}; load average ${report.load.atStart.toFixed(2)} at start, ${report.load.atEnd.toFixed(2)} at end)`];
  lines.push(goals.memoryGoalHolds === null
    ? '  memory: not measured (needs both hosts at N = 10 or 50)'
    : `  memory by total PSS/N: ${fmt(goals.pssRatioAt10)} less per session at N = 10 (goal >= 10x), ${fmt(goals.pssRatioAt50)} at N = 50 (goal >= 20x): ${goals.memoryGoalHolds ? 'HOLDS' : 'DOES NOT HOLD'}` +
      ` (agents-js with ${describeIdle(report.options.idleProcesses)})`);
  lines.push(goals.lagP99At50 === null
    ? '  lag: not measured (needs openrtc measured at N = 50)'
    : `  lag: openrtc event-loop p99 at N = 50 is ${goals.lagP99At50.toFixed(1)} ms (max over its processes); goal < 20 ms with every session at real time in every run: ${goals.lagGoalHolds ? 'HOLDS' : 'DOES NOT HOLD'}` +
      ` (slowest VAD realtime factor ${Math.min(...at50.vadMin).toFixed(2)})`);
  for (const r of report.results.filter((x) => x.host === 'openrtc' && !x.error)) {
    lines.push(`  run ${r.run} openrtc N = ${r.n}: ${r.invalid ? 'INVALID' : 'valid'}, VAD min ${r.realtimeFactorMin.toFixed(2)} x real time, ${r.workers} worker process(es), ${r.hostCpuCores.toFixed(2)} cores, load ${r.loadAverage1m.toFixed(2)}`);
  }
  return lines;
}

const onSignal = (signal: NodeJS.Signals): void => {
  const killed = killAllLeftovers();
  process.stderr.write(`\n${signal}: stopped; killed ${killed} benchmark process(es)\n`);
  process.exit(130);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    killAllLeftovers();
    process.stderr.write(`density benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
