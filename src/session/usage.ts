import type { metrics } from '@livekit/agents';
import type { UsageEvent } from '../telemetry/pool_events.js';

/**
 * Turns one agents-js `metrics_collected` payload into a usage record for the tenant,
 * or undefined for metrics that are not billed usage (VAD, end of turn, ...).
 */
export function usageFromMetrics(
  tenant: string,
  agent: string,
  collected: metrics.AgentMetrics,
  fallbackProvider: (kind: 'llm' | 'stt' | 'tts') => { provider: string; model: string },
): UsageEvent | undefined {
  const withSource = (kind: 'llm' | 'stt' | 'tts', metadata: metrics.MetricsMetadata | undefined) => {
    const fallback = fallbackProvider(kind);
    return {
      tenant,
      agent,
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
      };
    case 'stt_metrics':
      return { ...withSource('stt', collected.metadata), audioSeconds: collected.audioDurationMs / 1000 };
    case 'tts_metrics':
      return { ...withSource('tts', collected.metadata), characters: collected.charactersCount };
    default:
      return undefined;
  }
}
