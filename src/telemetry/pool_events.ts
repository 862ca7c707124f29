import type { SessionOutcome } from '../admission/admission_ticket.js';
import type { StoreModeEvent, StoreOperationEvent } from '../admission/store_status.js';
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

/**
 * Provider usage of one request, from agents-js `metrics_collected` events, attributed to
 * the session whose request it was (each session sees only its own provider events).
 */
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
  /** The session (job) whose request it was; absent for usage reported from outside a session. */
  jobId?: string;
  roomName?: string;
  /** The call's trace (32 hex digits), when tracing is on. */
  traceId?: string;
  /** The provider request, as agents-js reports it (LLM and TTS always, STT when the provider gives one). */
  requestId?: string;
  /** Streaming TTS reports a request in segments; each segment is billed usage of its own. */
  segmentId?: string;
  /** When agents-js measured the request, in ms since the epoch. */
  at?: number;
  /** Time to the first token (LLM) or byte (TTS), in ms. */
  ttfbMs?: number;
  /** The whole request, in ms (0 for streaming STT). */
  durationMs?: number;
  /** The request was cut short (the caller interrupted); its usage still counts. */
  cancelled?: boolean;
}

/** Where a latency figure was measured; `turn` is end to end (caller stops speaking -> agent speaks). */
export type LatencyStage = 'turn' | 'end_of_utterance' | 'llm_ttft' | 'llm_duration' | 'tts_ttfb' | 'tts_duration';

/** One latency measurement of a session, from agents-js `metrics_collected` and chat items. */
export interface LatencyEvent {
  tenant: string;
  agent: string;
  stage: LatencyStage;
  seconds: number;
  /** LLM and TTS stages only. */
  provider?: string;
  model?: string;
}

/** The provider part that failed. */
export type ProviderComponent = 'llm' | 'stt' | 'tts' | 'realtime';

/** One provider error a session reported (agents-js `error` on the session). */
export interface ProviderErrorEvent {
  tenant: string;
  agent: string;
  component: ProviderComponent;
  provider: string;
  /** agents-js retries recoverable errors; an unrecoverable one fails the session. */
  recoverable: boolean;
}

export interface PoolEventMap {
  admission: AdmissionEvent;
  sessionStarted: SessionStartedEvent;
  sessionEnded: SessionEndedEvent;
  reservationExpired: ReservationExpiredEvent;
  breakerTransition: BreakerTransitionEvent;
  configLoad: ConfigLoadEvent;
  usage: UsageEvent;
  latency: LatencyEvent;
  providerError: ProviderErrorEvent;
  draining: { at: number };
  /** Trouble the pool reports instead of throwing (a listener that threw, a signal). */
  diagnostic: Diagnostic;
  /** A shared store's call to its backend (Redis): latency, and the error if it failed. */
  storeOperation: StoreOperationEvent;
  /** A shared store switched away from its backend (by its outage policy) or back. */
  storeModeChange: StoreModeEvent;
}

export type PoolEventName = keyof PoolEventMap;
export type PoolListener<K extends PoolEventName> = (event: PoolEventMap[K]) => void;
