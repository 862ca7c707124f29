// `npm run bench:telemetry`: what openrtc's telemetry costs a worker. The same simulated
// sessions run in fresh worker processes with telemetry on and off, alternating, and the
// driver (this process, which also hosts the stand-in LiveKit server and the callers)
// prints CPU, wall time and event-loop p99 per variant.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { ArmMessage, PhaseResult, StopMessage, Variant, WorkerMessage } from './protocol.js';

export interface BenchOptions {
  /** Concurrent sessions per measured run. Default 50. */
  sessions?: number;
  /** User turns per session. Default 4. */
  turns?: number;
  /** A/B rounds; each runs both variants once, the order alternating. Default 3. */
  rounds?: number;
  /** Sessions each worker hosts before measuring, so both variants start warm. Default 10. */
  warmupSessions?: number;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

export interface VariantSummary {
  variant: Variant;
  runs: PhaseResult[];
  medianCpuMs: number;
  medianWallMs: number;
  medianLoopP99Ms: number;
}

export interface BenchReport {
  options: Required<Omit<BenchOptions, 'log'>>;
  on: VariantSummary;
  off: VariantSummary;
  /** (median CPU on / median CPU off) - 1. */
  cpuOverhead: number;
}

const API_KEY = 'bench-key';
const API_SECRET = 'bench-secret-bench-secret-bench-secret';
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker_process.ts');

export async function runTelemetryOverheadBenchmark(options: BenchOptions = {}): Promise<BenchReport> {
  const resolved = {
    sessions: options.sessions ?? 50,
    turns: options.turns ?? 4,
    rounds: options.rounds ?? 3,
    warmupSessions: options.warmupSessions ?? 10,
  };
  const log = options.log ?? (() => undefined);
  const runs: PhaseResult[] = [];
  for (let round = 0; round < resolved.rounds; round++) {
    const order: Variant[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    // Both workers of a round start together and wait idle, so process start-up (seconds
    // of module loading) is paid once per round and never inside a measurement.
    const workers = await Promise.all(order.map((variant) => startWorker(variant)));
    try {
      for (const worker of workers) {
        const result = await worker.measure(resolved);
        log(`round ${round + 1}/${resolved.rounds} telemetry ${worker.variant.padEnd(3)}: cpu ${result.cpuMs.toFixed(0)} ms, ` +
          `wall ${result.wallMs.toFixed(0)} ms, loop p99 ${result.loopP99Ms.toFixed(1)} ms, ${result.succeeded}/${result.sessions} ok`);
        runs.push(result);
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  }
  const summarize = (variant: Variant): VariantSummary => {
    const mine = runs.filter((r) => r.variant === variant);
    return {
      variant,
      runs: mine,
      medianCpuMs: median(mine.map((r) => r.cpuMs)),
      medianWallMs: median(mine.map((r) => r.wallMs)),
      medianLoopP99Ms: median(mine.map((r) => r.loopP99Ms)),
    };
  };
  const on = summarize('on');
  const off = summarize('off');
  return { options: resolved, on, off, cpuOverhead: on.medianCpuMs / off.medianCpuMs - 1 };
}

interface BenchWorker {
  variant: Variant;
  /** Warms the worker up, then hosts `sessions` concurrent calls and returns the measurement. */
  measure(options: Required<Omit<BenchOptions, 'log'>>): Promise<PhaseResult>;
  /** Drains the worker, waits for its process to exit and closes its server. */
  stop(): Promise<void>;
}

/** A worker process of one variant, registered with its own stand-in server and idle. */
async function startWorker(variant: Variant): Promise<BenchWorker> {
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      BENCH_VARIANT: variant,
      BENCH_URL: server.url,
      BENCH_API_KEY: API_KEY,
      BENCH_API_SECRET: API_SECRET,
      OPENRTC_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.connected) child.send({ type: 'stop' } satisfies StopMessage);
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
  const phase = async (name: ArmMessage['phase'], sessions: number, turns: number): Promise<PhaseResult> => {
    child.send({ type: 'arm', phase: name, sessions } satisfies ArmMessage);
    await messages.next('armed');
    for (let i = 0; i < sessions; i++) {
      callSeq += 1;
      server.dispatch({
        roomName: `bench-${variant}-${callSeq}`,
        jobMetadata: JSON.stringify({ tenant: TENANTS[callSeq % TENANTS.length] }),
        simulated: {
          turns: Array.from({ length: turns }, (_, t) => `question ${t + 1} of call ${callSeq}, please answer it`),
          turnTimeoutMs: 60_000,
        },
      });
    }
    const message = await messages.next('phase');
    if (message.type !== 'phase') throw new Error('unreachable');
    return message.result;
  };
  return {
    variant,
    async measure(options) {
      if (options.warmupSessions > 0) await phase('warmup', options.warmupSessions, options.turns);
      return phase('measured', options.sessions, options.turns);
    },
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function formatReport(report: BenchReport): string {
  const { sessions, turns, rounds, warmupSessions } = report.options;
  const header = ['telemetry', 'runs', 'CPU ms (median)', 'CPU ms (each run)', 'wall ms (median)', 'loop p99 ms (median)'];
  const row = (s: VariantSummary) => [
    s.variant,
    String(s.runs.length),
    s.medianCpuMs.toFixed(0),
    s.runs.map((r) => r.cpuMs.toFixed(0)).join(' '),
    s.medianWallMs.toFixed(0),
    s.medianLoopP99Ms.toFixed(1),
  ];
  const rows = [header, row(report.off), row(report.on)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  lines.splice(1, 0, `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  const pct = (report.cpuOverhead * 100).toFixed(1);
  return [
    `${sessions} concurrent sessions x ${turns} text turns, ${warmupSessions} warm-up sessions per worker, ${rounds} A/B rounds`,
    ...lines,
    `CPU overhead of telemetry (median on / median off - 1): ${pct}% (goal: under 5%)`,
  ].join('\n');
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
    warmupSessions: number('warmup'),
    log: (line) => console.log(line),
  });
  console.log(`\n${formatReport(report)}`);
}
