import { type VAD, voice } from '@livekit/agents';
import type { SessionOptions } from './session_options.js';
import type { AgentClass } from '../routing/agent_registry.js';
import { type DefaultProviders, TENANT_PROVIDER_KEYS, type TenantProviders } from '../tenancy/providers.js';
import type { ProviderScope } from './provider_scope.js';

export interface BuildSessionInput {
  agentClass: AgentClass;
  tenantProviders: TenantProviders | null;
  defaults: DefaultProviders;
  sessionOptions: SessionOptions | undefined;
  /**
   * The session's provider scope. The host always passes one: the session and its agent
   * then see per-session views of every provider object (see provider_scope.ts). Without
   * it they get the objects themselves, which is only safe when nothing else uses them.
   */
  scope?: ProviderScope;
}

export interface BuiltSession {
  agent: voice.Agent;
  session: voice.AgentSession;
}

/**
 * Builds one call's Agent and AgentSession. agents-js lets an Agent's own providers win
 * over the session's, so the tenant's objects are set on the agent itself (through the
 * public `updateOptions`, before the agent runs) as well as on the session: that is what
 * makes a tenant's keys win even over an Agent subclass that names its own provider.
 */
export async function buildAgentSession({
  agentClass,
  tenantProviders,
  defaults,
  sessionOptions,
  scope,
}: BuildSessionInput): Promise<BuiltSession> {
  const agent = new agentClass();
  const tenant = tenantProviders ?? {};
  const view = <T extends object>(provider: T | undefined): T | undefined =>
    provider === undefined || scope === undefined ? provider : scope.view(provider);

  // The agent's own providers (an Agent subclass may name them) are shared by every call
  // of that agent, so they get views too; the tenant's objects replace them.
  const own: AgentProviders = { stt: agent.stt, llm: agent.llm, tts: agent.tts, vad: agent.vad };
  const overrides: AgentProviders = {};
  for (const key of TENANT_PROVIDER_KEYS) {
    const chosen = tenant[key] ?? own[key];
    if (chosen !== undefined && (tenant[key] !== undefined || scope !== undefined)) Object.assign(overrides, { [key]: view(chosen) });
  }
  if (own.vad !== undefined && scope !== undefined) overrides.vad = view(own.vad);
  if (Object.keys(overrides).length > 0) await agent.updateOptions(overrides);

  const session = new voice.AgentSession({
    ...sessionOptions,
    vad: view(typeof defaults.vad === 'function' ? defaults.vad() : defaults.vad),
    stt: view(tenant.stt ?? defaults.stt),
    llm: view(tenant.llm ?? defaults.llm),
    tts: view(tenant.tts ?? defaults.tts),
  });
  return { agent, session };
}

type AgentProviders = TenantProviders & { vad?: VAD };
