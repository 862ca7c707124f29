import type { llm, stt, tts, VAD } from '@livekit/agents';
import { VIRTUAL_KEY_RULE, isVirtualKey } from './virtual_key.js';

/**
 * The provider objects a tenant brings: built with the tenant's own API keys. openrtc
 * only ever passes them by reference to that tenant's sessions; it never reads, logs or
 * copies what is inside them.
 */
export interface TenantProviders {
  stt?: stt.STT;
  llm?: llm.LLM | llm.RealtimeModel;
  tts?: tts.TTS;
  /**
   * The tenant's voicegateway virtual key: cost rows of the tenant's calls are sent with it,
   * so voicegateway files them under the tenant. Without one the exporter's fallback key is
   * used. Like the providers' own keys, it is never logged or exported.
   */
  voiceGatewayKey?: string;
}

/**
 * A VAD for each session. In one long-lived process a shared VAD object must not keep
 * per-session state: Silero's `VAD`, for one, keeps every stream it ever made (with its
 * speech buffer) in a list for `updateOptions`, which in a worker hosting thousands of
 * calls grows without end. A factory gives each session its own VAD object (sharing the
 * loaded model), which is dropped with the session.
 */
export type VadFactory = () => VAD;

/** Pool-wide defaults, used where neither the tenant nor the agent class sets a provider. */
export interface DefaultProviders extends Omit<TenantProviders, 'voiceGatewayKey'> {
  /** One VAD shared by every session, or a factory called once per session. */
  vad?: VAD | VadFactory;
}

export const TENANT_PROVIDER_KEYS = ['stt', 'llm', 'tts'] as const;
export type TenantProviderKey = (typeof TENANT_PROVIDER_KEYS)[number];

/** Why a value is not a TenantProviders object, or undefined when it is one. */
export function tenantProvidersProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `must be an object with optional stt, llm and tts provider objects, got ${kindOf(value)}`;
  }
  for (const [key, provider] of Object.entries(value)) {
    if (key === 'voiceGatewayKey') {
      // The rule only: the value is a secret.
      if (provider !== undefined && !isVirtualKey(provider)) return `key "voiceGatewayKey" ${VIRTUAL_KEY_RULE}`;
      continue;
    }
    if (!(TENANT_PROVIDER_KEYS as readonly string[]).includes(key)) {
      return `has unknown key "${key}" (allowed: ${TENANT_PROVIDER_KEYS.join(', ')}, voiceGatewayKey; prompts belong in an Agent subclass chosen by a router)`;
    }
    if (provider !== undefined && (typeof provider !== 'object' || provider === null)) {
      return `key "${key}" must be a provider object, got ${kindOf(provider)}`;
    }
  }
  return undefined;
}

/** Names only the kind of a bad value: a string in a provider slot may well be an API key. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
