import type { voice } from '@livekit/agents';

/** Options of AgentSession that the pool passes through to every session it builds. */
export type SessionOptions = Omit<
  ConstructorParameters<typeof voice.AgentSession>[0],
  'stt' | 'llm' | 'tts' | 'vad'
>;
