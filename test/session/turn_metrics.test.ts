import { llm, type metrics, type voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { latencyFromMetrics, providerErrorFromEvent, turnLatencyFromItem } from '../../src/session/turn_metrics.js';

const fallback = (kind: 'llm' | 'stt' | 'tts') => ({ provider: `${kind}-fallback`, model: `${kind}-model` });

describe('latencyFromMetrics', () => {
  it('reads LLM time to first token and duration in seconds, with the reported provider', () => {
    const m = { type: 'llm_metrics', ttftMs: 250, durationMs: 1500, cancelled: false, metadata: { modelProvider: 'openai', modelName: 'gpt-4o' } } as metrics.LLMMetrics;
    expect(latencyFromMetrics('acme', 'support', m, fallback)).toEqual([
      { tenant: 'acme', agent: 'support', stage: 'llm_ttft', seconds: 0.25, provider: 'openai', model: 'gpt-4o' },
      { tenant: 'acme', agent: 'support', stage: 'llm_duration', seconds: 1.5, provider: 'openai', model: 'gpt-4o' },
    ]);
  });

  it('reads TTS time to first byte, falls back to the session provider, and drops unknown and cancelled figures', () => {
    const m = { type: 'tts_metrics', ttfbMs: -1, durationMs: 800, cancelled: true } as metrics.TTSMetrics;
    expect(latencyFromMetrics('acme', 'support', m, fallback)).toEqual([]);
    const ok = { type: 'tts_metrics', ttfbMs: 120, durationMs: 800, cancelled: false } as metrics.TTSMetrics;
    expect(latencyFromMetrics('acme', 'support', ok, fallback)).toEqual([
      { tenant: 'acme', agent: 'support', stage: 'tts_ttfb', seconds: 0.12, provider: 'tts-fallback', model: 'tts-model' },
      { tenant: 'acme', agent: 'support', stage: 'tts_duration', seconds: 0.8, provider: 'tts-fallback', model: 'tts-model' },
    ]);
  });

  it('reads the end-of-utterance delay, skipping turns without a detected end of speech', () => {
    const eou = (ms: number) => ({ type: 'eou_metrics', endOfUtteranceDelayMs: ms }) as metrics.EOUMetrics;
    expect(latencyFromMetrics('acme', 'support', eou(600), fallback)).toEqual([
      { tenant: 'acme', agent: 'support', stage: 'end_of_utterance', seconds: 0.6 },
    ]);
    expect(latencyFromMetrics('acme', 'support', eou(0), fallback)).toEqual([]);
    expect(latencyFromMetrics('acme', 'support', { type: 'vad_metrics' } as metrics.VADMetrics, fallback)).toEqual([]);
  });
});

describe('turnLatencyFromItem', () => {
  it('takes the end-to-end latency agents-js puts on the agent reply, and nothing else', () => {
    const reply = llm.ChatMessage.create({ role: 'assistant', content: 'hi', metrics: { e2eLatency: 0.9 } });
    expect(turnLatencyFromItem('acme', 'support', reply)).toEqual({ tenant: 'acme', agent: 'support', stage: 'turn', seconds: 0.9 });
    expect(turnLatencyFromItem('acme', 'support', llm.ChatMessage.create({ role: 'assistant', content: 'text turn' }))).toBeUndefined();
    expect(turnLatencyFromItem('acme', 'support', llm.ChatMessage.create({ role: 'user', content: 'x', metrics: { e2eLatency: 1 } }))).toBeUndefined();
  });
});

describe('providerErrorFromEvent', () => {
  const event = (error: object, source?: object) => ({ type: 'error', error, source, createdAt: 0 }) as unknown as voice.ErrorEvent;

  it('names the component, the provider and whether agents-js retries', () => {
    expect(providerErrorFromEvent('acme', 'support', event({ type: 'llm_error', recoverable: false }, { provider: 'openai' }), fallback))
      .toEqual({ tenant: 'acme', agent: 'support', component: 'llm', provider: 'openai', recoverable: false });
    expect(providerErrorFromEvent('acme', 'support', event({ type: 'tts_error', recoverable: true }), fallback))
      .toEqual({ tenant: 'acme', agent: 'support', component: 'tts', provider: 'tts-fallback', recoverable: true });
  });

  it('ignores errors that are not a provider\'s', () => {
    expect(providerErrorFromEvent('acme', 'support', event({ type: 'interruption_detection_error', recoverable: true }), fallback)).toBeUndefined();
  });
});
