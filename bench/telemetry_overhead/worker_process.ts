// The measured side: one pool worker, with telemetry on or off, hosting the sessions the
// driver dispatches. It reports CPU, wall time and event-loop delay per phase over IPC.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay } from 'node:perf_hooks';
import { telemetry as agentsTelemetry, voice } from '@livekit/agents';
import { trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
// Modules rather than the package's front door: a worker process starts per run, and
// importing only what it uses keeps the benchmark's smoke test quick.
import { AgentPool } from '../../src/pool/agent_pool.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';
import { FakeTTS } from '../../src/testing/fake_tts.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { SimulatedRoomTransport } from '../../src/testing/simulated_room.js';
import type { ArmMessage, DriverMessage, PhaseResult, Variant, WorkerMessage } from './protocol.js';

/** Accepts spans and drops them: the cost measured is producing and batching, not a network. */
class DiscardingExporter implements SpanExporter {
  exported = 0;
  /** Spans exported by name, for BENCH_THREADS=1's report. */
  readonly byName = new Map<string, number>();
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    this.exported += spans.length;
    for (const span of spans) this.byName.set(span.name, (this.byName.get(span.name) ?? 0) + 1);
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class BenchAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You are a benchmark agent. Answer briefly.' });
  }
}

const send = (message: WorkerMessage) => process.send?.(message);

/** Node's list of the built-in modules and bindings loaded so far, in load order (not in @types/node). */
// BENCH_THREADS=1: report CPU by thread; /proc is read only then, never inside a plain run's window.
const threadsReported = process.env.BENCH_THREADS === '1';

const builtinModules = (): string[] => (process as unknown as { moduleLoadList: string[] }).moduleLoadList;

/**
 * CPU ms (user + system) of each of this process's threads, summed by thread name (main,
 * V8's GC helpers, libuv's pool...), from /proc/self/task. Linux only; empty elsewhere.
 * For BENCH_THREADS=1, which prints where a phase's CPU went besides the main thread.
 */
function threadCpuMs(): Map<string, number> {
  const byName = new Map<string, number>();
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return byName;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      const name = task === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * tick;
      byName.set(name, (byName.get(name) ?? 0) + ms);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}

