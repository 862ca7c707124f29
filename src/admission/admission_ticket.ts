import type { Context } from '@opentelemetry/api';
import type { AgentClass } from '../routing/agent_registry.js';
import type { TenantProviders } from '../tenancy/providers.js';
import type { TimerHandle } from '../util/clock.js';

/** How a session ended. Hangups are successes; drains and terminations are cancellations. */
export type SessionOutcome = 'success' | 'failed' | 'cancelled';

/** How a ticket ended: a session outcome, or `expired` when the session never started. */
export type TicketEnd = SessionOutcome | 'expired';

/**
 * A ticket's lifecycle as data: reserved (waiting for the assignment, with its timeout
 * armed), running (the session owns the slot), ended (the slot is freed).
 */
export type TicketLifecycle =
  | { name: 'reserved'; assignmentTimer: TimerHandle | undefined }
  | { name: 'running'; startedAt: number }
  | { name: 'ended'; end: TicketEnd; startedAt: number | undefined };

export type TicketState = TicketLifecycle['name'];

export type TicketEvent =
  | { kind: 'armed'; timer: TimerHandle }
  | { kind: 'started'; at: number }
  | { kind: 'ended'; end: TicketEnd };

/**
 * The one transition function of a ticket. Returns the next state, or undefined when the
 * event does not apply in this state (a repeated end, an expiry after the start). Pure:
 * cancelling a timer the old state held is the caller's job.
 */
export function nextTicketState(state: TicketLifecycle, event: TicketEvent): TicketLifecycle | undefined {
  switch (event.kind) {
    case 'armed':
      return state.name === 'reserved' ? { name: 'reserved', assignmentTimer: event.timer } : undefined;
    case 'started':
      return state.name === 'reserved' ? { name: 'running', startedAt: event.at } : undefined;
    case 'ended':
      if (state.name === 'ended') return undefined;
      if (event.end === 'expired' && state.name !== 'reserved') return undefined;
      return { name: 'ended', end: event.end, startedAt: state.name === 'running' ? state.startedAt : undefined };
  }
}

/** What a ticket needs from the admission that issued it. */
export interface TicketHost {
  onStarted(ticket: AdmissionTicket): void;
  onEnded(ticket: AdmissionTicket, end: TicketEnd, detail: string | undefined): Promise<void>;
}

/** Everything decided about an accepted call. */
export interface TicketInit {
  jobId: string;
  tenant: string;
  agentName: string;
  agentClass: AgentClass;
  /** The tenant's own providers, or null when it uses the defaults. */
  tenantProviders: TenantProviders | null;
  /** The breaker's half-open period this call was admitted into as a probe; null if not a probe. */
  probeEpisode: number | null;
  admittedAt: number;
  roomName: string;
  /** The trace context of the call's admission span, so the session span joins its trace. */
  traceContext: Context;
  /** Whether agents-js's own spans are recorded for this call (the pool's trace policy). */
  agentSpans: boolean;
}

/**
 * An accepted call's claim on a session slot. The slot is taken when the ticket is
 * issued and freed exactly once: when the session ends, or when the assignment never
 * comes. Every path that ends a ticket goes through `finish`, which ignores repeats.
 */
export class AdmissionTicket {
  readonly jobId: string;
  readonly tenant: string;
  readonly agentName: string;
  readonly agentClass: AgentClass;
  readonly tenantProviders: TenantProviders | null;
  readonly probeEpisode: number | null;
  readonly admittedAt: number;
  readonly roomName: string;
  readonly traceContext: Context;
  readonly agentSpans: boolean;
  private lifecycle: TicketLifecycle = { name: 'reserved', assignmentTimer: undefined };
  private ending: Promise<void> | undefined;

  constructor(init: TicketInit, private readonly host: TicketHost) {
    this.jobId = init.jobId;
    this.tenant = init.tenant;
    this.agentName = init.agentName;
    this.agentClass = init.agentClass;
    this.tenantProviders = init.tenantProviders;
    this.probeEpisode = init.probeEpisode;
    this.admittedAt = init.admittedAt;
    this.roomName = init.roomName;
    this.traceContext = init.traceContext;
    this.agentSpans = init.agentSpans;
  }

  /** Admitted as a half-open breaker probe. */
  get probe(): boolean {
    return this.probeEpisode !== null;
  }

  get state(): TicketState {
    return this.lifecycle.name;
  }

  /** Epoch ms when the session started, if it has. */
  get startedAt(): number | undefined {
    return this.lifecycle.name === 'reserved' ? undefined : this.lifecycle.startedAt;
  }

  /** @internal Arms the assignment timeout. */
  armAssignmentTimer(timer: TimerHandle): void {
    if (!this.move({ kind: 'armed', timer })) timer.cancel();
  }

  /** The assignment arrived and the session is starting: the slot now belongs to it. */
  markStarted(now: number): void {
    if (!this.move({ kind: 'started', at: now })) {
      throw new Error(`ticket for job ${this.jobId} cannot start: it is ${this.state}`);
    }
    this.host.onStarted(this);
  }

  /** Ends the ticket (idempotent): frees the slot and reports the outcome once. */
  finish(end: TicketEnd, detail?: string): Promise<void> {
    if (this.ending) return this.ending;
    if (!this.move({ kind: 'ended', end })) return Promise.resolve();
    this.ending = this.host.onEnded(this, end, detail);
    return this.ending;
  }

  /** Applies one event; a timer of the state left behind is cancelled. */
  private move(event: TicketEvent): boolean {
    const next = nextTicketState(this.lifecycle, event);
    if (!next) return false;
    if (this.lifecycle.name === 'reserved' && event.kind !== 'armed') this.lifecycle.assignmentTimer?.cancel();
    this.lifecycle = next;
    return true;
  }
}
