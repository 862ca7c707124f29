import { performance } from 'node:perf_hooks';
import { type Span, context, trace } from '@opentelemetry/api';
import type { AdmissionDecision, CallRequest } from '../admission/admission_decision.js';
import { AdmissionTicket, type TicketEnd, type TicketHost, type TicketInit } from '../admission/admission_ticket.js';
import type { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import type { ReservationStore } from '../admission/reservation_store.js';
import { OpenRtcError, type RefusalReason } from '../errors.js';
import type { AgentRegistry } from '../routing/agent_registry.js';
import { type AgentRouter, routeCall } from '../routing/router.js';
import {
  ATTR_AGENT, ATTR_CAP, ATTR_DECISION, ATTR_JOB_ID, ATTR_PROBE, ATTR_REASON, ATTR_TENANT, EVENT_CAP_REFUSED,
  SPAN_ADMISSION, TRACER_NAME,
} from '../telemetry/attributes.js';
import type { PoolEventMap } from '../telemetry/pool_events.js';
import { parseMetadata } from '../tenancy/metadata.js';
import type { TenantConfigResolver } from '../tenancy/tenant_config.js';
import { resolveTenant } from '../tenancy/tenant_id.js';
import type { Clock } from '../util/clock.js';
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
  isDraining(): boolean;
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
    const { registry, router, config, breaker } = this.parts;
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

    let probe = false;
    if (breaker) {
      // Run inside the admission span so a transition it causes is recorded on it.
      const verdict = await context.with(trace.setSpan(context.active(), pending.span), () => breaker.admit(tenant));
      if (!verdict.allowed) return this.breakerRefusal(tenant, verdict.retryAt);
      probe = verdict.probe;
    }
    const reserved = await this.reserve(request.jobId, tenant, probe);
    if (reserved) return reserved;
    return { jobId: request.jobId, tenant, agentName, agentClass, tenantProviders, probe, roomName: request.roomName };
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
  private async reserve(jobId: string, tenant: string, probe: boolean): Promise<Refusal | undefined> {
    const { store, caps, breaker } = this.parts;
    const tenantCap = caps.capFor(tenant);
    const reserved = await store.tryReserve({ id: jobId, tenant, tenantCap, globalCap: caps.global });
    if (reserved.reserved) return undefined;
    if (probe) await breaker?.returnProbe(tenant);
    return reserved.reason === 'tenant_cap'
      ? { refused: 'tenant_cap', message: `tenant "${tenant}" is at its cap of ${tenantCap} sessions` }
      : { refused: 'global_cap', message: `the worker is at its cap of ${caps.global} sessions` };
  }

  private async accept(pending: Pending, init: Omit<TicketInit, 'admittedAt' | 'traceContext'>): Promise<AdmissionDecision> {
    const { span } = pending;
    const { live, clock, events } = this.parts;
    // A simultaneous request for the same job may have won the race to the slot.
    const raced = live.get(init.jobId);
    if (raced) {
      if (init.probe) await this.parts.breaker?.returnProbe(init.tenant);
      span.setAttributes({ [ATTR_DECISION]: 'accepted', [ATTR_TENANT]: init.tenant, [ATTR_AGENT]: init.agentName });
      span.end();
      return { accepted: true, ticket: raced };
    }
    span.setAttributes({ [ATTR_DECISION]: 'accepted', [ATTR_TENANT]: init.tenant, [ATTR_AGENT]: init.agentName, [ATTR_PROBE]: init.probe });
    span.end();
    const ticket = new AdmissionTicket({ ...init, admittedAt: clock.now(), traceContext: trace.setSpan(context.active(), span) }, this);
    live.add(ticket);
    ticket.armAssignmentTimer(clock.setTimer(() => void ticket.finish('expired'), this.parts.assignmentTimeoutMs));
    events.emit('admission', {
      jobId: init.jobId, tenant: init.tenant, agent: init.agentName, accepted: true, reason: undefined, message: undefined,
      probe: init.probe, durationMs: performance.now() - pending.startedAt,
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
    const { live, store, breaker, clock, events } = this.parts;
    live.remove(ticket);
    await store.release(ticket.jobId);
    if (end === 'expired' || ticket.startedAt === undefined) {
      if (ticket.probe) await breaker?.returnProbe(ticket.tenant);
      if (end === 'expired') {
        events.emit('reservationExpired', { jobId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName, waitedMs: clock.now() - ticket.admittedAt });
      }
      return;
    }
    if (breaker) {
      // Drains and terminations say nothing about the tenant's health.
      if (end === 'cancelled') {
        if (ticket.probe) await breaker.returnProbe(ticket.tenant);
      } else {
        await breaker.record(ticket.tenant, { failed: end === 'failed', probe: ticket.probe });
      }
    }
    events.emit('sessionEnded', {
      jobId: ticket.jobId, sessionId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName,
      outcome: end, durationMs: clock.now() - ticket.startedAt, detail,
    });
  }
}
