import { voice } from '@livekit/agents';
import type { SessionOptions } from './session_options.js';
import type { AgentClass } from '../routing/agent_registry.js';
import { type DefaultProviders, TENANT_PROVIDER_KEYS, type TenantProviders } from '../tenancy/providers.js';

export interface BuildSessionInput {
  agentClass: AgentClass;
  tenantProviders: TenantProviders | null;
  defaults: DefaultProviders;
  sessionOptions: SessionOptions | undefined;
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
}: BuildSessionInput): Promise<BuiltSession> {
  const agent = new agentClass();
  const tenant = tenantProviders ?? {};
  const overrides: TenantProviders = {};
  for (const key of TENANT_PROVIDER_KEYS) {
    if (tenant[key] !== undefined) Object.assign(overrides, { [key]: tenant[key] });
  }
  if (Object.keys(overrides).length > 0) await agent.updateOptions(overrides);

  const session = new voice.AgentSession({
    ...sessionOptions,
    vad: typeof defaults.vad === 'function' ? defaults.vad() : defaults.vad,
    stt: tenant.stt ?? defaults.stt,
    llm: tenant.llm ?? defaults.llm,
    tts: tenant.tts ?? defaults.tts,
  });
  return { agent, session };
}
