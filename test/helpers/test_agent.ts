// The agents the tests host, defined once. Their instructions are part of what the
// scripted LLM counts as input tokens, so token assertions read SUPPORT_INSTRUCTIONS.
import { voice } from '@livekit/agents';
import type { AgentPoolOptions } from '../../src/pool/options.js';

export const SUPPORT_INSTRUCTIONS = 'You help callers.';

/** The agent every test pool hosts unless a test needs its own. */
export class SupportAgent extends voice.Agent {
  constructor() {
    super({ instructions: SUPPORT_INSTRUCTIONS });
  }
}

/** A second agent, for routing between two. */
export class SalesAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You are the sales agent.' });
  }
}

/** Text-only sessions: no VAD or STT offline, so turns are ended by the runner. */
export const OFFLINE_SESSION_OPTIONS: AgentPoolOptions['sessionOptions'] = { turnHandling: { turnDetection: 'manual' } };
