import type { BreakerTransitionEvent } from '../admission/circuit_breaker.js';
import type { RefusalReason } from '../errors.js';
import type { ConfigLoadEvent } from '../tenancy/tenant_config.js';

/** How a session ended. Hangups are successes; drains and terminations are cancellations. */
export type SessionOutcome = 'success' | 'failed' | 'cancelled';

export interface AdmissionEvent {
  jobId: string;
  /** Undefined when the tenant id itself was invalid: it never becomes a label. */
  tenant: string | undefined;
  agent: string | undefined;
  accepted: boolean;
  reason: RefusalReason | undefined;
  message: string | undefined;
  probe: boolean;
  durationMs: number;
}

export interface SessionStartedEvent {
  jobId: string;
  sessionId: string;
  tenant: string;
  agent: string;
}

export interface SessionEndedEvent extends SessionStartedEvent {
  outcome: SessionOutcome;
  durationMs: number;
  /** Why it failed or was cancelled, secret-free. */
  detail: string | undefined;
}

export interface ReservationExpiredEvent {
  jobId: string;
  tenant: string;
  agent: string;
  waitedMs: number;
}

/**
 * Provider usage of one request, from agents-js `metrics_collected` events, attributed to
 * the session whose request it was (each session sees only its own provider events).
 */
export interface UsageEvent {
  /** The session (and LiveKit job) the request belonged to. */
  sessionId: string;
  jobId: string;
  tenant: string;
  agent: string;
  kind: 'llm' | 'stt' | 'tts';
  provider: string;
  model: string;
  /** LLM only. */
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  /** STT only: seconds of audio recognised. */
  audioSeconds?: number;
  /** TTS only: characters synthesised. */
  characters?: number;
}

export interface PoolEventMap {
  admission: AdmissionEvent;
  sessionStarted: SessionStartedEvent;
  sessionEnded: SessionEndedEvent;
  reservationExpired: ReservationExpiredEvent;
  breakerTransition: BreakerTransitionEvent;
  configLoad: ConfigLoadEvent;
  usage: UsageEvent;
  draining: { at: number };
}

export type PoolEventName = keyof PoolEventMap;
export type PoolListener<K extends PoolEventName> = (event: PoolEventMap[K]) => void;
