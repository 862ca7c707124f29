// A pool with admitted calls of three tenants and a voicegateway exporter attached to it,
// delivering to a local collector over real HTTP, with its metrics on a real /metrics.
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { UsageEvent } from '../../src/telemetry/pool_events.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';
import type { VoiceGatewayExporter } from '../../src/voicegateway/exporter.js';
import type { VoiceGatewayOptions } from '../../src/voicegateway/options.js';
import { type Scrape, scrape } from '../telemetry/prometheus_text.js';
import { SupportAgent } from '../helpers/test_agent.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

export interface DeliveryHarness {
  pool: AgentPool;
  exporter: VoiceGatewayExporter;
  telemetry: OpenRtcTelemetry;
  logs: LogLine[];
  /** Admits a call for the tenant and reports `count` LLM requests of it; returns their request ids. */
  usage(tenant: string, count: number): Promise<string[]>;
  metrics(): Promise<Scrape>;
  close(): Promise<void>;
}

let jobSeq = 0;

export async function startDeliveryHarness(
  keys: Record<string, string>,
  options: Omit<VoiceGatewayOptions, 'url'> & { url: string },
): Promise<DeliveryHarness> {
  const tenantConfig = Object.fromEntries(Object.entries(keys).map(([tenant, key]) => [tenant, { voiceGatewayKey: key }]));
  const pool = new AgentPool({
    agent: SupportAgent,
    tenantConfig,
    voiceGateway: { retry: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0.5 }, flushIntervalMs: 60_000, ...options },
  });
  const exporter = pool.voiceGateway!;
  const telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false, registerGlobally: false });
  const logs: LogLine[] = [];
  exporter.attach(pool.runtime, {
    meter: telemetry.meter,
    logger: {
      info: (fields, message) => logs.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
      warn: (fields, message) => logs.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
      error: (fields, message) => logs.push({ level: 'error', fields: fields as Record<string, unknown>, message }),
    },
    revision: 'test-rev',
  });
  return {
    pool,
    exporter,
    telemetry,
    logs,
    async usage(tenant, count) {
      const jobId = `job-${++jobSeq}`;
      const decision = await pool.admit({ jobId, roomName: `room-${jobSeq}`, jobMetadata: JSON.stringify({ tenant }) });
      if (!decision.accepted) throw new Error(decision.message);
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const event: UsageEvent = {
          tenant, agent: 'support', kind: 'llm', provider: 'openai', model: 'gpt-4o',
          inputTokens: 100 + i, outputTokens: 10, cachedTokens: 0, jobId, roomName: `room-${jobSeq}`,
          requestId: `req-${i}`, at: Date.now(),
        };
        pool.runtime.recordUsage(event);
        ids.push(`${jobId}:llm:req-${i}`);
      }
      return ids;
    },
    metrics: () => scrape(telemetry.metricsUrl),
    async close() {
      await exporter.close();
      await telemetry.shutdown();
    },
  };
}
