import type { AdmissionDecision, CallRequest } from '../admission/admission_decision.js';
import type { AdmissionTicket } from '../admission/admission_ticket.js';
import type { BreakerPolicy } from '../admission/breaker_policy.js';
import type { AgentRegistry } from '../routing/agent_registry.js';
import type { ProviderScope } from '../session/provider_scope.js';
import { type BuiltSession, buildAgentSession } from '../session/session_builder.js';
import type { LatencyEvent, PoolEventMap, PoolEventName, PoolListener, ProviderErrorEvent, UsageEvent } from '../telemetry/pool_events.js';
import type { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import type { RuntimeSnapshot } from '../telemetry/runtime_snapshot.js';
import { type SessionContext, runWithSessionContext } from '../telemetry/session_context.js';
import { keepsAgentDetailLogs } from '../telemetry/trace_policy.js';
import type { Clock } from '../util/clock.js';
import type { TypedEvents } from '../util/typed_events.js';
import type { PoolRuntime } from '../worker/pool_runtime.js';
import type { AdmissionControl } from './admission_control.js';
import type { LiveSessions } from './live_sessions.js';
import type { ResolvedPoolOptions } from './options.js';

export interface HostingParts {
  resolved: ResolvedPoolOptions;
  registry: AgentRegistry;
  events: TypedEvents<PoolEventMap>;
  live: LiveSessions;
  admission: AdmissionControl;
  snapshot(): RuntimeSnapshot;
  /** Starts the reservation and breaker stores (for Redis: connect, free a previous life's leases). */
  startStores(): Promise<void>;
}

/**
 * The pool as its worker sees it: the narrow `PoolRuntime` interface over the pool's
 * parts. It also holds the pool's drain state, the one place that says whether new
 * calls are refused with `draining`.
 */
export class HostingRuntime implements PoolRuntime {
  readonly clock: Clock;
  private drainingSince: number | undefined;

  constructor(private readonly parts: HostingParts) {
    this.clock = parts.resolved.clock;
  }

  get deploymentVersion(): string {
    return this.parts.resolved.deploymentVersion;
  }

  get agentNames(): string[] {
    return this.parts.registry.names();
  }

  get maxConcurrentSessions(): number | undefined {
    return this.parts.resolved.caps.global;
  }

  get voiceGateway(): VoiceGatewayExporter | undefined {
    return this.parts.resolved.voiceGateway;
  }

  get breakerPolicy(): BreakerPolicy | undefined {
    return this.parts.resolved.breaker?.policy;
  }

  get isDraining(): boolean {
    return this.drainingSince !== undefined;
  }

  on<K extends PoolEventName>(name: K, listener: PoolListener<K>): () => void {
    return this.parts.events.on(name, listener);
  }

  runtimeSnapshot(): RuntimeSnapshot {
    return this.parts.snapshot();
  }

  admit(request: CallRequest): Promise<AdmissionDecision> {
    return this.parts.admission.admit(request);
  }

  ticket(jobId: string): AdmissionTicket | undefined {
    return this.parts.live.get(jobId);
  }

  liveTickets(): AdmissionTicket[] {
    return this.parts.live.all();
  }

  startStores(): Promise<void> {
    return this.parts.startStores();
  }

  /** The session context a ticket's code runs in. */
  sessionContext = (ticket: AdmissionTicket): SessionContext => ({
    tenant: ticket.tenant, agent: ticket.agentName, sessionId: ticket.jobId, jobId: ticket.jobId, roomName: ticket.roomName,
    agentSpans: ticket.agentSpans,
    agentLogs: keepsAgentDetailLogs(this.parts.resolved.tracing, ticket.agentSpans),
  });

  /**
   * Builds the Agent and AgentSession for an admitted call, inside its session context.
   * Providers: the tenant's own, then the agent class's own, then the pool defaults; the
   * tenant's win even over an Agent subclass that sets its own.
   */
  buildSession = (ticket: AdmissionTicket, scope?: ProviderScope): Promise<BuiltSession> => {
    const { defaults, sessionOptions } = this.parts.resolved;
    return runWithSessionContext(this.sessionContext(ticket), () =>
      buildAgentSession({
        ...(scope === undefined ? {} : { scope }),
        agentClass: ticket.agentClass, tenantProviders: ticket.tenantProviders, defaults, sessionOptions,
      }));
  };

  /** Reports provider usage of a session (the runner feeds agents-js `metrics_collected` here). */
  recordUsage = (event: UsageEvent): void => {
    this.parts.events.emit('usage', event);
  };

  /** Reports a latency measured in a session (end of utterance, LLM, TTS, whole turn). */
  recordLatency = (event: LatencyEvent): void => {
    this.parts.events.emit('latency', event);
  };

  /** Reports a provider error a session saw, recoverable or not. */
  recordProviderError = (event: ProviderErrorEvent): void => {
    this.parts.events.emit('providerError', event);
  };

  /** Stops accepting calls; live sessions carry on. */
  startDraining(): void {
    if (this.drainingSince !== undefined) return;
    this.drainingSince = this.clock.now();
    this.parts.events.emit('draining', { at: this.drainingSince });
  }
}
