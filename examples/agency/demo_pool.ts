// The example agency with offline fake providers: what `npm run demo` hosts. Four client
// tenants show the pool's behaviour: a healthy one, a capped one, one whose provider key
// was revoked, and a premium one routed to its own agent.
import { AgentPool, type AgentPoolOptions } from '../../src/index.js';
import { FakeTTS, ScriptedLLM } from '../../src/testing/index.js';
import { ConciergeAgent, SupportAgent } from './agents.js';
import { router } from './pool.js';

export const DEMO_TENANTS = {
  healthy: 'acme-corp',
  capped: 'globex',
  failing: 'initech',
  premium: 'umbrella',
} as const;

export function createDemoPool(overrides: Partial<AgentPoolOptions> = {}): AgentPool {
  return new AgentPool({
    agents: { support: SupportAgent, concierge: ConciergeAgent },
    router,
    llm: new ScriptedLLM({ reply: (text) => `(shared model) you said: ${text}`, provider: 'openai', model: 'gpt-4o-mini' }),
    tts: new FakeTTS({ provider: 'deepgram', model: 'aura-2' }),
    tenantConfig: {
      [DEMO_TENANTS.healthy]: {
        llm: new ScriptedLLM({ reply: (text) => `Acme support here. About "${text}": done.`, provider: 'openai', model: 'gpt-4o', apiKey: 'acme-oa-demo-key' }),
        tts: new FakeTTS({ provider: 'openai', model: 'tts-1', apiKey: 'acme-tts-demo-key' }),
      },
      [DEMO_TENANTS.capped]: {
        llm: new ScriptedLLM({ reply: (text) => `Globex desk: noted "${text}".`, provider: 'openai', model: 'gpt-4o-mini', apiKey: 'globex-oa-demo-key' }),
      },
      [DEMO_TENANTS.failing]: {
        // A revoked key: every request fails the way a provider's 401 does.
        llm: new ScriptedLLM({ failWith: '401 Unauthorized: invalid api key', provider: 'openai', model: 'gpt-4o', apiKey: 'initech-revoked-key' }),
      },
      [DEMO_TENANTS.premium]: {
        llm: new ScriptedLLM({ reply: (text) => `Good evening. Regarding "${text}", consider it arranged.`, provider: 'anthropic', model: 'claude-sonnet', apiKey: 'umbrella-key' }),
      },
    },
    maxSessionsPerTenant: { [DEMO_TENANTS.healthy]: 50, [DEMO_TENANTS.capped]: 2 },
    defaultMaxSessionsPerTenant: 10,
    maxConcurrentSessions: 40,
    enableTenantCircuitBreaker: true,
    circuitBreaker: { failureRatio: 0.5, minSamples: 3, windowMs: 60_000, cooldownMs: 1_500, halfOpenProbes: 1 },
    sessionOptions: { turnHandling: { turnDetection: 'manual' } },
    ...overrides,
  });
}

// `openrtc dev examples/agency/demo_pool.ts` (and `start`, `tenant verify --pool`) call this
// with the deploy-time options from their flags.
export default createDemoPool;
