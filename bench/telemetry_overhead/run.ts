// `npm run bench:telemetry`: what openrtc's telemetry costs a worker. The same simulated
// sessions run in fresh worker processes with telemetry off, on, and off again (the A/A
// control), in paired rounds, and the driver (this process, which also hosts the stand-in
// LiveKit server and the callers, and scrapes `/metrics` as Prometheus would) prints CPU,
// wall time and event-loop p99 per variant and the paired ratios with their spread.
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidOption } from '../../src/errors.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import { processCpuTicks } from '../density/process_tree.js';
import { compileWithTsc } from '../tsc_build.js';
import type { ArmMessage, DriverMessage, PhaseResult, Variant, WorkerMessage } from './protocol.js';
import { type BenchReport, type ReportOptions, formatReport, median, pairedRatio, summarize } from './report.js';

export { formatReport };
export type { BenchReport, VariantSummary } from './report.js';

export interface BenchOptions {
  /** Concurrent sessions per measured run. Default 50. */
  sessions?: number;
  /** User turns per session. Default 4. */
  turns?: number;
  /** Paired rounds; each runs off, on and control once, in each of the six orders in turn. Default 3. */
  rounds?: number;
  /**
   * Batches of `sessions` calls each variant hosts per round, one after another, measured as
   * one window (CPU of the whole window, waits between batches included). Default 1. A
   * warm worker runs a mark-compact only every few batches, and a one-batch window either
   * pays all of it or none; several batches share it out as a long-running worker does.
   */
  batches?: number;
  /**
   * Consecutive rounds one set of three worker processes measures before it is replaced by
   * a fresh set. Default 1 (new processes every round). More rounds per set put more of the
   * run into measuring warm workers instead of warming new ones up; fresh sets still
   * sample what differs between processes (the A/A control shows how much that is).
   */
  roundsPerWorker?: number;
  /**
   * Sessions each worker hosts before its first measurement, in batches the size of the
   * measured one, so every variant is measured warm. Default 10.
   */
  warmupSessions?: number;
  /** Trace policy share for the `on` worker. Default: the pool's default. */
  agentSpanShare?: number;
  /**
   * Run the workers' TypeScript under tsx instead of compiling it first. Quicker to start;
   * every worker then also runs tsx's loader thread and source maps, which a deployed
   * worker does not (on 2026-12-03 the "off" worker spent about 40% more CPU per batch
   * under tsx), so its figures are not the product's. Default false.
   */
  fromSource?: boolean;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

/** The worker as the driver starts it: its entry point and node's arguments before it. */
interface WorkerEntry {
  module: string;
  execArgv: string[];
}

const API_KEY = 'bench-key';
const API_SECRET = 'bench-secret-bench-secret-bench-secret';
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The six orders of the three variants, one per round in turn. */
const ORDERS: readonly Variant[][] = [
  ['off', 'on', 'control'], ['off', 'control', 'on'], ['on', 'off', 'control'],
  ['on', 'control', 'off'], ['control', 'off', 'on'], ['control', 'on', 'off'],
];

const IDLE_SPAN_MS = 300;
/** Under the stand-in's target load (0.7, as LiveKit's), with room for the next batch. */
const LOW_LOAD = 0.5;
const IDLE_TIMEOUT_MS = 15_000;

/**
 * Waits until none of `pids` has used a CPU tick (10 ms) for IDLE_SPAN_MS, or
 * IDLE_TIMEOUT_MS have passed; returns how long it waited. Where /proc cannot be read
 * (not Linux) it returns at once.
 */
async function waitUntilIdle(pids: (number | undefined)[]): Promise<number> {
  const started = Date.now();
  const ticks = () => pids.map((pid) => (pid === undefined ? undefined : processCpuTicks(pid)));
  let last = ticks();
  if (last.every((t) => t === undefined)) return 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_SPAN_MS));
    const now = ticks();
    if (now.every((t, i) => t === last[i]) || Date.now() - started > IDLE_TIMEOUT_MS) return Date.now() - started;
    last = now;
  }
}

/** A count option: its default when not given, else a whole number of at least `min` (a bad flag reads as NaN). */
function countOption(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw invalidOption(name, `must be a whole number of at least ${min}`, value);
  return value;
}

