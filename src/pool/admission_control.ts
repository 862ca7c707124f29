import { performance } from 'node:perf_hooks';
import { type Span, context, trace } from '@opentelemetry/api';
import type { AdmissionDecision, CallRequest } from '../admission/admission_decision.js';
import { AdmissionTicket, type TicketEnd, type TicketHost, type TicketInit } from '../admission/admission_ticket.js';
import type { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import type { ReservationStore } from '../admission/reservation_store.js';
import { OpenRtcError, type RefusalReason } from '../errors.js';
import type { OutcomeReport } from '../admission/breaker_state.js';
import type { AgentRegistry } from '../routing/agent_registry.js';
import { type AgentRouter, routeCall } from '../routing/router.js';
import {
  ATTR_AGENT, ATTR_AGENT_SPANS, ATTR_CAP, ATTR_DECISION, ATTR_JOB_ID, ATTR_PROBE, ATTR_REASON, ATTR_TENANT, EVENT_CAP_REFUSED,
  SPAN_ADMISSION, TRACER_NAME,
} from '../telemetry/attributes.js';
import type { PoolEventMap } from '../telemetry/pool_events.js';
import { type ResolvedTracePolicy, recordsAgentSpans } from '../telemetry/trace_policy.js';
import { parseMetadata } from '../tenancy/metadata.js';
import type { TenantConfigResolver } from '../tenancy/tenant_config.js';
import { resolveTenant } from '../tenancy/tenant_id.js';
import type { Clock } from '../util/clock.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { TypedEvents } from '../util/typed_events.js';
import type { LiveSessions } from './live_sessions.js';
import type { TenantCaps } from './tenant_caps.js';

export interface AdmissionParts {
  registry: AgentRegistry;
  router: AgentRouter | undefined;
  config: TenantConfigResolver;
  breaker: TenantCircuitBreaker | undefined;
  store: ReservationStore;
  caps: TenantCaps;
  live: LiveSessions;
  clock: Clock;
  events: TypedEvents<PoolEventMap>;
  assignmentTimeoutMs: number;
  tracing: ResolvedTracePolicy;
  isDraining(): boolean;
  /** Where trouble that must not change an outcome is reported. */
  report(diagnostic: Diagnostic): void;
}

/** A refusal, with what had been decided when it was made. */
interface Refusal {
  refused: RefusalReason;
  message: string;
}

/** One call being decided: its span and what is known so far. */
interface Pending {
  request: CallRequest;
  span: Span;
  startedAt: number;
  tenant?: string;
  agent?: string;
}

const DRAINING: Refusal = { refused: 'draining', message: 'the worker is draining and accepts no new calls' };

/**
 * Decides calls: tenant, draining, agent, tenant config, breaker, tenant cap, global cap,
 * in that order; issues a ticket for an accepted call and frees its slot when it ends.
 * Every decision leaves one admission span and one `admission` event.
 */
export class AdmissionControl implements TicketHost {
  constructor(private readonly parts: AdmissionParts) {}

  async admit(request: CallRequest): Promise<AdmissionDecision> {
    // The server may ask again about a job it already sent: the call holds one slot, so
    // answer with its ticket rather than issue a second one whose end would free that slot.
    const live = this.parts.live.get(request.jobId);
    if (live) return { accepted: true, ticket: live };
    // The admission span starts the call's trace; the session span continues it.
    const span = trace.getTracer(TRACER_NAME).startSpan(SPAN_ADMISSION, { attributes: { [ATTR_JOB_ID]: request.jobId } });
    const pending: Pending = { request, span, startedAt: performance.now() };
    const decided = await this.decide(pending);
    if ('refused' in decided) return this.refuse(pending, decided);
    return this.accept(pending, decided);
  }

  /** The seven steps; resolves what the ticket needs, or why the call is refused. */
  private async decide(pending: Pending): Promise<Refusal | Omit<TicketInit, 'admittedAt' | 'traceContext'>> {
    const { request } = pending;
    const { registry, router, config } = this.parts;
    const jobMetadata = parseMetadata(request.jobMetadata);
    const roomMetadata = parseMetadata(request.roomMetadata);
    const resolved = resolveTenant(jobMetadata, roomMetadata);
    if (!resolved.ok) return { refused: 'invalid_tenant', message: resolved.message };
    const tenant = (pending.tenant = resolved.tenant);
    if (this.parts.isDraining()) return DRAINING;

    const route = await routeCall(
      { tenant, jobMetadata, roomMetadata, roomName: request.roomName, agentNames: registry.names() },
      router,
      (name) => registry.has(name),
    );
    if (!route.ok) return { refused: 'unknown_agent', message: route.message };
    const agentName = (pending.agent = route.agentName);
    const agentClass = registry.get(agentName);
    if (!agentClass) return { refused: 'unknown_agent', message: `agent "${agentName}" is not registered` };

    let tenantProviders;
    try {
      tenantProviders = await config.resolve(tenant);
    } catch (error: unknown) {
      return { refused: 'config_error', message: error instanceof OpenRtcError ? error.rawMessage : 'tenant config could not be resolved' };
    }
    // Draining may have begun while the loader ran.
    if (this.parts.isDraining()) return DRAINING;
    // The answer deadline may have passed while the loader ran: no slot for an answer nobody waits for.
    if (request.signal?.aborted) return { refused: 'answer_timeout', message: 'the decision took longer than the answer deadline' };

    const admitted = await this.checkBreaker(pending, tenant);
    if ('refused' in admitted) return admitted;
    const reserved = await this.reserve(pending, tenant, admitted.probeEpisode);
    if (reserved) return reserved;
    const agentSpans = recordsAgentSpans(
      this.parts.tracing, { tenant, agent: agentName, jobId: request.jobId, roomName: request.roomName }, jobMetadata, roomMetadata,
    );
    return {
      jobId: request.jobId, tenant, agentName, agentClass, tenantProviders, probeEpisode: admitted.probeEpisode, roomName: request.roomName,
      agentSpans,
    };
  }

  /** The breaker's verdict; a breaker store that throws refuses the call with `store_unavailable`. */
  private async checkBreaker(pending: Pending, tenant: string): Promise<Refusal | { probeEpisode: number | null }> {
    const { breaker } = this.parts;
    if (!breaker) return { probeEpisode: null };
    try {
      // Run inside the admission span so a transition it causes is recorded on it.
      const verdict = await context.with(trace.setSpan(context.active(), pending.span), () => breaker.admit(tenant));
      return verdict.allowed ? { probeEpisode: verdict.probeEpisode } : this.breakerRefusal(tenant, verdict.retryAt);
    } catch (error: unknown) {
      return { refused: 'store_unavailable', message: storeFailure('breaker store', error) };
    }
  }

  private breakerRefusal(tenant: string, retryAt: number): Refusal {
    const wait = Math.max(0, retryAt - this.parts.clock.now());
    return {
      refused: 'circuit_open',
      message: wait > 0
        ? `circuit breaker for tenant "${tenant}" is open; probes resume in ${Math.ceil(wait / 1000)} s`
        : `circuit breaker for tenant "${tenant}" is half-open and its probe budget is in use`,
    };
  }

  /** Takes the slot; on a refusal the probe slot is given back. */
  private async reserve(pending: Pending, tenant: string, probeEpisode: number | null): Promise<Refusal | undefined> {
    const { store, caps } = this.parts;
    const jobId = pending.request.jobId;
    const tenantCap = caps.capFor(tenant);
    let reserved;
    try {
      // Inside the admission span, so the store's own span (a shared store's) joins the call's trace.
      reserved = await context.with(trace.setSpan(context.active(), pending.span), () =>
        store.tryReserve({ id: jobId, tenant, tenantCap, globalCap: caps.global }));
    } catch (error: unknown) {
      // The store may have taken the slot before it failed (a reply lost on the way back):
      // releasing an id it does not hold changes nothing, so give back both to be sure.
      await this.releaseLease(jobId);
      await this.giveBackProbe(tenant, probeEpisode);
      return { refused: 'store_unavailable', message: storeFailure('reservation store', error) };
    }
    if (reserved.reserved) return undefined;
    await this.giveBackProbe(tenant, probeEpisode);
    switch (reserved.reason) {
      case 'tenant_cap':
        return { refused: 'tenant_cap', message: `tenant "${tenant}" is at its cap of ${tenantCap} sessions` };
      case 'global_cap':
        return { refused: 'global_cap', message: `the worker is at its cap of ${caps.global} sessions` };
      case 'store_unavailable':
        // A shared store out of reach whose declared policy is to refuse (fail-closed).
        return { refused: 'store_unavailable', message: 'the reservation store is unavailable and its policy is to refuse calls' };
    }
  }

  private async accept(pending: Pending, init: Omit<TicketInit, 'admittedAt' | 'traceContext'>): Promise<AdmissionDecision> {
    const { span } = pending;
    const { live, clock, events } = this.parts;
    // A simultaneous request for the same job may have won the race to the slot.
    const raced = live.get(init.jobId);
    if (raced) {
      await this.giveBackProbe(init.tenant, init.probeEpisode);
      span.setAttributes({ [ATTR_DECISION]: 'accepted', [ATTR_TENANT]: init.tenant, [ATTR_AGENT]: init.agentName });
      span.end();
      return { accepted: true, ticket: raced };
    }
    const probe = init.probeEpisode !== null;
    span.setAttributes({
      [ATTR_DECISION]: 'accepted', [ATTR_TENANT]: init.tenant, [ATTR_AGENT]: init.agentName, [ATTR_PROBE]: probe,
      [ATTR_AGENT_SPANS]: init.agentSpans,
    });
    span.end();
    const ticket = new AdmissionTicket({ ...init, admittedAt: clock.now(), traceContext: trace.setSpan(context.active(), span) }, this);
    live.add(ticket);
    ticket.armAssignmentTimer(clock.setTimer(() => void ticket.finish('expired'), this.parts.assignmentTimeoutMs));
    events.emit('admission', {
      jobId: init.jobId, tenant: init.tenant, agent: init.agentName, accepted: true, reason: undefined, message: undefined,
      probe, durationMs: performance.now() - pending.startedAt,
    });
    return { accepted: true, ticket };
  }

  private refuse(pending: Pending, { refused: reason, message }: Refusal): AdmissionDecision {
    const { span, tenant, agent, request } = pending;
    span.setAttributes({ [ATTR_DECISION]: 'refused', [ATTR_REASON]: reason });
    if (tenant !== undefined) span.setAttribute(ATTR_TENANT, tenant);
    if (agent !== undefined) span.setAttribute(ATTR_AGENT, agent);
    if (reason === 'tenant_cap' || reason === 'global_cap') {
      const cap = reason === 'tenant_cap' && tenant !== undefined ? this.parts.caps.capFor(tenant) : this.parts.caps.global;
      span.addEvent(EVENT_CAP_REFUSED, { [ATTR_REASON]: reason, ...(cap === undefined ? {} : { [ATTR_CAP]: cap }) });
    }
    span.end();
    this.parts.events.emit('admission', {
      jobId: request.jobId, tenant, agent, accepted: false, reason, message, probe: false,
      durationMs: performance.now() - pending.startedAt,
    });
    return { accepted: false, reason, message, tenant, agent };
  }

  /** @internal Called by a ticket when its session starts. */
  onStarted(ticket: AdmissionTicket): void {
    this.parts.events.emit('sessionStarted', { jobId: ticket.jobId, sessionId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName });
  }

  /** @internal Called once by a ticket when it ends: frees the slot, tells the breaker, reports. */
  async onEnded(ticket: AdmissionTicket, end: TicketEnd, detail: string | undefined): Promise<void> {
    const { live, clock, events } = this.parts;
    live.remove(ticket);
    await this.releaseLease(ticket.jobId);
    if (end === 'expired' || ticket.startedAt === undefined) {
      await this.giveBackProbe(ticket.tenant, ticket.probeEpisode);
      if (end === 'expired') {
        events.emit('reservationExpired', { jobId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName, waitedMs: clock.now() - ticket.admittedAt });
      }
      return;
    }
    // Drains and terminations say nothing about the tenant's health.
    if (end === 'cancelled') await this.giveBackProbe(ticket.tenant, ticket.probeEpisode);
    else await this.recordOutcome(ticket.tenant, { failed: end === 'failed', probeEpisode: ticket.probeEpisode });
    events.emit('sessionEnded', {
      jobId: ticket.jobId, sessionId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName,
      outcome: end, durationMs: clock.now() - ticket.startedAt, detail,
    });
  }

  /**
   * Frees a lease. A store that fails here must not stop the session's end from being
   * counted and reported; the failure is reported as a diagnostic instead.
   */
  private async releaseLease(jobId: string): Promise<void> {
    try {
      await this.parts.store.release(jobId);
    } catch (error: unknown) {
      this.parts.report({ code: 'store_failed', message: `${storeFailure('reservation store', error)} while releasing the slot of job ${jobId}` });
    }
  }

  /** Gives back the slot of a probe that never ran (no-op for an ordinary session). */
  private async giveBackProbe(tenant: string, probeEpisode: number | null): Promise<void> {
    const { breaker } = this.parts;
    if (!breaker || probeEpisode === null) return;
    try {
      await breaker.returnProbe(tenant, probeEpisode);
    } catch (error: unknown) {
      this.parts.report({ code: 'store_failed', message: `${storeFailure('breaker store', error)} while returning a probe slot of tenant "${tenant}"` });
    }
  }

  private async recordOutcome(tenant: string, outcome: OutcomeReport): Promise<void> {
    const { breaker } = this.parts;
    if (!breaker) return;
    try {
      await breaker.record(tenant, outcome);
    } catch (error: unknown) {
      this.parts.report({ code: 'store_failed', message: `${storeFailure('breaker store', error)} while recording an outcome of tenant "${tenant}"` });
    }
  }
}

/**
 * Says which store failed without echoing what it threw: a store's error text may carry a
 * connection string with a password. OpenRtcErrors are ours and safe to repeat.
 */
function storeFailure(store: string, error: unknown): string {
  if (error instanceof OpenRtcError) return `the ${store} failed: ${error.rawMessage}`;
  const kind = error instanceof Error ? error.name : typeof error;
  return `the ${store} failed (${kind})`;
}