async function main(): Promise<void> {
  const variant = process.env.BENCH_VARIANT as Variant;
  const url = process.env.BENCH_URL;
  const apiKey = process.env.BENCH_API_KEY;
  const apiSecret = process.env.BENCH_API_SECRET;
  if ((variant !== 'on' && variant !== 'off' && variant !== 'control') || !url || !apiKey || !apiSecret) {
    throw new Error('BENCH_VARIANT (on|off|control), BENCH_URL, BENCH_API_KEY and BENCH_API_SECRET must be set');
  }
  const on = variant === 'on';

  // BENCH_ON_PARTS (comma list of metrics, traces, logs; default all three) switches single
  // components of the 'on' variant, to find which one costs what. Not for reported figures.
  const parts = new Set((process.env.BENCH_ON_PARTS ?? 'metrics,traces,logs').split(',').map((p) => p.trim()));
  let telemetry: OpenRtcTelemetry | false = false;
  const exporter = new DiscardingExporter();
  if (on && (parts.has('metrics') || parts.has('traces'))) {
    const started = await startTelemetry({
      host: '127.0.0.1', port: 0, otlpTraces: false, spanProcessors: [new BatchSpanProcessor(exporter)],
      registerGlobally: parts.has('traces'),
    });
    if (!parts.has('traces')) {
      // Metrics only: undo what startTelemetry did for traces, so agents-js and openrtc see no provider.
      agentsTelemetry.setTracerProvider(trace.getTracerProvider());
    }
    telemetry = parts.has('metrics') ? started : { ...started, attach: () => ({ detach: () => undefined }) };
  }
  // The logger's default destination, as a deployed worker has it: this process's stdout,
  // which the driver points at /dev/null (or at BENCH_LOG_DEST for the "on" worker).
  const logger = createLogger({ otlp: false });
  // BENCH_ON_LOG_LEVEL lets the 'on' variant log at another level, to tell logs' share of the cost from the rest.
  logger.level = on && parts.has('logs') ? (process.env.BENCH_ON_LOG_LEVEL ?? 'info') : 'silent';

  // BENCH_CPU_PROFILE_DIR: write a V8 CPU profile of the measured phase only (not start-up
  // or warm-up) to <dir>/<variant>-<pid>.cpuprofile.
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
  const inspector = profileDir ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
  }
  // BENCH_HEAP_PROFILE_DIR: write a sampling allocation profile of the measured phase (one
  // sample per 4 KiB allocated, objects already collected included) to
  // <dir>/<variant>-<pid>.heapprofile. Bytes allocated vary far less between identical runs
  // than CPU time does on a shared machine, so a change's effect on them shows in one round.
  const heapDir = process.env.BENCH_HEAP_PROFILE_DIR;
  const heapInspector = heapDir ? new Session() : undefined;
  if (heapInspector) {
    heapInspector.connect();
    await heapInspector.post('HeapProfiler.enable');
  }

  const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
  const pool = new AgentPool({
    agent: BenchAgent,
    tenantConfig: Object.fromEntries(tenants.map((tenant) => [tenant, {
      llm: new ScriptedLLM({ reply: (text) => `${tenant} answers: ${text}`, provider: 'openai', model: 'gpt-4o-mini' }),
      tts: new FakeTTS({ provider: 'openai', model: 'tts-1' }),
    }])),
    enableTenantCircuitBreaker: true,
    sessionOptions: { turnHandling: { turnDetection: 'manual' } },
    // BENCH_AGENT_SPAN_SHARE measures another trace policy than the default; it changes
    // nothing where telemetry is off (no tracer provider is installed there).
    ...(process.env.BENCH_AGENT_SPAN_SHARE ? { tracing: { agentSpanShare: Number(process.env.BENCH_AGENT_SPAN_SHARE) } } : {}),
  });
  await pool.start({
    url, apiKey, apiSecret,
    transport: new SimulatedRoomTransport(),
    handleSignals: false,
    telemetry,
    logger,
    drainTimeoutMs: 10_000,
  });

  // BENCH_GC=1: count this worker's garbage collections by kind during the measured phase
  // (perf_hooks 'gc' entries: scavenges, mark-compacts, incremental marking steps) and
  // print them with the thread report. Diagnostic only.
  const gcByKind = new Map<string, { count: number; ms: number }>();
  if (process.env.BENCH_GC === '1') {
    const kindNames: Record<number, string> = {
      [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
      [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
    };
    const kindName = (kind: number | undefined) => (kind === undefined ? 'unknown' : (kindNames[kind] ?? String(kind)));
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = kindName((entry as unknown as { detail?: { kind?: number } }).detail?.kind);
        const seen = gcByKind.get(kind) ?? { count: 0, ms: 0 };
        seen.count += 1;
        seen.ms += entry.duration;
        gcByKind.set(kind, seen);
      }
    }).observe({ entryTypes: ['gc'] });
  }

  let phase: {
    arm: ArmMessage; ended: number; succeeded: number; cpu: NodeJS.CpuUsage; startedAt: number; builtins: number;
    threads: Map<string, number>;
  } | undefined;
  let measuring: NonNullable<typeof phase> | undefined;
  // Numbers each measured phase's profile files: a worker may be measured in several rounds.
  let measuredPhases = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });

  // A refusal means the batch will never complete: say why where the driver's console shows it.
  pool.on('admission', (event) => {
    if (!event.accepted) process.stderr.write(`${variant} worker refused ${event.jobId}: ${event.reason ?? 'unknown'} ${event.message ?? ''}\n`);
  });

  pool.on('sessionEnded', (event) => {
    if (!phase) return;
    phase.ended += 1;
    if (event.outcome === 'success') phase.succeeded += 1;
    if (phase.ended < phase.arm.sessions) return;
    const current = phase;
    phase = undefined;
    void finishPhase(current);
  });

  /**
   * What telemetry costs besides the sessions: sending the batched spans, and serving one
   * scrape. The driver scrapes (as Prometheus would), so the HTTP client's work is not the
   * worker's; both variants then go through the same messages before the CPU is read.
   */
  async function finishPhase(current: NonNullable<typeof phase>): Promise<void> {
    if (telemetry) await telemetry.forceFlush();
    measuring = current;
    send({ type: 'flushed', metricsUrl: telemetry ? telemetry.metricsUrl : undefined });
  }

  async function reportPhase(current: NonNullable<typeof phase>): Promise<void> {
    const cpu = process.cpuUsage(current.cpu);
    if (threadsReported && current.arm.phase === 'measured') {
      const after = threadCpuMs();
      const parts = [...after].map(([name, ms]) => `${name} ${Math.round(ms - (current.threads.get(name) ?? 0))}`);
      process.stderr.write(`threads ${variant}: ${parts.join(', ')} (ms)\n`);
      if (on) process.stderr.write(`spans so far: ${[...exporter.byName].map(([name, n]) => `${name} ${n}`).join(', ')}\n`);
    }
    if (process.env.BENCH_GC === '1' && current.arm.phase === 'measured') {
      process.stderr.write(`gc ${variant}: ${[...gcByKind].map(([kind, g]) => `${kind} ${g.count}x ${g.ms.toFixed(0)} ms`).join(', ')}\n`);
    }
    const wallMs = performance.now() - current.startedAt;
    if (current.arm.phase === 'measured') measuredPhases += 1;
    loop.disable();
    if (inspector && profileDir && current.arm.phase === 'measured') {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(path.join(profileDir, `${variant}-${process.pid}-${measuredPhases}.cpuprofile`), JSON.stringify(profile));
    }
    if (heapInspector && heapDir && current.arm.phase === 'measured') {
      const { profile } = await heapInspector.post('HeapProfiler.stopSampling');
      writeFileSync(path.join(heapDir, `${variant}-${process.pid}-${measuredPhases}.heapprofile`), JSON.stringify(profile));
    }
    const result: PhaseResult = {
      phase: current.arm.phase,
      variant,
      sessions: current.arm.sessions,
      succeeded: current.succeeded,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      loopP99Ms: loop.count > 0 ? loop.percentile(99) / 1e6 : 0,
      builtinsLoaded: builtinModules().slice(current.builtins).filter((m) => m.startsWith('NativeModule ')),
    };
    send({ type: 'phase', result });
  }

  // Told to stop only once the driver has measured every worker of the round, so one
  // worker's drain never runs while another is measured.
  async function stop(): Promise<void> {
    await pool.drain();
    if (telemetry) await telemetry.shutdown();
    logger.flush();
    process.disconnect?.();
  }

  async function arm(message: ArmMessage): Promise<void> {
    gcByKind.clear();
    loop.reset();
    loop.enable();
    if (inspector && message.phase === 'measured') await inspector.post('Profiler.start');
    if (heapInspector && message.phase === 'measured') {
      await heapInspector.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        // Not in @types/node 20's protocol types; V8 11 (Node 20) takes them.
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
    }
    phase = {
      arm: message, ended: 0, succeeded: 0, cpu: process.cpuUsage(), startedAt: performance.now(), builtins: builtinModules().length,
      threads: threadsReported ? threadCpuMs() : new Map<string, number>(),
    };
    send({ type: 'armed', phase: message.phase });
  }

  process.on('message', (message: DriverMessage) => {
    if (message.type === 'stop') {
      void stop();
    } else if (message.type === 'scraped') {
      const current = measuring;
      measuring = undefined;
      if (current) void reportPhase(current);
    } else {
      void arm(message);
    }
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