export async function runTelemetryOverheadBenchmark(options: BenchOptions = {}): Promise<BenchReport> {
  const resolved: ReportOptions = {
    sessions: countOption('sessions', options.sessions, 50),
    turns: countOption('turns', options.turns, 4),
    rounds: countOption('rounds', options.rounds, 3),
    roundsPerWorker: countOption('roundsPerWorker', options.roundsPerWorker, 1),
    batches: countOption('batches', options.batches, 1),
    warmupSessions: countOption('warmupSessions', options.warmupSessions, 10, 0),
    agentSpanShare: options.agentSpanShare,
  };
  const log = options.log ?? (() => undefined);
  const entry = options.fromSource ? sourceWorker() : compileWorker();
  const runs: PhaseResult[] = [];
  const quietWaits: number[] = [];
  for (let first = 0; first < resolved.rounds; first += resolved.roundsPerWorker) {
    // The workers of a set start together and wait idle, so process start-up (seconds of
    // module loading) is never inside a measurement; each is warmed up while the others idle.
    const workers = await Promise.all(ORDERS[0]!.map((variant) => startWorker(entry, variant, resolved.agentSpanShare)));
    try {
      for (const worker of workers) await worker.warmUp(resolved);
      for (let round = first; round < Math.min(resolved.rounds, first + resolved.roundsPerWorker); round++) {
        // Every order of the three in turn (six rounds cover them all), so that each variant
        // is measured as often right after each other one. A rotation alone would always put
        // the control right after "on" and never "off", and a worker's own collections after
        // its batch land on whichever worker is measured next.
        for (const variant of ORDERS[round % ORDERS.length]!) {
          const worker = workers.find((w) => w.variant === variant)!;
          // Measured only once the other workers are idle: what they still do after their
          // own batch (collections, timers) must not share the cores with this one.
          const others = workers.filter((w) => w !== worker).map((w) => w.pid);
          quietWaits.push(await waitUntilIdle(others));
          const result = await worker.measure(resolved);
          log(`round ${round + 1}/${resolved.rounds} ${worker.variant.padEnd(7)}: cpu ${result.cpuMs.toFixed(0)} ms, ` +
            `wall ${result.wallMs.toFixed(0)} ms, loop p99 ${result.loopP99Ms.toFixed(1)} ms, ${result.succeeded}/${result.sessions} ok`);
          runs.push(result);
        }
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  }
  if (quietWaits.length > 0) {
    log(`waited for the other workers to be idle before each measurement: median ${median(quietWaits).toFixed(0)} ms, longest ${Math.max(...quietWaits)} ms`);
  }
  const paired = { on: pairedRatio(runs, 'on'), control: pairedRatio(runs, 'control') };
  return {
    options: resolved,
    off: summarize(runs, 'off'),
    on: summarize(runs, 'on'),
    control: summarize(runs, 'control'),
    cpuOverhead: paired.on.median,
    paired,
    builtinsLoaded: {
      off: builtinsOf(runs, 'off'), on: builtinsOf(runs, 'on'), control: builtinsOf(runs, 'control'),
    },
    loadAverage: os.loadavg(),
  };
}

const builtinsOf = (runs: PhaseResult[], variant: Variant) =>
  [...new Set(runs.filter((r) => r.variant === variant).flatMap((r) => r.builtinsLoaded))].sort();

interface BenchWorker {
  variant: Variant;
  pid: number | undefined;
  /** Hosts `warmupSessions` calls, `sessions` at a time, unmeasured. */
  warmUp(options: ReportOptions): Promise<void>;
  /** Hosts `sessions` concurrent calls and returns the measurement. */
  measure(options: ReportOptions): Promise<PhaseResult>;
  /** Drains the worker, waits for its process to exit and closes its server. */
  stop(): Promise<void>;
}

function sourceWorker(): WorkerEntry {
  return { module: path.join(HERE, 'worker_process.ts'), execArgv: ['--import', 'tsx'] };
}

/** Compiles the worker (and the parts of src/ it uses) into `.build/`, as the density bench does its hosts. */
function compileWorker(): WorkerEntry {
  compileWithTsc(path.join(HERE, 'tsconfig.worker.json'));
  return { module: path.join(HERE, '.build', 'bench', 'telemetry_overhead', 'worker_process.js'), execArgv: [] };
}

/** A worker process of one variant, registered with its own stand-in server and idle. */
async function startWorker(entry: WorkerEntry, variant: Variant, agentSpanShare: number | undefined): Promise<BenchWorker> {
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  // The worker logs to its stdout (the logger's default); lines go to /dev/null, or for the
  // "on" worker to BENCH_LOG_DEST, so they can be read.
  const logDest = variant === 'on' && process.env.BENCH_LOG_DEST ? process.env.BENCH_LOG_DEST : '/dev/null';
  const logFd = openSync(logDest, 'a');
  const child = fork(entry.module, [], {
    execArgv: entry.execArgv,
    env: {
      ...process.env,
      BENCH_VARIANT: variant,
      BENCH_URL: server.url,
      BENCH_API_KEY: API_KEY,
      BENCH_API_SECRET: API_SECRET,
      OPENRTC_METRICS_PORT: '0',
      ...(agentSpanShare === undefined ? {} : { BENCH_AGENT_SPAN_SHARE: String(agentSpanShare) }),
    },
    stdio: ['ignore', logFd, 'inherit', 'ipc'],
  });
  closeSync(logFd);
  const tell = (message: DriverMessage) => child.send(message);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.connected) tell({ type: 'stop' });
    const timer = setTimeout(() => child.kill(), 15_000);
    await exited;
    clearTimeout(timer);
    await server.close();
  };
  const messages = messageQueue(child);
  try {
    await messages.next('ready');
    await server.waitForWorker();
  } catch (error: unknown) {
    await stop();
    throw error;
  }
  let callSeq = 0;
  // Right after a batch the worker reports a high load for a while (its load window), and
  // the stand-in, like LiveKit, sends no job to a worker at or above the target load.
  const lowLoad = () => server.waitFor(
    () => server.workers.find((w) => w.connected && w.status === 'available' && w.load < LOW_LOAD), 'the worker to report a low load', 60_000);
  /** Dispatches `sessions` concurrent calls; the promise rejects on the first refusal. */
  const dispatchBatch = (name: ArmMessage['phase'], sessions: number, turns: number) => {
    const calls = Array.from({ length: sessions }, () => {
      callSeq += 1;
      return server.dispatch({
        roomName: `bench-${variant}-${callSeq}`,
        jobMetadata: JSON.stringify({ tenant: TENANTS[callSeq % TENANTS.length] }),
        simulated: {
          turns: Array.from({ length: turns }, (_, t) => `question ${t + 1} of call ${callSeq}, please answer it`),
          turnTimeoutMs: 60_000,
        },
      });
    });
    // A refused call would never end, and the worker would wait for it forever: stop the
    // run with the refusal instead (a round that lost calls is not a measurement).
    const refusal = new Promise<never>((_, reject) => {
      for (const call of calls) {
        void call.availability.then((answer) => {
          if (!answer.available) reject(new Error(`${variant} worker, ${name} phase: call ${call.jobId} was not accepted (${answer.reason ?? 'the worker refused it'}); the run stops`));
        });
      }
    });
    refusal.catch(() => undefined);
    return { ended: Promise.all(calls.map((call) => call.ended)), refusal };
  };
  /**
   * One measurement window: `batches` batches of `sessions` concurrent calls one after
   * another (each once the worker reports a low load again), measured as one, so that work
   * which comes once every few batches (a mark-compact) is shared out as in a long run.
   */
  const phase = async (name: ArmMessage['phase'], sessions: number, turns: number, batches = 1): Promise<PhaseResult> => {
    await lowLoad();
    tell({ type: 'arm', phase: name, sessions: sessions * batches });
    await messages.next('armed');
    let batch = dispatchBatch(name, sessions, turns);
    for (let done = 1; done < batches; done++) {
      await Promise.race([batch.ended, batch.refusal]);
      await lowLoad();
      batch = dispatchBatch(name, sessions, turns);
    }
    const flushed = await Promise.race([messages.next('flushed'), batch.refusal]);
    if (flushed.type !== 'flushed') throw new Error('unreachable');
    if (flushed.metricsUrl !== undefined) await (await fetch(flushed.metricsUrl)).text();
    tell({ type: 'scraped' });
    const message = await messages.next('phase');
    if (message.type !== 'phase') throw new Error('unreachable');
    return message.result;
  };
  return {
    variant,
    pid: child.pid,
    async warmUp(options) {
      for (let warmed = 0; warmed < options.warmupSessions; warmed += options.sessions) {
        await phase('warmup', Math.min(options.sessions, options.warmupSessions - warmed), options.turns);
      }
    },
    measure: (options) => phase('measured', options.sessions, options.turns, options.batches),
    stop,
  };
}

function messageQueue(child: ChildProcess) {
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let exited = false;
  child.on('message', (message: WorkerMessage) => {
    queue.push(message);
    wake?.();
  });
  child.once('exit', () => {
    exited = true;
    wake?.();
  });
  return {
    async next(type: WorkerMessage['type']): Promise<WorkerMessage> {
      for (;;) {
        const index = queue.findIndex((m) => m.type === type || m.type === 'error');
        if (index >= 0) {
          const [message] = queue.splice(index, 1);
          if (message!.type === 'error') throw new Error(`worker process failed: ${message!.message}`);
          return message!;
        }
        if (exited) throw new Error(`worker process exited before sending "${type}"`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const number = (name: string) => {
    const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
    return arg === undefined ? undefined : Number(arg.split('=')[1]);
  };
  const report = await runTelemetryOverheadBenchmark({
    sessions: number('sessions'),
    turns: number('turns'),
    rounds: number('rounds'),
    roundsPerWorker: number('rounds-per-worker'),
    batches: number('batches'),
    warmupSessions: number('warmup'),
    agentSpanShare: number('agent-span-share'),
    fromSource: process.argv.includes('--from-source'),
    log: (line) => console.log(line),
  });
  console.log(`\n${formatReport(report)}`);
}
