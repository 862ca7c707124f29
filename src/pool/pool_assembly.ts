import { trace } from '@opentelemetry/api';
import { TenantCircuitBreaker } from '../admission/circuit_breaker.js';
import { errorMessage } from '../errors.js';
import { AgentRegistry } from '../routing/agent_registry.js';
import { ATTR_BREAKER_FROM, ATTR_BREAKER_REASON, ATTR_BREAKER_TO, ATTR_TENANT, EVENT_BREAKER_TRANSITION } from '../telemetry/attributes.js';
import type { PoolEventMap } from '../telemetry/pool_events.js';
import type { RuntimeSnapshot } from '../telemetry/runtime_snapshot.js';
import { TenantConfigResolver } from '../tenancy/tenant_config.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { prepareSharedSilero } from '../session/shared_silero.js';
import { secretScrubber } from '../util/secret_scrubber.js';
import { TypedEvents } from '../util/typed_events.js';
import { AdmissionControl } from './admission_control.js';
import { HostingRuntime } from './hosting_runtime.js';
import { LiveSessions } from './live_sessions.js';
import { type AgentPoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.js';
import { PoolStatistics } from './pool_statistics.js';
import { PoolStores } from './pool_stores.js';
import { TenantRetention } from './tenant_retention.js';

/** The parts an AgentPool is a facade over, wired to each other. */
export interface PoolParts {
  resolved: ResolvedPoolOptions;
  registry: AgentRegistry;
  /** Listeners (telemetry, logs) run synchronously; one that throws never changes a decision. */
  events: TypedEvents<PoolEventMap>;
  live: LiveSessions;
  statistics: PoolStatistics;
  config: TenantConfigResolver;
  breaker: TenantCircuitBreaker | undefined;
  /** The reservation and breaker stores, which `start({ redis })` may swap for Redis's before the first call. */
  stores: PoolStores;
  admission: AdmissionControl;
  retention: TenantRetention;
  runtime: HostingRuntime;
}

/** What the parts need back from the pool that owns them. */
export interface PoolHooks {
  /** Reports a diagnostic of the pool (see AgentPool's `report`). */
  report: (diagnostic: Diagnostic) => void;
  snapshot: () => RuntimeSnapshot;
}

/**
 * Builds every part of a pool from its options, in dependency order: options are checked
 * first (nothing is built from a bad option), secrets are registered before anything can
 * log, and the events bus exists before the parts that emit on it.
 */
export function assemblePool(options: AgentPoolOptions, hooks: PoolHooks): PoolParts {
  const resolved = resolvePoolOptions(options);
  const registry = new AgentRegistry();
  for (const { name, agentClass, origin } of resolved.agents) registry.add(name, agentClass, origin);
  // Keys on provider objects must never leave the process, even inside a provider's error text.
  secretScrubber().addSecretsFrom(resolved.defaults);
  if (typeof resolved.tenantConfig.source === 'object') secretScrubber().addSecretsFrom(resolved.tenantConfig.source);
  const { clock } = resolved;
  const events = new TypedEvents<PoolEventMap>((error, name) => {
    const diagnostic = { code: 'listener_threw', message: `a "${name}" listener threw: ${errorMessage(error)}`, error };
    // A throwing diagnostic listener is reported where it cannot throw again.
    if (name === 'diagnostic') console.warn(`openrtc: ${diagnostic.message}`);
    else hooks.report(diagnostic);
  });
  const live = new LiveSessions();
  const statistics = new PoolStatistics(events, clock);
  const config = new TenantConfigResolver({ ...resolved.tenantConfig, clock, onLoad: (event) => events.emit('configLoad', event) });
  const stores = new PoolStores(resolved.reservationStore, resolved.breaker?.store, resolved.breaker !== undefined, {
    operation: (event) => events.emit('storeOperation', event),
    modeChange: (event) => events.emit('storeModeChange', event),
  });
  const breaker = resolved.breaker && new TenantCircuitBreaker(resolved.breaker.policy, stores.breaker, clock, (event) => {
    // Recorded on the span of the call during which the breaker changed state.
    trace.getActiveSpan()?.addEvent(EVENT_BREAKER_TRANSITION, {
      [ATTR_TENANT]: event.tenant, [ATTR_BREAKER_FROM]: event.from, [ATTR_BREAKER_TO]: event.to, [ATTR_BREAKER_REASON]: event.reason,
    });
    events.emit('breakerTransition', event);
  });
  // The runtime is built last but admission asks it whether the pool drains: a late-bound read.
  const late: { runtime?: HostingRuntime } = {};
  const admission = new AdmissionControl({
    registry, router: resolved.router, config, breaker, store: stores.reservations,
    caps: resolved.caps, live, clock, events, assignmentTimeoutMs: resolved.assignmentTimeoutMs,
    tracing: resolved.tracing,
    isDraining: () => late.runtime?.isDraining ?? false,
    report: hooks.report,
  });
  const retention = new TenantRetention({
    statistics, live, breaker, clock, config,
    configured: new Set([...resolved.caps.listedTenants(), ...config.staticTenants()]),
    report: hooks.report,
  });
  // After the statistics' own listeners: a sweep sees the call it follows counted.
  events.on('admission', () => retention.sweepIfDue());
  events.on('sessionEnded', () => retention.sweepIfDue());
  const runtime = (late.runtime = new HostingRuntime({
    resolved, registry, events, live, admission, snapshot: hooks.snapshot,
    startStores: async () => {
      await stores.start();
      // Also before the first call, once agents-js's logger is bound (a Silero stream logs):
      // a shared Silero VAD object gets per-session VADs over a model copy (shared_silero.ts).
      await prepareSharedSilero(resolved.defaults.vad);
    },
  }));
  return { resolved, registry, events, live, statistics, config, breaker, stores, admission, retention, runtime };
}
