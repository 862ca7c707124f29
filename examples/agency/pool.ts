// The onboarding runbook's pool, written with the real provider plugins. Building these
// objects needs no network; only a live call would reach the providers. The runbook uses
// Cartesia for TTS; its Node plugin (1.8.1) pins @livekit/agents 1.8.1, and a second copy
// of agents-js breaks instanceof checks, so this example uses OpenAI's and Deepgram's TTS.
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import { AgentPool, type AgentRouter } from '../../src/index.js';
import { ConciergeAgent, SupportAgent } from './agents.js';
import { sileroVadPerSession } from './silero_vad.js';

/** Send the premium client to its own agent; everyone else takes the default chain. */
export const router: AgentRouter = ({ tenant }) => (tenant === 'umbrella' ? 'concierge' : undefined);

export async function createAgencyPool(): Promise<AgentPool> {
  return new AgentPool({
    agents: { support: SupportAgent, concierge: ConciergeAgent },
    router,
    // Pool defaults: used by every tenant that does not bring its own.
    // One Silero model for the worker, a small VAD object per call (see silero_vad.ts).
    vad: await sileroVadPerSession(),
    stt: new deepgram.STT({ apiKey: process.env.DEEPGRAM_API_KEY }),
    llm: new openai.LLM({ model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY }),
    tts: new deepgram.TTS({ apiKey: process.env.DEEPGRAM_API_KEY }),
    tenantConfig: {
      // Each client's own keys, in its own provider objects.
      'acme-corp': {
        stt: new deepgram.STT({ apiKey: process.env.ACME_DEEPGRAM_KEY }),
        llm: new openai.LLM({ model: 'gpt-4o', apiKey: process.env.ACME_OPENAI_KEY }),
        tts: new openai.TTS({ apiKey: process.env.ACME_OPENAI_KEY }),
      },
      // Overrides only the llm; keeps the shared stt and tts.
      globex: { llm: new openai.LLM({ model: 'gpt-4o-mini', apiKey: process.env.GLOBEX_OPENAI_KEY }) },
    },
    maxSessionsPerTenant: { 'acme-corp': 50, globex: 10 },
    defaultMaxSessionsPerTenant: 5,
    maxConcurrentSessions: 100,
    enableTenantCircuitBreaker: true,
  });
}
