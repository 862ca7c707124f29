import { type BreakerPolicy, resolveBreakerPolicy } from '../admission/breaker_policy.js';
import type { BreakerStore } from '../admission/breaker_store.js';
import type { ReservationStore } from '../admission/reservation_store.js';
import { OpenRtcError, invalidOption } from '../errors.js';
import { type AgentClass, defaultAgentName } from '../routing/agent_registry.js';
import type { AgentRouter } from '../routing/router.js';
import type { SessionOptions } from '../session/session_options.js';
import type { DefaultProviders } from '../tenancy/providers.js';
import { type TenantConfigSource, validateTenantConfigSource } from '../tenancy/tenant_config.js';
import { tenantIdProblem } from '../tenancy/tenant_id.js';
import { type Clock, systemClock } from '../util/clock.js';
import { positiveInteger, positiveMillis } from '../util/validate.js';
import { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import { type VoiceGatewayOptions, voiceGatewayOptionsFromEnv } from '../voicegateway/options.js';
import { type ResolvedTracePolicy, type TracePolicy, resolveTracePolicy } from '../telemetry/trace_policy.js';
import { TenantCaps } from './tenant_caps.js';

export interface AgentPoolOptions extends DefaultProviders {
  /** The one agent of a single-agent pool. Named after the class (`SupportAgent` -> `support`). */
  agent?: AgentClass;
  /** Several agents by name. Use `agent` or `agents`, or add them later with `add()`/`discover()`. */
  agents?: Record<string, AgentClass>;
  /** Picks an agent per call; falls through to metadata `agent`, room-name prefix, first registered. */
  router?: AgentRouter;
  /** Per-tenant provider objects: a map, or an async loader returning providers or null. */
  tenantConfig?: TenantConfigSource;
  /** How long a loader answer is reused, in ms. Default 60 000. */
  tenantConfigTtlMs?: number;
  /** How long a loader may take before the call is refused with `config_error`, in ms. Default 1 500 (below the worker's 2 s answer deadline). */
  tenantConfigTimeoutMs?: number;
  /** Session cap per tenant. Caps may sum past `maxConcurrentSessions`. */
  maxSessionsPerTenant?: Record<string, number>;
  /** Cap for tenants not listed in `maxSessionsPerTenant`. Default: none. */
  defaultMaxSessionsPerTenant?: number;
  /** Cap on sessions of all tenants in this worker. Default: none. */
  maxConcurrentSessions?: number;
  /** Confine a failing tenant with a per-tenant circuit breaker. Default false. */
  enableTenantCircuitBreaker?: boolean;
  /** Breaker policy; every field optional. */
  circuitBreaker?: Partial<BreakerPolicy>;
  /** How long an accepted call may wait for its assignment before its slot is freed, in ms. Default 5 000 (LiveKit assigns right after the accept). */
  assignmentTimeoutMs?: number;
  /** Extra AgentSession options for every session (turn handling, for example). */
  sessionOptions?: SessionOptions;
  /** Shown in the snapshot and the build info metric. Default: env OPENRTC_DEPLOYMENT_VERSION or "dev". */
  deploymentVersion?: string;
  /** Injected time source: every timer of the pool, its worker and its sessions runs on it. */
  clock?: Clock;
  /** Where session slots are counted. Default: in this process. */
  reservationStore?: ReservationStore;
  /** Where breaker state lives. Default: in this process. */
  breakerStore?: BreakerStore;
  /**
   * Send one cost row per provider request to voicegateway: exporter options, an exporter,
   * or false for none. Default: on when OPENRTC_VOICEGATEWAY_URL is set (fallback key from
   * OPENRTC_VOICEGATEWAY_KEY). Tenants' own keys come from `voiceGatewayKey` in their config.
   */
  voiceGateway?: VoiceGatewayOptions | VoiceGatewayExporter | false;
  /**
   * Which calls record agents-js's own spans; openrtc's admission and session spans are
   * recorded for every call. Default: 1% of calls (see docs/telemetry.md).
   */
  tracing?: TracePolicy;
}

/** The options after validation, with every default applied. */
export interface ResolvedPoolOptions {
  agents: { name: string; agentClass: AgentClass; origin: string }[];
  router: AgentRouter | undefined;
  defaults: DefaultProviders;
  sessionOptions: SessionOptions | undefined;
  tenantConfig: { source: TenantConfigSource | undefined; ttlMs: number; timeoutMs: number };
  caps: TenantCaps;
  /** Undefined when the pool runs without a breaker. */
  breaker: { policy: BreakerPolicy; store: BreakerStore | undefined } | undefined;
  /** The stores as given; `PoolStores` puts the in-memory ones (or Redis's, at start) where none was. */
  reservationStore: ReservationStore | undefined;
  assignmentTimeoutMs: number;
  deploymentVersion: string;
  clock: Clock;
  /** Undefined when cost export is off. */
  voiceGateway: VoiceGatewayExporter | undefined;
  tracing: ResolvedTracePolicy;
}

const DEFAULT_TTL_MS = 60_000;
// Below the worker's 2 s answer deadline, itself below LiveKit's 3 s: a slow loader
// refuses with `config_error` while the answer can still reach the server.
const DEFAULT_LOADER_TIMEOUT_MS = 1_500;
// LiveKit sends the assignment right after the accept, within its 3 s request: a few
// seconds is ample, and a slot held for a lost assignment comes back soon.
const DEFAULT_ASSIGNMENT_TIMEOUT_MS = 5_000;

type Rule = (value: unknown, option: string) => void;

const isPlainMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object that has every named method (a store, a clock). */
function hasMethods(what: string, methods: readonly string[]): Rule {
  return (value, option) => {
    if (value === undefined) return;
    const target = value as Record<string, unknown> | null;
    const missing = methods.filter((m) => typeof target?.[m] !== 'function');
    if (typeof value !== 'object' || value === null || missing.length > 0) {
      throw invalidOption(option, `must be ${what} with ${methods.map((m) => `${m}()`).join(', ')}`, value);
    }
  };
}

const providerObject = (kind: string): Rule => (value, option) => {
  if (value !== undefined && !isPlainObjectLike(value)) throw invalidOption(option, `must be a ${kind} provider object`, value);
};

const isPlainObjectLike = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

const integerRule: Rule = (value, option) => void positiveInteger(option, value);
const millisRule: Rule = (value, option) => void positiveMillis(option, value, 1);

/**
 * One rule per option. The type requires exactly the keys of AgentPoolOptions, so the
 * list of known option names is derived from it and cannot drift from the type.
 */
const RULES: { readonly [K in keyof Required<AgentPoolOptions>]: Rule } = {
  agent: (value, option) => {
    // A class goes on to the registry, which checks that it is a voice.Agent subclass.
    if (value !== undefined && typeof value !== 'function') {
      throw invalidOption(option, 'must be a voice.Agent subclass (a class, not an instance or a name)', value);
    }
  },
  agents: (value, option) => {
    if (value !== undefined && !isPlainMap(value)) throw invalidOption(option, 'must be a map of agent name to voice.Agent subclass', value);
  },
  router: (value, option) => {
    if (value !== undefined && typeof value !== 'function') {
      throw invalidOption(option, 'must be a function (request) => agent name | undefined', value);
    }
  },
  tenantConfig: (value) => validateTenantConfigSource(value),
  tenantConfigTtlMs: millisRule,
  tenantConfigTimeoutMs: millisRule,
  maxSessionsPerTenant: (value, option) => {
    if (value === undefined) return;
    if (!isPlainMap(value)) throw invalidOption(option, 'must be a map of tenant id to a positive integer', value);
    for (const [tenant, cap] of Object.entries(value)) {
      const problem = tenantIdProblem(tenant);
      if (problem) throw new OpenRtcError('invalid_option', `\`${option}["${tenant}"]\` key is not a tenant id: it ${problem}`);
      positiveInteger(`${option}["${tenant}"]`, cap);
    }
  },
  defaultMaxSessionsPerTenant: integerRule,
  maxConcurrentSessions: integerRule,
  enableTenantCircuitBreaker: (value, option) => {
    if (value !== undefined && typeof value !== 'boolean') throw invalidOption(option, 'must be a boolean', value);
  },
  circuitBreaker: (value, option) => void (value === undefined ? undefined : resolveBreakerPolicy(value as Partial<BreakerPolicy>, option)),
  assignmentTimeoutMs: millisRule,
  sessionOptions: (value, option) => {
    if (value !== undefined && !isPlainMap(value)) throw invalidOption(option, 'must be an object of AgentSession options', value);
  },
  deploymentVersion: (value, option) => {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) throw invalidOption(option, 'must be a non-empty string', value);
  },
  clock: hasMethods('a Clock', ['now', 'setTimer']),
  reservationStore: hasMethods('a ReservationStore', ['tryReserve', 'release', 'countsByTenant', 'total']),
  breakerStore: hasMethods('a BreakerStore', ['update', 'read', 'tenants']),
  stt: providerObject('stt'),
  llm: providerObject('llm'),
  tts: providerObject('tts'),
  voiceGateway: (value, option) => {
    // Options are checked in full by the exporter's own resolver when it is built.
    if (value !== undefined && value !== false && !isPlainObjectLike(value)) {
      throw invalidOption(option, 'must be voicegateway exporter options, a VoiceGatewayExporter, or false', value);
    }
  },
  tracing: (value, option) => void resolveTracePolicy(value as TracePolicy | undefined, option),
  vad: (value, option) => {
    if (value !== undefined && !isPlainObjectLike(value) && typeof value !== 'function') {
      throw invalidOption(option, 'must be a VAD object or a function returning one per session', value);
    }
  },
};

