import { secretScrubber } from '../util/secret_scrubber.js';
import { performance } from 'node:perf_hooks';
import { context, trace } from '@opentelemetry/api';
import { AdmissionTicket, type TicketEnd, type TicketHost } from '../admission/admission_ticket.js';
import { type BreakerPolicy, resolveBreakerPolicy } from '../admission/breaker_policy.js';
import type { OutcomeReport } from '../admission/breaker_state.js';
import { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import type { ReservationStore } from '../admission/reservation_store.js';
import { fleetStoresFrom } from '../fleet/fleet_stores.js';
import { PoolStores } from './pool_stores.js';
import { OpenRtcError, REFUSAL_REASONS, type RefusalReason, errorMessage, invalidOption } from '../errors.js';
import { type AgentClass, AgentRegistry, defaultAgentName } from '../routing/agent_registry.js';
import { discoverAgents } from '../routing/discover.js';
import { type AgentRouter, routeCall } from '../routing/router.js';
import { type BuiltSession, buildAgentSession } from '../session/session_builder.js';
import type { ProviderScope } from '../session/provider_scope.js';
import { type SessionContext, runWithSessionContext } from '../session/session_context.js';
import { parseMetadata } from '../tenancy/metadata.js';
import type { DefaultProviders } from '../tenancy/providers.js';
import { TenantConfigResolver } from '../tenancy/tenant_config.js';
import { resolveTenant } from '../tenancy/tenant_id.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { PoolEventMap, PoolEventName, PoolListener, SessionOutcome, UsageEvent, LatencyEvent, ProviderErrorEvent } from './events.js';
import { TypedEvents } from '../util/typed_events.js';
import { type AgentPoolOptions, type SessionOptions, positiveMillis, validatePoolOptions } from './options.js';
import { type RuntimeSnapshot, SNAPSHOT_SCHEMA_VERSION, type SnapshotTotals, type TenantSnapshot } from './snapshot.js';
import { TenantStats } from './tenant_stats.js';
import { type DrainReport, PoolWorker, type RunOptions } from '../worker/pool_worker.js';
import { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import { voiceGatewayOptionsFromEnv } from '../voicegateway/options.js';
import {
  ATTR_AGENT, ATTR_BREAKER_FROM, ATTR_BREAKER_REASON, ATTR_BREAKER_TO, ATTR_CAP, ATTR_DECISION, ATTR_JOB_ID,
  ATTR_PROBE, ATTR_REASON, ATTR_TENANT, EVENT_BREAKER_TRANSITION, EVENT_CAP_REFUSED, SPAN_ADMISSION, TRACER_NAME,
} from '../telemetry/attributes.js';

/** An incoming call, as the LiveKit server describes it in an availability request. */
export interface CallRequest {
  jobId: string;
  roomName: string;
  /** Raw job metadata (JSON by convention). */
  jobMetadata?: string;
  /** Raw room metadata (JSON by convention). */
  roomMetadata?: string;
  /**
   * Aborts when the worker's answer deadline passes: the server then hears "unavailable"
   * whatever is decided, so admission refuses with `answer_timeout` instead of taking a slot.
   */
  signal?: AbortSignal;
}

export type AdmissionDecision =
  | { accepted: true; ticket: AdmissionTicket }
  | {
      accepted: false;
      reason: RefusalReason;
      message: string;
      /** Undefined when the tenant id was invalid. */
      tenant: string | undefined;
      agent: string | undefined;
    };

const DEFAULT_TTL_MS = 60_000;
// Below the worker's 2 s answer deadline, itself below LiveKit's 3 s: a slow loader
// refuses with `config_error` while the answer can still reach the server.
const DEFAULT_LOADER_TIMEOUT_MS = 1_500;
// LiveKit sends the assignment right after the accept, within its 3 s request: a few
// seconds is ample, and a slot held for a lost assignment comes back soon.
const DEFAULT_ASSIGNMENT_TIMEOUT_MS = 5_000;

/**
 * Hosts many agents for many tenants in one worker. For every call it decides which
 * agent serves it, under which tenant, with whose provider objects, and whether it may
 * start at all; then it builds the session and keeps count of everything it decided.
 */
export class AgentPool {
  readonly deploymentVersion: string;
  private readonly registry = new AgentRegistry();
  private readonly router: AgentRouter | undefined;
  private readonly defaults: DefaultProviders;
  private readonly sessionOptions: SessionOptions | undefined;
  private readonly configResolver: TenantConfigResolver;
  private readonly tenantCaps: Readonly<Record<string, number>>;
  private readonly defaultTenantCap: number | undefined;
  private readonly globalCap: number | undefined;
  private readonly breaker: TenantCircuitBreaker | undefined;
  readonly breakerPolicy: BreakerPolicy | undefined;
  private readonly store: ReservationStore;
  private readonly stores: PoolStores;
  private readonly assignmentTimeoutMs: number;
  private readonly clock: Clock;
  /** Listeners (telemetry, logs) run synchronously; one that throws never changes a decision. */
  private readonly events: TypedEvents<PoolEventMap>;
  private readonly startedAt: number;
  private readonly tickets = new Map<string, AdmissionTicket>();
  private readonly stats = new Map<string, TenantStats>();
  private readonly rejections = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  private readonly totals: SnapshotTotals = { admitted: 0, started: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0, rejected: 0 };
  private drainingSince: number | undefined;
  private readonly ticketHost: TicketHost;
  private worker: PoolWorker | undefined;
  /** Sends cost rows to voicegateway while the pool's worker runs; undefined when off. */
  readonly voiceGateway: VoiceGatewayExporter | undefined;

  constructor(options: AgentPoolOptions = {}) {
    validatePoolOptions(options);
    this.clock = options.clock ?? systemClock;
    this.events = new TypedEvents<PoolEventMap>((error, name) => {
      process.emitWarning(`openrtc: a "${name}" listener threw: ${errorMessage(error)}`);
    });
    if (options.agent !== undefined) this.registry.add(defaultAgentName(options.agent), options.agent, 'agent');
    for (const [name, agentClass] of Object.entries(options.agents ?? {})) this.registry.add(name, agentClass, `agents["${name}"]`);

    this.router = options.router;
    this.defaults = { stt: options.stt, llm: options.llm, tts: options.tts, vad: options.vad };
    // Keys on provider objects must never leave the process, even inside a provider's error text.
    secretScrubber().addSecretsFrom(this.defaults);
    if (typeof options.tenantConfig === 'object') secretScrubber().addSecretsFrom(options.tenantConfig);
    this.sessionOptions = options.sessionOptions;
    this.configResolver = new TenantConfigResolver({
      source: options.tenantConfig,
      ttlMs: positiveMillis('tenantConfigTtlMs', options.tenantConfigTtlMs, DEFAULT_TTL_MS),
      timeoutMs: positiveMillis('tenantConfigTimeoutMs', options.tenantConfigTimeoutMs, DEFAULT_LOADER_TIMEOUT_MS),
      clock: this.clock,
      onLoad: (event) => this.events.emit('configLoad', event),
    });
    this.tenantCaps = { ...(options.maxSessionsPerTenant ?? {}) };
    this.defaultTenantCap = options.defaultMaxSessionsPerTenant;
    this.globalCap = options.maxConcurrentSessions;
    if (options.circuitBreaker !== undefined && options.enableTenantCircuitBreaker !== true) {
      throw invalidOption('circuitBreaker', 'has no effect unless `enableTenantCircuitBreaker` is true', options.circuitBreaker);
    }
    this.stores = new PoolStores(options.reservationStore, options.breakerStore, options.enableTenantCircuitBreaker === true, {
      operation: (event) => this.events.emit('storeOperation', event),
      modeChange: (event) => this.events.emit('storeModeChange', event),
    });
    if (options.enableTenantCircuitBreaker) {
      this.breakerPolicy = resolveBreakerPolicy(options.circuitBreaker);
      this.breaker = new TenantCircuitBreaker(
        this.breakerPolicy,
        this.stores.breaker,
        this.clock,
        (event) => {
          // Recorded on the span of the call during which the breaker changed state.
          trace.getActiveSpan()?.addEvent(EVENT_BREAKER_TRANSITION, {
            [ATTR_TENANT]: event.tenant, [ATTR_BREAKER_FROM]: event.from, [ATTR_BREAKER_TO]: event.to, [ATTR_BREAKER_REASON]: event.reason,
          });
          this.events.emit('breakerTransition', event);
        },
      );
    }
    this.store = this.stores.reservations;
    this.assignmentTimeoutMs = positiveMillis('assignmentTimeoutMs', options.assignmentTimeoutMs, DEFAULT_ASSIGNMENT_TIMEOUT_MS);
    this.deploymentVersion = options.deploymentVersion ?? process.env.OPENRTC_DEPLOYMENT_VERSION ?? 'dev';
    this.startedAt = this.clock.now();
    const voiceGateway = options.voiceGateway === undefined ? voiceGatewayOptionsFromEnv() : options.voiceGateway;
    this.voiceGateway = voiceGateway === false || voiceGateway === undefined
      ? undefined
      : voiceGateway instanceof VoiceGatewayExporter ? voiceGateway : new VoiceGatewayExporter(voiceGateway);
    this.ticketHost = {
      onStarted: (ticket) => this.onTicketStarted(ticket),
      onEnded: (ticket, end, detail) => this.onTicketEnded(ticket, end, detail),
    };
  }

  /** Registers another agent; running sessions are untouched. */
  add(name: string, agentClass: AgentClass): this {
    this.registry.add(name, agentClass, `add("${name}")`);
    return this;
  }

  /** Registers every agent module in a folder (one agent per module). */
  async discover(dir: string): Promise<string[]> {
    const found = await discoverAgents(dir);
    // Validate the whole folder before registering any of it, so a bad module adds nothing.
    const scratch = new AgentRegistry();
    for (const name of this.registry.names()) scratch.add(name, this.registry.get(name));
    for (const { name, agentClass, file } of found) scratch.add(name, agentClass, `discover: ${file}`);
    for (const { name, agentClass } of found) this.registry.add(name, agentClass);
    return found.map((f) => f.name);
  }

  get agentNames(): string[] {
    return this.registry.names();
  }

  /** The worker-wide session cap, if any. */
  get maxConcurrentSessions(): number | undefined {
    return this.globalCap;
  }

  /** Now, on the pool's clock: every timestamp of a ticket (admitted, started, ended) must use it. */
  now(): number {
    return this.clock.now();
  }

  get isDraining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Subscribes to what the pool decides and observes; returns an unsubscribe function. */
  on<K extends PoolEventName>(name: K, listener: PoolListener<K>): () => void {
    return this.events.on(name, listener);
  }

  /**
   * Decides one call: tenant, draining, agent, tenant config, breaker, tenant cap, global
   * cap. An accepted call holds a slot until its ticket finishes or its assignment times out.
   */
  async admit(request: CallRequest): Promise<AdmissionDecision> {
    // The server may ask again about a job it already sent: the call holds one slot, so
    // answer with its ticket rather than issue a second one whose end would free that slot.
    const live = this.tickets.get(request.jobId);
    if (live) return { accepted: true, ticket: live };
    const startedAt = performance.now();
    // The admission span starts the call's trace; the session span continues it.
    const span = trace.getTracer(TRACER_NAME).startSpan(SPAN_ADMISSION, { attributes: { [ATTR_JOB_ID]: request.jobId } });
    const jobMetadata = parseMetadata(request.jobMetadata);
    const roomMetadata = parseMetadata(request.roomMetadata);
    // What is known so far, so a refusal is labelled with as much as was decided.
    const known: { tenant?: string; agent?: string } = {};
    const refuse = (reason: RefusalReason, message: string): AdmissionDecision => {
      const { tenant, agent } = known;
      this.rejections[reason]++;
      this.totals.rejected++;
      if (tenant !== undefined) this.tenantStats(tenant).reject(reason);
      span.setAttributes({ [ATTR_DECISION]: 'refused', [ATTR_REASON]: reason });
      if (tenant !== undefined) span.setAttribute(ATTR_TENANT, tenant);
      if (agent !== undefined) span.setAttribute(ATTR_AGENT, agent);
      if (reason === 'tenant_cap' || reason === 'global_cap') {
        const cap = reason === 'tenant_cap' && tenant !== undefined ? this.capFor(tenant) : this.globalCap;
        span.addEvent(EVENT_CAP_REFUSED, { [ATTR_REASON]: reason, ...(cap === undefined ? {} : { [ATTR_CAP]: cap }) });
      }
      span.end();
      this.events.emit('admission', {
        jobId: request.jobId, tenant, agent, accepted: false, reason, message, probe: false,
        durationMs: performance.now() - startedAt,
      });
      return { accepted: false, reason, message, tenant, agent };
    };

    const tenantResolution = resolveTenant(jobMetadata, roomMetadata);
    if (!tenantResolution.ok) return refuse('invalid_tenant', tenantResolution.message);
    const tenant = tenantResolution.tenant;
    known.tenant = tenant;

    if (this.isDraining) return refuse('draining', 'the worker is draining and accepts no new calls');

    const route = await routeCall(
      { tenant, jobMetadata, roomMetadata, roomName: request.roomName, agentNames: this.registry.names() },
      this.router,
      (name) => this.registry.has(name),
    );
    if (!route.ok) return refuse('unknown_agent', route.message);
    const agent = route.agentName;
    known.agent = agent;
    const agentClass = this.registry.get(agent);
    if (!agentClass) return refuse('unknown_agent', `agent "${agent}" is not registered`);

    let providers;
    try {
      providers = await this.configResolver.resolve(tenant);
    } catch (error: unknown) {
      return refuse('config_error', error instanceof OpenRtcError ? error.rawMessage : 'tenant config could not be resolved');
    }

    // Draining may have begun while the loader ran.
    if (this.isDraining) return refuse('draining', 'the worker is draining and accepts no new calls');
    // The answer deadline may have passed while the loader ran: no slot for an answer nobody waits for.
    if (request.signal?.aborted) return refuse('answer_timeout', 'the decision took longer than the answer deadline');

    let probeEpisode: number | null = null;
    if (this.breaker) {
      // Run inside the admission span so a transition it causes is recorded on it.
      const breaker = this.breaker;
      let verdict;
      try {
        verdict = await context.with(trace.setSpan(context.active(), span), () => breaker.admit(tenant));
      } catch (error: unknown) {
        return refuse('store_unavailable', storeFailure('breaker store', error));
      }
      if (!verdict.allowed) {
        const wait = Math.max(0, verdict.retryAt - this.clock.now());
        return refuse('circuit_open', wait > 0
          ? `circuit breaker for tenant "${tenant}" is open; probes resume in ${Math.ceil(wait / 1000)} s`
          : `circuit breaker for tenant "${tenant}" is half-open and its probe budget is in use`);
      }
      probeEpisode = verdict.probeEpisode;
    }

    const tenantCap = this.capFor(tenant);
    let reserved;
    try {
      // Inside the admission span, so the store's own span (a shared store's) joins the call's trace.
      reserved = await context.with(trace.setSpan(context.active(), span), () =>
        this.store.tryReserve({ id: request.jobId, tenant, tenantCap, globalCap: this.globalCap }));
    } catch (error: unknown) {
      // The store may have taken the slot before it failed (a reply lost on the way back):
      // releasing an id it does not hold changes nothing, so give back both to be sure.
      await this.releaseLease(request.jobId);
      await this.giveBackProbe(tenant, probeEpisode);
      return refuse('store_unavailable', storeFailure('reservation store', error));
    }
    if (!reserved.reserved) {
      await this.giveBackProbe(tenant, probeEpisode);
      switch (reserved.reason) {
        case 'tenant_cap':
          return refuse('tenant_cap', `tenant "${tenant}" is at its cap of ${tenantCap} sessions`);
        case 'global_cap':
          return refuse('global_cap', `the worker is at its cap of ${this.globalCap} sessions`);
        case 'store_unavailable':
          // A shared store out of reach whose declared policy is to refuse (fail-closed).
          return refuse('store_unavailable', 'the reservation store is unavailable and its policy is to refuse calls');
      }
    }

    // A simultaneous request for the same job may have won the race to the slot.
    const raced = this.tickets.get(request.jobId);
    if (raced) {
      await this.giveBackProbe(tenant, probeEpisode);
      span.setAttributes({ [ATTR_DECISION]: 'accepted', [ATTR_TENANT]: tenant, [ATTR_AGENT]: agent });
      span.end();
      return { accepted: true, ticket: raced };
    }

    const probe = probeEpisode !== null;
    span.setAttributes({ [ATTR_DECISION]: 'accepted', [ATTR_TENANT]: tenant, [ATTR_AGENT]: agent, [ATTR_PROBE]: probe });
    span.end();
    const ticket = new AdmissionTicket(
      request.jobId, tenant, agent, agentClass, providers, probeEpisode, this.clock.now(), request.roomName, this.ticketHost,
      trace.setSpan(context.active(), span),
    );
    this.tickets.set(request.jobId, ticket);
    ticket.armAssignmentTimer(this.clock.setTimer(() => void ticket.finish('expired'), this.assignmentTimeoutMs));
    this.totals.admitted++;
    this.tenantStats(tenant);
    this.events.emit('admission', {
      jobId: request.jobId, tenant, agent, accepted: true, reason: undefined, message: undefined, probe,
      durationMs: performance.now() - startedAt,
    });
    return { accepted: true, ticket };
  }

  /** Reports provider usage of a session (the runner feeds agents-js `metrics_collected` here). */
  recordUsage(event: UsageEvent): void {
    this.events.emit('usage', event);
  }

  /** Reports a latency measured in a session (end of utterance, LLM, TTS, whole turn). */
  recordLatency(event: LatencyEvent): void {
    this.events.emit('latency', event);
  }

  /** Reports a provider error a session saw, recoverable or not. */
  recordProviderError(event: ProviderErrorEvent): void {
    this.events.emit('providerError', event);
  }

  /** The ticket of an accepted call that has not ended, by job id. */
  ticket(jobId: string): AdmissionTicket | undefined {
    return this.tickets.get(jobId);
  }

  /** The session context a ticket's code runs in. */
  sessionContext(ticket: AdmissionTicket): SessionContext {
    return { tenant: ticket.tenant, agent: ticket.agentName, sessionId: ticket.jobId, jobId: ticket.jobId, roomName: ticket.roomName };
  }

  /**
   * Builds the Agent and AgentSession for an admitted call, inside its session context.
   * Providers: the tenant's own, then the agent class's own, then the pool defaults; the
   * tenant's win even over an Agent subclass that sets its own.
   */
  async buildSession(ticket: AdmissionTicket, scope?: ProviderScope): Promise<BuiltSession> {
    return runWithSessionContext(this.sessionContext(ticket), () =>
      buildAgentSession({
        ...(scope === undefined ? {} : { scope }),
        agentClass: ticket.agentClass,
        tenantProviders: ticket.tenantProviders,
        defaults: this.defaults,
        sessionOptions: this.sessionOptions,
      }),
    );
  }

  /**
   * Connects to the LiveKit server and hosts calls until the worker is drained (by
   * `drain()`, SIGTERM or SIGINT). Resolves with the drain report once it has stopped.
   */
  async run(options: RunOptions = {}): Promise<DrainReport> {
    const worker = await this.start(options);
    const onSignal = (signal: NodeJS.Signals) => {
      process.emitWarning(`openrtc: ${signal} received, draining`);
      void worker.drain().then(() => process.exit(0));
    };
    const handleSignals = options.handleSignals !== false;
    if (handleSignals) {
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    }
    try {
      await worker.stopped;
      return await worker.drain();
    } finally {
      if (handleSignals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    }
  }

  /** Connects to the LiveKit server and resolves once registered; `drain()` stops it. */
  async start(options: RunOptions = {}): Promise<PoolWorker> {
    if (this.worker) throw new OpenRtcError('invalid_option', 'this pool already runs a worker; a pool hosts one worker');
    const fleet = fleetStoresFrom(options.redis, process.env, this.breaker !== undefined);
    if (fleet) this.stores.useFleet(fleet);
    const worker = new PoolWorker(this, options);
    this.worker = worker;
    try {
      // Before the first call: a restarted worker frees the leases its previous life left.
      await this.stores.start();
      await worker.start();
    } catch (error: unknown) {
      this.worker = undefined;
      await this.stores.close();
      throw error;
    }
    // Every session has ended (and released its slot) once the worker has stopped.
    void worker.stopped.then(() => this.stores.close());
    return worker;
  }

  /**
   * Stops taking calls, lets live sessions finish for up to `timeoutMs` (default: the
   * worker's `drainTimeoutMs`), cancels the rest and stops the worker.
   */
  async drain(timeoutMs?: number): Promise<DrainReport> {
    if (this.worker) return this.worker.drain(timeoutMs);
    this.startDraining();
    return { completed: 0, cancelled: 0 };
  }

  /** Stops accepting calls; live sessions carry on. */
  startDraining(): void {
    if (this.drainingSince !== undefined) return;
    this.drainingSince = this.clock.now();
    this.events.emit('draining', { at: this.drainingSince });
  }

  /** Live tickets: running sessions and accepted calls awaiting assignment. */
  liveTickets(): AdmissionTicket[] {
    return [...this.tickets.values()];
  }

  runtimeSnapshot(): RuntimeSnapshot {
    const now = this.clock.now();
    // Maps, not object literals: tenant and agent names such as "constructor" or
    // "__proto__" are valid and must count as plain keys.
    const sessionsByTenant = new Map<string, number>();
    const sessionsByAgent = new Map<string, number>();
    const reservedByTenant = new Map<string, number>();
    let active = 0;
    let reserved = 0;
    for (const ticket of this.tickets.values()) {
      if (ticket.state === 'running') {
        active++;
        sessionsByTenant.set(ticket.tenant, (sessionsByTenant.get(ticket.tenant) ?? 0) + 1);
        sessionsByAgent.set(ticket.agentName, (sessionsByAgent.get(ticket.agentName) ?? 0) + 1);
      } else if (ticket.state === 'reserved') {
        reserved++;
        reservedByTenant.set(ticket.tenant, (reservedByTenant.get(ticket.tenant) ?? 0) + 1);
      }
    }
    const tenantIds = new Set<string>([
      ...this.stats.keys(),
      ...Object.keys(this.tenantCaps),
      ...this.configResolver.staticTenants(),
      ...(this.breaker?.tenants() ?? []),
    ]);
    const tenants = new Map<string, TenantSnapshot>();
    for (const id of [...tenantIds].sort()) {
      const stats = this.stats.get(id) ?? new TenantStats();
      const cap = this.capFor(id) ?? null;
      const activeCount = sessionsByTenant.get(id) ?? 0;
      const reservedCount = reservedByTenant.get(id) ?? 0;
      tenants.set(id, {
        active: activeCount,
        reserved: reservedCount,
        cap,
        utilization: cap === null ? null : (activeCount + reservedCount) / cap,
        breaker: this.breaker ? this.breaker.status(id) : null,
        rejectionsByReason: { ...stats.rejectionsByReason },
        started: stats.started,
        succeeded: stats.succeeded,
        failed: stats.failed,
        cancelled: stats.cancelled,
      });
    }
    return {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      takenAt: new Date(now).toISOString(),
      deploymentVersion: this.deploymentVersion,
      uptimeMs: now - this.startedAt,
      draining: this.isDraining,
      agents: this.registry.names(),
      maxConcurrentSessions: this.globalCap ?? null,
      activeSessions: active,
      reservedSessions: reserved,
      sessionsByTenant: Object.fromEntries(sessionsByTenant),
      sessionsByAgent: Object.fromEntries(sessionsByAgent),
      tenants: Object.fromEntries(tenants),
      rejectionsByReason: { ...this.rejections },
      stores: this.stores.status(),
      totals: { ...this.totals },
    };
  }

  /** The cap that applies to a tenant, if any. */
  capFor(tenant: string): number | undefined {
    return Object.prototype.hasOwnProperty.call(this.tenantCaps, tenant) ? this.tenantCaps[tenant] : this.defaultTenantCap;
  }

  private tenantStats(tenant: string): TenantStats {
    let stats = this.stats.get(tenant);
    if (!stats) {
      stats = new TenantStats();
      this.stats.set(tenant, stats);
    }
    return stats;
  }

  private onTicketStarted(ticket: AdmissionTicket): void {
    this.totals.started++;
    this.tenantStats(ticket.tenant).started++;
    this.events.emit('sessionStarted', { jobId: ticket.jobId, sessionId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName });
  }

  private async onTicketEnded(ticket: AdmissionTicket, end: TicketEnd, detail: string | undefined): Promise<void> {
    this.tickets.delete(ticket.jobId);
    await this.releaseLease(ticket.jobId);
    const started = ticket.startedAt !== undefined;
    if (end === 'expired' || !started) {
      if (end === 'expired') this.totals.expired++;
      await this.giveBackProbe(ticket.tenant, ticket.probeEpisode);
      if (end === 'expired') {
        this.events.emit('reservationExpired', {
          jobId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName, waitedMs: this.clock.now() - ticket.admittedAt,
        });
      }
      return;
    }
    const outcome: SessionOutcome = end;
    const stats = this.tenantStats(ticket.tenant);
    if (outcome === 'success') { this.totals.succeeded++; stats.succeeded++; }
    if (outcome === 'failed') { this.totals.failed++; stats.failed++; }
    if (outcome === 'cancelled') { this.totals.cancelled++; stats.cancelled++; }
    // Drains and terminations say nothing about the tenant's health.
    if (outcome === 'cancelled') await this.giveBackProbe(ticket.tenant, ticket.probeEpisode);
    else await this.recordOutcome(ticket.tenant, { failed: outcome === 'failed', probeEpisode: ticket.probeEpisode });
    this.events.emit('sessionEnded', {
      jobId: ticket.jobId, sessionId: ticket.jobId, tenant: ticket.tenant, agent: ticket.agentName,
      outcome, durationMs: this.clock.now() - (ticket.startedAt ?? ticket.admittedAt), detail,
    });
  }

  /**
   * Frees a lease. A store that fails here must not stop the session's end from being
   * counted and reported; the failure is reported as a process warning instead.
   */
  private async releaseLease(jobId: string): Promise<void> {
    try {
      await this.store.release(jobId);
    } catch (error: unknown) {
      process.emitWarning(`openrtc: ${storeFailure('reservation store', error)} while releasing the slot of job ${jobId}`);
    }
  }

  /** Gives back the slot of a probe that never ran (no-op for an ordinary session). */
  private async giveBackProbe(tenant: string, probeEpisode: number | null): Promise<void> {
    if (!this.breaker || probeEpisode === null) return;
    try {
      await this.breaker.returnProbe(tenant, probeEpisode);
    } catch (error: unknown) {
      process.emitWarning(`openrtc: ${storeFailure('breaker store', error)} while returning a probe slot of tenant "${tenant}"`);
    }
  }

  private async recordOutcome(tenant: string, outcome: OutcomeReport): Promise<void> {
    if (!this.breaker) return;
    try {
      await this.breaker.record(tenant, outcome);
    } catch (error: unknown) {
      process.emitWarning(`openrtc: ${storeFailure('breaker store', error)} while recording an outcome of tenant "${tenant}"`);
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
