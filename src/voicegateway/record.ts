import { randomUUID } from 'node:crypto';
import type { UsageEvent } from '../telemetry/pool_events.js';
import { type PriceTable, type Units, costOf } from './price_table.js';

export type Modality = 'stt' | 'llm' | 'tts';

/**
 * One row of voicegateway's ingest API, as sent: snake_case, epoch seconds. `id` is the
 * primary key on the collector's side, so a record keeps its id on every retry and a
 * resent row is counted as a duplicate instead of stored twice.
 */
export interface VoiceGatewayRecord {
  id: string;
  timestamp: number;
  modality: Modality;
  /** `provider/model`. */
  model_id: string;
  provider: string;
  project?: string;
  /** LLM tokens, STT minutes, TTS characters. */
  input_units?: number;
  /** LLM output tokens. */
  output_units?: number;
  cached_input_units?: number;
  cost_usd?: number;
  pricing_source?: string;
  ttfb_ms?: number;
  total_latency_ms?: number;
  status?: string;
  error_message?: string;
  /** Where the row came from: `tenant_id`, `room`, `job_id`, `trace_id`, `agent`. */
  metadata?: Record<string, string>;
  session_id?: string;
  agent_id?: string;
  revision?: string;
  turn_index?: number;
}

export interface RecordSettings {
  project: string | undefined;
  revision: string | undefined;
  prices: PriceTable | undefined;
  pricingSource: string;
}

/** The units voicegateway bills a usage event in. */
export function unitsOf(usage: UsageEvent): Units {
  switch (usage.kind) {
    case 'llm':
      return { input: usage.inputTokens ?? 0, output: usage.outputTokens ?? 0, cachedInput: usage.cachedTokens ?? 0 };
    case 'stt':
      return { input: (usage.audioSeconds ?? 0) / 60 };
    case 'tts':
      return { input: usage.characters ?? 0 };
  }
}

/** `provider/model`, without doubling a provider prefix the model name already has. */
export function modelIdOf(provider: string, model: string): string {
  return model.startsWith(`${provider}/`) ? model : `${provider}/${model}`;
}

/** Builds the row for one provider request. `id` is decided by the caller (see `recordIdOf`). */
export function buildRecord(id: string, usage: UsageEvent, now: number, settings: RecordSettings): VoiceGatewayRecord {
  const units = unitsOf(usage);
  const modelId = modelIdOf(usage.provider, usage.model);
  const metadata: Record<string, string> = { tenant_id: usage.tenant, agent: usage.agent };
  if (usage.roomName !== undefined) metadata.room = usage.roomName;
  if (usage.jobId !== undefined) metadata.job_id = usage.jobId;
  if (usage.traceId !== undefined) metadata.trace_id = usage.traceId;
  const record: VoiceGatewayRecord = {
    id,
    timestamp: (usage.at ?? now) / 1000,
    modality: usage.kind,
    model_id: modelId,
    provider: usage.provider,
    input_units: units.input ?? 0,
    status: usage.cancelled ? 'cancelled' : 'success',
    metadata,
    agent_id: usage.agent,
  };
  if (usage.kind === 'llm') {
    record.output_units = units.output ?? 0;
    record.cached_input_units = units.cachedInput ?? 0;
  }
  if (usage.jobId !== undefined) record.session_id = usage.jobId;
  if (settings.project !== undefined) record.project = settings.project;
  if (settings.revision !== undefined) record.revision = settings.revision;
  if (usage.ttfbMs !== undefined && usage.ttfbMs >= 0) record.ttfb_ms = usage.ttfbMs;
  if (usage.durationMs !== undefined && usage.durationMs >= 0) record.total_latency_ms = usage.durationMs;
  const price = settings.prices?.[modelId];
  if (price) {
    record.cost_usd = costOf(price, units);
    record.pricing_source = settings.pricingSource;
  }
  return record;
}

/**
 * A stable id for a provider request: the session, the modality and agents-js's request id
 * (plus the segment for streaming TTS). Usage without a request id (some STT providers)
 * gets the session's running count instead, which is just as stable once assigned.
 * The id is decided once, when the usage arrives; every retry sends the same one.
 */
export function recordIdOf(usage: UsageEvent, sequence: number): string {
  const scope = usage.jobId ?? usage.tenant;
  // Outside a session there is no scope a count would be unique in.
  const request = usage.requestId ? usage.requestId : usage.jobId !== undefined ? `n${sequence}` : randomUUID();
  const segment = usage.segmentId && usage.segmentId !== usage.requestId ? `:${usage.segmentId}` : '';
  return `${scope}:${usage.kind}:${request}${segment}`;
}
