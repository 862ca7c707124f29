import { handleShutdownSignals } from '../worker/shutdown_signals.js';
import { trace } from '@opentelemetry/api';
import type { AdmissionDecision, CallRequest } from '../admission/admission_decision.js';
import type { AdmissionTicket } from '../admission/admission_ticket.js';
import type { BreakerPolicy } from '../admission/breaker_policy.js';
import { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import { OpenRtcError, errorMessage } from '../errors.js';
import { AgentRegistry } from '../routing/agent_registry.js';
import { discoverAgents } from '../routing/discover.js';
import { fleetStoresFrom } from '../fleet/fleet_stores.js';
import { ATTR_BREAKER_FROM, ATTR_BREAKER_REASON, ATTR_BREAKER_TO, ATTR_TENANT, EVENT_BREAKER_TRANSITION } from '../telemetry/attributes.js';
import type { PoolEventMap, PoolEventName, PoolListener } from '../telemetry/pool_events.js';
import type { RuntimeSnapshot } from '../telemetry/runtime_snapshot.js';
import { TenantConfigResolver } from '../tenancy/tenant_config.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { secretScrubber } from '../util/secret_scrubber.js';
import { TypedEvents } from '../util/typed_events.js';
import { PoolWorker } from '../worker/pool_worker.js';
import type { DrainReport, RunOptions } from '../worker/run_options.js';
import { AdmissionControl } from './admission_control.js';
import { HostingRuntime } from './hosting_runtime.js';
import type { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import { LiveSessions } from './live_sessions.js';
import { type AgentPoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.js';
import { PoolStatistics } from './pool_statistics.js';
import { PoolStores } from './pool_stores.js';
import { buildSnapshot } from './snapshot_builder.js';
import { TenantRetention } from './tenant_retention.js';

/**
 * Hosts many agents for many tenants in one worker. The facade over the parts that do
 * the work: admission decides calls, the live-session registry holds them, statistics
 * count what happened, and the worker runtime (through `runtime`) hosts the sessions.
 */
export class AgentPool {
  readonly deploymentVersion: string;
  /** The resolved breaker policy, or undefined without a breaker. */
  readonly breakerPolicy: BreakerPolicy | undefined;
  /** What a worker hosts calls through. Custom workers and tests use it; applications need not. */
  readonly runtime: HostingRuntime;
  /** Sends cost rows to voicegateway while the pool's worker runs; undefined when off. */
  readonly voiceGateway: VoiceGatewayExporter | undefined;
  private readonly resolved: ResolvedPoolOptions;
  private readonly registry = new AgentRegistry();
  /** Listeners (telemetry, logs) run synchronously; one that throws never changes a decision. */
  private readonly events: TypedEvents<PoolEventMap>;
  private readonly live = new LiveSessions();
  private readonly statistics: PoolStatistics;
  private readonly config: TenantConfigResolver;
  private readonly breaker: TenantCircuitBreaker | undefined;
  /** The reservation and breaker stores, which `start({ redis })` may swap for Redis's before the first call. */
  private readonly stores: PoolStores;
  private readonly admission: AdmissionControl;
  private readonly retention: TenantRetention;
  private readonly startedAt: number;
  private worker: PoolWorker | undefined;

  constructor(options: AgentPoolOptions = {}) {
    const resolved = (this.resolved = resolvePoolOptions(options));
    for (const { name, agentClass, origin } of resolved.agents) this.registry.add(name, agentClass, origin);
    // Keys on provider objects must never leave the process, even inside a provider's error text.
    secretScrubber().addSecretsFrom(resolved.defaults);
    if (typeof resolved.tenantConfig.source === 'object') secretScrubber().addSecretsFrom(resolved.tenantConfig.source);
    const { clock } = resolved;
    this.events = new TypedEvents<PoolEventMap>((error, name) => {
      const diagnostic = { code: 'listener_threw', message: `a "${name}" listener threw: ${errorMessage(error)}`, error };
      // A throwing diagnostic listener is reported where it cannot throw again.
      if (name === 'diagnostic') console.warn(`openrtc: ${diagnostic.message}`);
      else this.report(diagnostic);
    });
    this.statistics = new PoolStatistics(this.events, clock);
    this.config = new TenantConfigResolver({ ...resolved.tenantConfig, clock, onLoad: (event) => this.events.emit('configLoad', event) });
    this.breakerPolicy = resolved.breaker?.policy;
    this.stores = new PoolStores(resolved.reservationStore, resolved.breaker?.store, resolved.breaker !== undefined, {
      operation: (event) => this.events.emit('storeOperation', event),
      modeChange: (event) => this.events.emit('storeModeChange', event),
    });
    this.breaker = resolved.breaker && new TenantCircuitBreaker(resolved.breaker.policy, this.stores.breaker, clock, (event) => {
      // Recorded on the span of the call during which the breaker changed state.
      trace.getActiveSpan()?.addEvent(EVENT_BREAKER_TRANSITION, {
        [ATTR_TENANT]: event.tenant, [ATTR_BREAKER_FROM]: event.from, [ATTR_BREAKER_TO]: event.to, [ATTR_BREAKER_REASON]: event.reason,
      });
      this.events.emit('breakerTransition', event);
    });
    this.admission = new AdmissionControl({
      registry: this.registry, router: resolved.router, config: this.config, breaker: this.breaker, store: this.stores.reservations,
      caps: resolved.caps, live: this.live, clock, events: this.events, assignmentTimeoutMs: resolved.assignmentTimeoutMs,
      tracing: resolved.tracing,
      isDraining: () => this.runtime.isDraining,
      report: (diagnostic) => this.report(diagnostic),
    });
    this.retention = new TenantRetention({
      statistics: this.statistics, live: this.live, breaker: this.breaker, clock, config: this.config,
      configured: new Set([...resolved.caps.listedTenants(), ...this.config.staticTenants()]),
      report: (diagnostic) => this.report(diagnostic),
    });
    // After the statistics' own listeners: a sweep sees the call it follows counted.
    this.events.on('admission', () => this.retention.sweepIfDue());
    this.events.on('sessionEnded', () => this.retention.sweepIfDue());
    this.deploymentVersion = resolved.deploymentVersion;
    this.voiceGateway = resolved.voiceGateway;
    this.startedAt = clock.now();
    this.runtime = new HostingRuntime({
      resolved, registry: this.registry, events: this.events, live: this.live, admission: this.admission, snapshot: () => this.runtimeSnapshot(),
      startStores: () => this.stores.start(),
    });
  }

  /** Registers another agent; running sessions are untouched. */
  add(name: string, agentClass: AgentPoolOptions['agent']): this {
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
    return this.resolved.caps.global;
  }

  /** The cap that applies to a tenant, if any. */
  capFor(tenant: string): number | undefined {
    return this.resolved.caps.capFor(tenant);
  }

  /** Now, on the pool's clock: every timestamp of a ticket (admitted, started, ended) uses it. */
  now(): number {
    return this.resolved.clock.now();
  }

  get isDraining(): boolean {
    return this.runtime.isDraining;
  }

  /** Subscribes to what the pool decides and observes; returns an unsubscribe function. */
  on<K extends PoolEventName>(name: K, listener: PoolListener<K>): () => void {
    return this.events.on(name, listener);
  }

  /** Decides one call; an accepted call holds a slot until its ticket finishes or its assignment times out. */
  admit(request: CallRequest): Promise<AdmissionDecision> {
    return this.admission.admit(request);
  }

  /** Live tickets: running sessions and accepted calls awaiting assignment. */
  liveTickets(): AdmissionTicket[] {
    return this.live.all();
  }

  runtimeSnapshot(): RuntimeSnapshot {
    this.retention.sweepIfDue();
    return buildSnapshot({
      now: this.now(), startedAt: this.startedAt, deploymentVersion: this.deploymentVersion, draining: this.isDraining,
      agents: this.registry.names(), live: this.live.all(), statistics: this.statistics, caps: this.resolved.caps,
      breaker: this.breaker, configuredTenants: this.config.staticTenants(), stores: this.stores.status(),
    });
  }

  /**
   * Connects to the LiveKit server and hosts calls until the worker is drained (by
   * `drain()`, SIGTERM or SIGINT). Resolves with the drain report once it has stopped.
   */
  async run(options: RunOptions = {}): Promise<DrainReport> {
    const worker = await this.start(options);
    const stopHandling = options.handleSignals === false ? () => undefined : handleShutdownSignals({
      drain: () => worker.drain(),
      cancelLiveSessions: (detail) => worker.cancelLiveSessions(detail),
      get activeSessions() {
        return worker.activeSessions;
      },
      log: (message) => this.report({ code: 'signal', message }),
    });
    try {
      await worker.stopped;
      return await worker.drain();
    } finally {
      stopHandling();
    }
  }

  /** Connects to the LiveKit server and resolves once registered; `drain()` stops it. */
  async start(options: RunOptions = {}): Promise<PoolWorker> {
    if (this.worker) throw new OpenRtcError('invalid_option', 'this pool already runs a worker; a pool hosts one worker');
    const fleet = fleetStoresFrom(options.redis, process.env, this.breaker !== undefined);
    if (fleet) this.stores.useFleet(fleet);
    const worker = new PoolWorker(this.runtime, options);
    this.worker = worker;
    try {
      // The worker starts the stores (`startStores`) once its logs and metrics listen.
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
    this.runtime.startDraining();
    return { completed: 0, cancelled: 0 };
  }

  /**
   * Diagnostics of the pool itself go out as `diagnostic` events (the worker logs them);
   * with nobody listening they go to stderr, so they are never lost.
   */
  private report(diagnostic: Diagnostic): void {
    if (this.events.has('diagnostic')) this.events.emit('diagnostic', diagnostic);
    else console.warn(`openrtc: ${diagnostic.code}: ${diagnostic.message}`);
  }
}
