import { handleShutdownSignals } from '../worker/shutdown_signals.js';
import type { AdmissionDecision, CallRequest } from '../admission/admission_decision.js';
import type { AdmissionTicket } from '../admission/admission_ticket.js';
import type { BreakerPolicy } from '../admission/breaker_policy.js';
import type { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import { OpenRtcError } from '../errors.js';
import { AgentRegistry } from '../routing/agent_registry.js';
import { discoverAgents } from '../routing/discover.js';
import { fleetStoresFrom } from '../fleet/fleet_stores.js';
import type { PoolEventMap, PoolEventName, PoolListener } from '../telemetry/pool_events.js';
import type { RuntimeSnapshot } from '../telemetry/runtime_snapshot.js';
import type { TenantConfigResolver } from '../tenancy/tenant_config.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { TypedEvents } from '../util/typed_events.js';
import { PoolWorker } from '../worker/pool_worker.js';
import type { DrainReport, RunOptions } from '../worker/run_options.js';
import type { AdmissionControl } from './admission_control.js';
import type { HostingRuntime } from './hosting_runtime.js';
import type { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import type { LiveSessions } from './live_sessions.js';
import type { AgentPoolOptions, ResolvedPoolOptions } from './options.js';
import type { PoolStatistics } from './pool_statistics.js';
import type { PoolStores } from './pool_stores.js';
import { buildSnapshot } from './snapshot_builder.js';
import type { TenantRetention } from './tenant_retention.js';
import { assemblePool } from './pool_assembly.js';

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
  private readonly registry: AgentRegistry;
  private readonly events: TypedEvents<PoolEventMap>;
  private readonly live: LiveSessions;
  private readonly statistics: PoolStatistics;
  private readonly config: TenantConfigResolver;
  private readonly breaker: TenantCircuitBreaker | undefined;
  private readonly stores: PoolStores;
  private readonly admission: AdmissionControl;
  private readonly retention: TenantRetention;
  private readonly startedAt: number;
  private worker: PoolWorker | undefined;

  constructor(options: AgentPoolOptions = {}) {
    const parts = assemblePool(options, { report: (d) => this.report(d), snapshot: () => this.runtimeSnapshot() });
    ({ resolved: this.resolved, registry: this.registry, events: this.events, live: this.live, statistics: this.statistics } = parts);
    ({ config: this.config, breaker: this.breaker, stores: this.stores, admission: this.admission, retention: this.retention } = parts);
    this.runtime = parts.runtime;
    this.breakerPolicy = parts.resolved.breaker?.policy;
    this.deploymentVersion = parts.resolved.deploymentVersion;
    this.voiceGateway = parts.resolved.voiceGateway;
    this.startedAt = parts.resolved.clock.now();
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
