import { voice } from '@livekit/agents';
import { currentTenant } from '../../src/index.js';

/** The agency's shared support agent: one prompt for every client that has no agent of its own. */
export class SupportAgent extends voice.Agent {
  constructor() {
    super({
      instructions:
        `You are the phone support assistant of ${currentTenant()}. ` +
        'Answer briefly, confirm what the caller asked for, and offer a human when unsure.',
    });
  }
}

/**
 * A client with its own prompt gets its own Agent subclass, chosen by the router.
 * `tenantConfig` only ever carries providers, never prompts.
 */
export class ConciergeAgent extends voice.Agent {
  constructor() {
    super({
      instructions:
        'You are the concierge line of a premium client. Greet callers by name when you know it, ' +
        'and never put them on hold without asking.',
    });
  }
}
