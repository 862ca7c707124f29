// `npm run bench:soak -- --calls 2000`: many short calls through one worker whose sessions
// share provider objects (a real Silero VAD object among them). The driver (this process)
// hosts the stand-in LiveKit server and the callers; the worker runs in a child process
// started with --expose-gc, so its heap is measured without the server's records in it.
// It prints listener counts on every shared object and the heap after GC per call.
import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import type { DriverMessage, ListenerCounts, Measurement, WorkerMessage } from './protocol.js';

export interface SoakOptions {
  /** Measured calls. Default 2000. */
  calls?: number;
  /** Calls before the first measurement, so code and caches are warm. Default min(100, calls / 4). */
  warmup?: number;
  /** Calls in flight at once. Default 8. */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  calls: number;
  warmup: number;
  concurrency: number;
  wallMs: number;
  before: Measurement;
  after: Measurement;
  /** Listener counts before the first call (the baseline the others must return to). */
  baseline: ListenerCounts[];
  /** (heapUsed + arrayBuffers after - before) / calls. */
  bytesPerCall: number;
}

const API_KEY = 'soak-key';
const API_SECRET = 'soak-secret-soak-secret-soak-secret';
const TENANTS = ['acme', 'globex', 'initech'];
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker_process.ts');

export async function runProviderSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const calls = options.calls ?? 2000;
  const warmup = options.warmup ?? Math.min(100, Math.floor(calls / 4));
  const concurrency = options.concurrency ?? 8;
  const log = options.log ?? (() => undefined);
  const server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  const child = fork(WORKER, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, SOAK_URL: server.url, SOAK_API_KEY: API_KEY, SOAK_API_SECRET: API_SECRET, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await next(child, 'ready');
    await server.waitFor(() => server.workers.some((w) => w.connected), 'the soak worker to register', 30_000);
    const baseline = (await measure(child, 0)).listeners;
    let dispatched = 0;
    const runCalls = async (count: number) => {
      const target = dispatched + count;
      const lane = async () => {
        while (dispatched < target) {
          const n = ++dispatched;
          const tenant = TENANTS[n % TENANTS.length]!;
          const call = server.dispatch({ roomName: `soak-${n}`, jobMetadata: JSON.stringify({ tenant }), simulated: { turns: ['hello'], turnTimeoutMs: 20_000 } },
            // The worker's load follows this machine's CPU, which other work may fill: the soak is about memory.
            { ignoreWorkerStatus: true });
          await withDeadline(call.ended, 30_000, `call ${n} to end`).catch((error: unknown) => {
            const replies = call.transcript.filter((t) => t.from === 'agent').length;
            throw new Error(`${String(error)} (job ${call.jobState?.status ?? 'never assigned'}, ${call.attempts.length} availability answers, ${replies} agent replies)`);
          });
          if (n % 250 === 0) log(`  ${n} calls done`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
    };
    await runCalls(warmup);
    const before = await measure(child, dispatched);
    const startedAt = performance.now();
    await runCalls(calls);
    const wallMs = performance.now() - startedAt;
    const after = await measure(child, dispatched);
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    return { calls, warmup, concurrency, wallMs, before, after, baseline, bytesPerCall: grown / calls };
  } finally {
    child.send({ type: 'stop' } satisfies DriverMessage);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { child.kill(); resolve(); }, 15_000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
    });
    await server.close();
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function next(child: ChildProcess, type: WorkerMessage['type']): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.type === 'error') done(new Error(`soak worker failed: ${message.message}`));
      else if (message.type === type) done(undefined, message);
    };
    const onExit = (code: number | null) => done(new Error(`soak worker exited (${code}) before "${type}"`));
    const done = (error?: Error, message?: WorkerMessage) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function measure(child: ChildProcess, expectSessions: number): Promise<Measurement> {
  child.send({ type: 'measure', expectSessions } satisfies DriverMessage);
  const message = await next(child, 'measured');
  if (message.type !== 'measured') throw new Error('unexpected message');
  return message.measurement;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatReport(r: SoakReport): string {
  const lines = [
    `provider soak: ${r.calls} calls (after ${r.warmup} warm-up calls), ${r.concurrency} at a time, ${(r.wallMs / 1000).toFixed(1)} s`,
    `  sessions ended ${r.after.sessionsEnded} (succeeded ${r.after.succeeded}); Silero heard speech in ${r.after.sessionsWithSpeech}`,
    `  heap after GC: ${kb(r.before.heapUsed)} -> ${kb(r.after.heapUsed)}; ArrayBuffers ${kb(r.before.arrayBuffers)} -> ${kb(r.after.arrayBuffers)}`,
    `  growth per call (heap + ArrayBuffers): ${r.bytesPerCall.toFixed(0)} B`,
    '  listeners on shared objects (before first call / after warm-up / after all calls; openrtc forwarders after):',
  ];
  for (const base of r.baseline) {
    const warm = r.before.listeners.find((l) => l.name === base.name);
    const end = r.after.listeners.find((l) => l.name === base.name);
    lines.push(`    ${base.name.padEnd(20)} ${base.listeners} / ${warm?.listeners ?? '?'} / ${end?.listeners ?? '?'}; forwarders ${end?.forwarders ?? '?'}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '2000' },
      warmup: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'string' },
    },
  });
  const number = (name: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
    return n;
  };
  const report = await runProviderSoak({
    calls: number('calls', values.calls),
    ...(values.warmup === undefined ? {} : { warmup: number('warmup', values.warmup) }),
    concurrency: number('concurrency', values.concurrency),
    log: (line) => console.log(line),
  });
  console.log(formatReport(report));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