/** Every option name AgentPool accepts. */
export const POOL_OPTION_NAMES: readonly (keyof AgentPoolOptions)[] = Object.freeze(Object.keys(RULES) as (keyof AgentPoolOptions)[]);

/** Validates every option before any is used, then applies the defaults. */
export function resolvePoolOptions(options: AgentPoolOptions): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object', options);
  for (const key of Object.keys(options)) {
    // The value is not echoed: an unknown key is often a misplaced API key (`openaiApiKey: 'sk-…'`).
    if (!Object.prototype.hasOwnProperty.call(RULES, key)) throw new OpenRtcError('invalid_option', `\`${key}\` is not an AgentPool option`);
  }
  if (options.agent !== undefined && options.agents !== undefined) {
    throw invalidOption('agent', 'cannot be combined with `agents` (register the single agent under a name in `agents`)', options.agent);
  }
  for (const name of POOL_OPTION_NAMES) RULES[name](options[name], name);
  if (options.circuitBreaker !== undefined && options.enableTenantCircuitBreaker !== true) {
    throw invalidOption('circuitBreaker', 'has no effect unless `enableTenantCircuitBreaker` is true', options.circuitBreaker);
  }
  return applyDefaults(options);
}

function applyDefaults(options: AgentPoolOptions): ResolvedPoolOptions {
  const agents = options.agent !== undefined ? [{ name: defaultAgentName(options.agent), agentClass: options.agent, origin: 'agent' }] : [];
  for (const [name, agentClass] of Object.entries(options.agents ?? {})) agents.push({ name, agentClass, origin: `agents["${name}"]` });
  return {
    agents,
    router: options.router,
    defaults: { stt: options.stt, llm: options.llm, tts: options.tts, vad: options.vad },
    sessionOptions: options.sessionOptions,
    tenantConfig: {
      source: options.tenantConfig,
      ttlMs: positiveMillis('tenantConfigTtlMs', options.tenantConfigTtlMs, DEFAULT_TTL_MS),
      timeoutMs: positiveMillis('tenantConfigTimeoutMs', options.tenantConfigTimeoutMs, DEFAULT_LOADER_TIMEOUT_MS),
    },
    caps: new TenantCaps({ ...(options.maxSessionsPerTenant ?? {}) }, options.defaultMaxSessionsPerTenant, options.maxConcurrentSessions),
    breaker: options.enableTenantCircuitBreaker
      ? { policy: resolveBreakerPolicy(options.circuitBreaker), store: options.breakerStore }
      : undefined,
    reservationStore: options.reservationStore,
    assignmentTimeoutMs: positiveMillis('assignmentTimeoutMs', options.assignmentTimeoutMs, DEFAULT_ASSIGNMENT_TIMEOUT_MS),
    deploymentVersion: options.deploymentVersion ?? process.env.OPENRTC_DEPLOYMENT_VERSION ?? 'dev',
    clock: options.clock ?? systemClock,
    voiceGateway: voiceGatewayFrom(options.voiceGateway),
    tracing: resolveTracePolicy(options.tracing),
  };
}

function voiceGatewayFrom(option: AgentPoolOptions['voiceGateway']): VoiceGatewayExporter | undefined {
  const chosen = option === undefined ? voiceGatewayOptionsFromEnv() : option;
  if (chosen === false || chosen === undefined) return undefined;
  return chosen instanceof VoiceGatewayExporter ? chosen : new VoiceGatewayExporter(chosen);
}
