import type { metrics } from '@livekit/agents';
import type { UsageEvent } from '../telemetry/pool_events.js';

/** Who used it: the session the metrics were collected in. */
export interface UsageSource {
  tenant: string;
  agent: string;
  jobId?: string;
  roomName?: string;
  traceId?: string;
}

/**
 * Turns one agents-js `metrics_collected` payload into a usage record for the tenant,
 * or undefined for metrics that are not billed usage (VAD, end of turn, ...). agents-js
 * reports one payload per provider request (per segment for streaming TTS), so each
 * record is one billable request.
 *
 * `ttsStreams` is whether the session's TTS streams natively. agents-js reports the text
 * of a non-streaming TTS twice: once per request the provider answered (`streamed:
 * false`) and once more for the whole reply from the StreamAdapter that feeds it
 * sentences (`streamed: true`). Only the provider's own requests are usage.
 */
export function usageFromMetrics(
  source: UsageSource,
  collected: metrics.AgentMetrics,
  fallbackProvider: (kind: 'llm' | 'stt' | 'tts') => { provider: string; model: string },
  ttsStreams?: boolean,
): UsageEvent | undefined {
  const withSource = (kind: 'llm' | 'stt' | 'tts', metadata: metrics.MetricsMetadata | undefined) => {
    const fallback = fallbackProvider(kind);
    return {
      ...source,
      kind,
      provider: metadata?.modelProvider || fallback.provider,
      model: metadata?.modelName || fallback.model,
    };
  };
  switch (collected.type) {
    case 'llm_metrics':
      return {
        ...withSource('llm', collected.metadata),
        inputTokens: collected.promptTokens,
        outputTokens: collected.completionTokens,
        cachedTokens: collected.promptCachedTokens,
        requestId: collected.requestId,
        at: collected.timestamp,
        ttfbMs: collected.ttftMs,
        durationMs: collected.durationMs,
        cancelled: collected.cancelled,
      };
    case 'stt_metrics':
      return {
        ...withSource('stt', collected.metadata),
        audioSeconds: collected.audioDurationMs / 1000,
        requestId: collected.requestId,
        at: collected.timestamp,
        durationMs: collected.durationMs,
      };
    case 'tts_metrics':
      if (ttsStreams !== undefined && collected.streamed !== ttsStreams) return undefined;
      return {
        ...withSource('tts', collected.metadata),
        characters: collected.charactersCount,
        requestId: collected.requestId,
        ...(collected.segmentId === undefined ? {} : { segmentId: collected.segmentId }),
        at: collected.timestamp,
        ttfbMs: collected.ttfbMs,
        durationMs: collected.durationMs,
        cancelled: collected.cancelled,
      };
    default:
      return undefined;
  }
}
