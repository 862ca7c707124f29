import type { SessionOutcome } from '../admission/admission_ticket.js';
import type { BreakerTransitionEvent } from '../admission/circuit_breaker.js';
import type { RefusalReason } from '../errors.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { ConfigLoadEvent } from '../tenancy/tenant_config.js';

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

/** Provider usage of one session, from agents-js `metrics_collected` events. */
export interface UsageEvent {
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
  /** Trouble the pool reports instead of throwing (a listener that threw, a signal). */
  diagnostic: Diagnostic;
}

export type PoolEventName = keyof PoolEventMap;
export type PoolListener<K extends PoolEventName> = (event: PoolEventMap[K]) => void;
