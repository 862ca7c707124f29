import type { Context } from '@opentelemetry/api';
import type { SessionOutcome } from '../pool/events.js';
import type { AgentClass } from '../routing/agent_registry.js';
import type { TenantProviders } from '../tenancy/providers.js';
import type { TimerHandle } from '../util/clock.js';

export type TicketState = 'reserved' | 'running' | 'ended';

/** How a ticket ended: a session outcome, or `expired` when the session never started. */
export type TicketEnd = SessionOutcome | 'expired';

/** What a ticket needs from the pool that issued it. */
export interface TicketHost {
  onStarted(ticket: AdmissionTicket): void;
  onEnded(ticket: AdmissionTicket, end: TicketEnd, detail: string | undefined): Promise<void>;
}

/**
 * An accepted call's claim on a session slot. The slot is taken when the ticket is
 * issued and freed exactly once: when the session ends, or when the assignment never
 * comes. Every path that ends a ticket goes through `finish`, which ignores repeats.
 */
export class AdmissionTicket {
  private currentState: TicketState = 'reserved';
  private assignmentTimer: TimerHandle | undefined;
  private startedAtMs: number | undefined;
  private ending: Promise<void> | undefined;

  constructor(
    readonly jobId: string,
    readonly tenant: string,
    readonly agentName: string,
    readonly agentClass: AgentClass,
    /** The tenant's own providers, or null when it uses the defaults. */
    readonly tenantProviders: TenantProviders | null,
    /** The breaker's half-open period this call was admitted into as a probe; null if not a probe. */
    readonly probeEpisode: number | null,
    readonly admittedAt: number,
    readonly roomName: string,
    private readonly host: TicketHost,
    /** The trace context of the call's admission span, so the session span joins its trace. */
    readonly traceContext: Context,
  ) {}

  /** Admitted as a half-open breaker probe. */
  get probe(): boolean {
    return this.probeEpisode !== null;
  }

  get state(): TicketState {
    return this.currentState;
  }

  /** Epoch ms when the session started, if it has. */
  get startedAt(): number | undefined {
    return this.startedAtMs;
  }

  /** @internal Arms the assignment timeout. */
  armAssignmentTimer(timer: TimerHandle): void {
    this.assignmentTimer = timer;
  }

  /** The assignment arrived and the session is starting: the slot now belongs to it. */
  markStarted(now: number): void {
    if (this.currentState !== 'reserved') {
      throw new Error(`ticket for job ${this.jobId} cannot start: it is ${this.currentState}`);
    }
    this.assignmentTimer?.cancel();
    this.currentState = 'running';
    this.startedAtMs = now;
    this.host.onStarted(this);
  }

  /** Ends the ticket (idempotent): frees the slot and reports the outcome once. */
  finish(end: TicketEnd, detail?: string): Promise<void> {
    if (this.ending) return this.ending;
    if (end === 'expired' && this.currentState !== 'reserved') return Promise.resolve();
    this.assignmentTimer?.cancel();
    this.currentState = 'ended';
    this.ending = this.host.onEnded(this, end, detail);
    return this.ending;
  }
}
