// The measured side: one pool worker, with telemetry on or off, hosting the sessions the
// driver dispatches. It reports CPU, wall time and event-loop delay per phase over IPC.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { voice } from '@livekit/agents';
import { ExportResultCode } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
// Modules rather than the package's front door: a worker process starts per run, and
// importing only what it uses keeps the benchmark's smoke test quick.
import { AgentPool } from '../../src/pool/agent_pool.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';
import { FakeTTS } from '../../src/testing/fake_tts.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { SimulatedRoomTransport } from '../../src/testing/simulated_room.js';
import type { ArmMessage, PhaseResult, StopMessage, Variant, WorkerMessage } from './protocol.js';

/** Accepts spans and drops them: the cost measured is producing and batching, not a network. */
class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    this.exported += spans.length;
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

async function main(): Promise<void> {
  const variant = process.env.BENCH_VARIANT as Variant;
  const url = process.env.BENCH_URL;
  const apiKey = process.env.BENCH_API_KEY;
  const apiSecret = process.env.BENCH_API_SECRET;
  if ((variant !== 'on' && variant !== 'off') || !url || !apiKey || !apiSecret) {
    throw new Error('BENCH_VARIANT (on|off), BENCH_URL, BENCH_API_KEY and BENCH_API_SECRET must be set');
  }
  const on = variant === 'on';

  let telemetry: OpenRtcTelemetry | false = false;
  const exporter = new DiscardingExporter();
  if (on) {
    telemetry = await startTelemetry({
      host: '127.0.0.1', port: 0, otlpTraces: false, spanProcessors: [new BatchSpanProcessor(exporter)],
    });
  }
  const logger = createLogger({ otlp: false, destination: pino.destination({ dest: '/dev/null', sync: false }) });
  // BENCH_ON_LOG_LEVEL lets the 'on' variant log at another level, to tell logs' share of the cost from the rest.
  logger.level = on ? (process.env.BENCH_ON_LOG_LEVEL ?? 'info') : 'silent';

  const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
  const pool = new AgentPool({
    agent: BenchAgent,
    tenantConfig: Object.fromEntries(tenants.map((tenant) => [tenant, {
      llm: new ScriptedLLM({ reply: (text) => `${tenant} answers: ${text}`, provider: 'openai', model: 'gpt-4o-mini' }),
      tts: new FakeTTS({ provider: 'openai', model: 'tts-1' }),
    }])),
    enableTenantCircuitBreaker: true,
    sessionOptions: { turnHandling: { turnDetection: 'manual' } },
  });
  await pool.start({
    url, apiKey, apiSecret,
    transport: new SimulatedRoomTransport(),
    handleSignals: false,
    telemetry,
    logger,
    drainTimeoutMs: 10_000,
  });

  let phase: { arm: ArmMessage; ended: number; succeeded: number; cpu: NodeJS.CpuUsage; startedAt: number } | undefined;
  const loop = monitorEventLoopDelay({ resolution: 5 });

  pool.on('sessionEnded', (event) => {
    if (!phase) return;
    phase.ended += 1;
    if (event.outcome === 'success') phase.succeeded += 1;
    if (phase.ended < phase.arm.sessions) return;
    const current = phase;
    phase = undefined;
    void finishPhase(current);
  });

  async function finishPhase(current: NonNullable<typeof phase>): Promise<void> {
    // What telemetry costs besides the sessions: sending the batched spans and one scrape.
    if (telemetry) {
      await telemetry.forceFlush();
      await (await fetch(telemetry.metricsUrl)).text();
    }
    const cpu = process.cpuUsage(current.cpu);
    const wallMs = performance.now() - current.startedAt;
    loop.disable();
    const result: PhaseResult = {
      phase: current.arm.phase,
      variant,
      sessions: current.arm.sessions,
      succeeded: current.succeeded,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      loopP99Ms: loop.count > 0 ? loop.percentile(99) / 1e6 : 0,
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

  process.on('message', (message: ArmMessage | StopMessage) => {
    if (message.type === 'stop') {
      void stop();
      return;
    }
    loop.reset();
    loop.enable();
    phase = { arm: message, ended: 0, succeeded: 0, cpu: process.cpuUsage(), startedAt: performance.now() };
    send({ type: 'armed', phase: message.phase });
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
