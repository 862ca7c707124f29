import type { llm, metrics, voice } from '@livekit/agents';
import type { LatencyEvent, ProviderComponent, ProviderErrorEvent } from '../telemetry/pool_events.js';

type ProviderOf = (kind: 'llm' | 'stt' | 'tts') => { provider: string; model: string };

/**
 * Turns one agents-js `metrics_collected` payload into the latency figures it holds:
 * end-of-utterance delay, LLM time to first token and duration, TTS time to first byte
 * and duration. agents-js reports milliseconds; these are seconds. A figure agents-js
 * marks as unknown (negative) is dropped, and so is the duration of a cancelled request,
 * which measures the interruption rather than the provider.
 */
export function latencyFromMetrics(
  tenant: string,
  agent: string,
  collected: metrics.AgentMetrics,
  fallbackProvider: ProviderOf,
): LatencyEvent[] {
  const out: LatencyEvent[] = [];
  const push = (stage: LatencyEvent['stage'], ms: number, source?: { provider: string; model: string }) => {
    if (!Number.isFinite(ms) || ms < 0) return;
    out.push({ tenant, agent, stage, seconds: ms / 1000, ...source });
  };
  const sourceOf = (kind: 'llm' | 'tts', metadata: metrics.MetricsMetadata | undefined) => {
    const fallback = fallbackProvider(kind);
    return { provider: metadata?.modelProvider || fallback.provider, model: metadata?.modelName || fallback.model };
  };
  switch (collected.type) {
    case 'eou_metrics':
      // 0 means agents-js saw no end of speech (a text turn, a manual commit): not a measurement.
      if (collected.endOfUtteranceDelayMs > 0) push('end_of_utterance', collected.endOfUtteranceDelayMs);
      break;
    case 'llm_metrics': {
      const source = sourceOf('llm', collected.metadata);
      push('llm_ttft', collected.ttftMs, source);
      if (!collected.cancelled) push('llm_duration', collected.durationMs, source);
      break;
    }
    case 'tts_metrics': {
      const source = sourceOf('tts', collected.metadata);
      push('tts_ttfb', collected.ttfbMs, source);
      if (!collected.cancelled) push('tts_duration', collected.durationMs, source);
      break;
    }
    default:
      break;
  }
  return out;
}

/**
 * The end-to-end latency of a turn, as agents-js measures it on the assistant's chat
 * message: from the caller stopping speaking to the agent starting to speak (seconds).
 * Text turns and turns nobody heard carry none.
 */
export function turnLatencyFromItem(tenant: string, agent: string, item: llm.ChatItem): LatencyEvent | undefined {
  if (item.type !== 'message' || item.role !== 'assistant') return undefined;
  const seconds = item.metrics.e2eLatency;
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  return { tenant, agent, stage: 'turn', seconds };
}

const COMPONENT_BY_ERROR_TYPE: Readonly<Record<string, ProviderComponent>> = {
  llm_error: 'llm',
  stt_error: 'stt',
  tts_error: 'tts',
  realtime_model_error: 'realtime',
};

/**
 * A provider error the session reported, or undefined for errors that are not a
 * provider's (agents-js also reports its own interruption detector's errors here).
 */
export function providerErrorFromEvent(
  tenant: string,
  agent: string,
  event: voice.ErrorEvent,
  fallbackProvider: ProviderOf,
): ProviderErrorEvent | undefined {
  const error = event.error as { type?: unknown; recoverable?: unknown };
  const component = typeof error.type === 'string' ? COMPONENT_BY_ERROR_TYPE[error.type] : undefined;
  if (component === undefined) return undefined;
  const source = event.source as { provider?: unknown } | undefined;
  const provider = typeof source?.provider === 'string' && source.provider !== ''
    ? source.provider
    : component === 'realtime' ? 'unknown' : fallbackProvider(component).provider;
  return { tenant, agent, component, provider, recoverable: error.recoverable === true };
}
