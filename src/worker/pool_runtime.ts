import type { AdmissionDecision, CallRequest } from '../admission/admission_decision.js';
import type { AdmissionTicket } from '../admission/admission_ticket.js';
import type { BreakerPolicy } from '../admission/breaker_policy.js';
import type { ProviderScope } from '../session/provider_scope.js';
import type { BuiltSession } from '../session/session_builder.js';
import type { ObservedPool } from '../telemetry/observed_pool.js';
import type { LatencyEvent, ProviderErrorEvent, UsageEvent } from '../telemetry/pool_events.js';
import type { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import type { SessionContext } from '../telemetry/session_context.js';
import type { Clock } from '../util/clock.js';

/**
 * What the worker runtime needs from the pool it hosts: decide a call, find its ticket,
 * build its session, report usage, and stop taking calls. The worker depends on this,
 * not on the AgentPool class, so the pool can own a worker without an import cycle.
 */
export interface PoolRuntime extends ObservedPool {
  readonly deploymentVersion: string;
  readonly agentNames: readonly string[];
  readonly maxConcurrentSessions: number | undefined;
  readonly isDraining: boolean;
  /** The resolved breaker policy, or undefined without a breaker. */
  readonly breakerPolicy: BreakerPolicy | undefined;
  /** The pool's clock: every timer of the worker and its sessions runs on it. */
  readonly clock: Clock;
  admit(request: CallRequest): Promise<AdmissionDecision>;
  ticket(jobId: string): AdmissionTicket | undefined;
  liveTickets(): AdmissionTicket[];
  /**
   * Starts the pool's stores. The worker calls it once its logging and metrics listen and
   * before it connects: a Redis store's first calls (and a switch away from an unreachable
   * Redis) are then logged and counted like every later one, and a restarted worker frees
   * its previous life's leases before its first call.
   */
  startStores(): Promise<void>;
  /** With a scope, the session sees only its own events from shared provider objects. */
  buildSession(ticket: AdmissionTicket, scope?: ProviderScope): Promise<BuiltSession>;
  sessionContext(ticket: AdmissionTicket): SessionContext;
  recordUsage(event: UsageEvent): void;
  recordLatency(event: LatencyEvent): void;
  recordProviderError(event: ProviderErrorEvent): void;
  /** The pool's cost exporter, started and flushed with the worker; undefined when off. */
  readonly voiceGateway: VoiceGatewayExporter | undefined;
  startDraining(): void;
}
