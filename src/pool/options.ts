import type { voice } from '@livekit/agents';
import type { BreakerPolicy } from '../admission/breaker_policy.js';
import type { BreakerStore } from '../admission/breaker_store.js';
import type { ReservationStore } from '../admission/reservation_store.js';
import { OpenRtcError, invalidOption } from '../errors.js';
import type { AgentClass } from '../routing/agent_registry.js';
import type { AgentRouter } from '../routing/router.js';
import type { DefaultProviders } from '../tenancy/providers.js';
import type { TenantConfigSource } from '../tenancy/tenant_config.js';
import { tenantIdProblem } from '../tenancy/tenant_id.js';
import type { Clock } from '../util/clock.js';
import type { VoiceGatewayExporter } from '../voicegateway/exporter.js';
import type { VoiceGatewayOptions } from '../voicegateway/options.js';

/** Options of AgentSession that the pool passes through to every session it builds. */
export type SessionOptions = Omit<
  ConstructorParameters<typeof voice.AgentSession>[0],
  'stt' | 'llm' | 'tts' | 'vad'
>;

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
  /** Injected time source. */
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
}

const KNOWN_OPTIONS = new Set<string>([
  'agent', 'agents', 'router', 'tenantConfig', 'tenantConfigTtlMs', 'tenantConfigTimeoutMs',
  'maxSessionsPerTenant', 'defaultMaxSessionsPerTenant', 'maxConcurrentSessions',
  'enableTenantCircuitBreaker', 'circuitBreaker', 'assignmentTimeoutMs', 'sessionOptions',
  'deploymentVersion', 'clock', 'reservationStore', 'breakerStore', 'stt', 'llm', 'tts', 'vad', 'voiceGateway',
]);

export function positiveInteger(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidOption(option, 'must be a positive integer', value);
  }
  return value;
}

export function positiveMillis(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(option, 'must be a positive number of milliseconds', value);
  }
  return value;
}

/** Checks the shape of the options that need no other part of the pool. */
export function validatePoolOptions(options: AgentPoolOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('options', 'must be an object', options);
  }
  for (const key of Object.keys(options)) {
    // The value is not echoed: an unknown key is often a misplaced API key (`openaiApiKey: 'sk-…'`).
    if (!KNOWN_OPTIONS.has(key)) throw new OpenRtcError('invalid_option', `\`${key}\` is not an AgentPool option`);
  }
  if (options.agent !== undefined && options.agents !== undefined) {
    throw invalidOption('agent', 'cannot be combined with `agents` (register the single agent under a name in `agents`)', options.agent);
  }
  if (options.agents !== undefined && (typeof options.agents !== 'object' || options.agents === null || Array.isArray(options.agents))) {
    throw invalidOption('agents', 'must be a map of agent name to voice.Agent subclass', options.agents);
  }
  if (options.vad !== undefined && (typeof options.vad !== 'object' || options.vad === null) && typeof options.vad !== 'function') {
    throw invalidOption('vad', 'must be a VAD object or a function returning one per session', options.vad);
  }
  if (options.router !== undefined && typeof options.router !== 'function') {
    throw invalidOption('router', 'must be a function (request) => agent name | undefined', options.router);
  }
  if (options.maxSessionsPerTenant !== undefined) {
    const caps = options.maxSessionsPerTenant;
    if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
      throw invalidOption('maxSessionsPerTenant', 'must be a map of tenant id to a positive integer', caps);
    }
    for (const [tenant, cap] of Object.entries(caps)) {
      const problem = tenantIdProblem(tenant);
      if (problem) throw invalidOption(`maxSessionsPerTenant["${tenant}"]`, `key is not a tenant id: it ${problem}`, tenant);
      positiveInteger(`maxSessionsPerTenant["${tenant}"]`, cap);
    }
  }
  positiveInteger('defaultMaxSessionsPerTenant', options.defaultMaxSessionsPerTenant);
  positiveInteger('maxConcurrentSessions', options.maxConcurrentSessions);
  if (options.enableTenantCircuitBreaker !== undefined && typeof options.enableTenantCircuitBreaker !== 'boolean') {
    throw invalidOption('enableTenantCircuitBreaker', 'must be a boolean', options.enableTenantCircuitBreaker);
  }
  if (options.deploymentVersion !== undefined && (typeof options.deploymentVersion !== 'string' || options.deploymentVersion.length === 0)) {
    throw invalidOption('deploymentVersion', 'must be a non-empty string', options.deploymentVersion);
  }
}
