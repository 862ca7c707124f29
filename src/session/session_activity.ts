import { voice } from '@livekit/agents';
import type { TenantProviders } from '../tenancy/providers.js';
import { providerBehind } from './provider_scope.js';

export type ProviderSourceName = 'tenant' | 'shared' | 'none';

/** What a live session has done so far, for the inspector and `openrtc top`. */
export interface SessionActivitySnapshot {
  state: string;
  turns: number;
  lastLatencyMs: number | null;
  providers: { stt: ProviderSourceName; llm: ProviderSourceName; tts: ProviderSourceName };
}

const KINDS = ['stt', 'llm', 'tts'] as const;

/**
 * Counts a session's turns and the latency of its last reply from agents-js's own
 * session events. A few field writes per event: cheap enough for every session.
 */
export class SessionActivity {
  private state = 'starting';
  private turns = 0;
  private lastLatencyMs: number | null = null;
  private userTurnAt: number | undefined;
  private providers: SessionActivitySnapshot['providers'] = { stt: 'none', llm: 'none', tts: 'none' };

  constructor(private readonly now: () => number) {}

  attach(session: voice.AgentSession, agent: voice.Agent, tenantProviders: TenantProviders | null): void {
    for (const kind of KINDS) {
      // What the session will really call: the agent's own object wins over the session's.
      // Sessions see per-session views of their providers; compare the objects behind them.
      const used: unknown = providerBehind(agent[kind] ?? session[kind]);
      const own = tenantProviders?.[kind];
      this.providers[kind] = used === undefined || used === null ? 'none' : own !== undefined && used === own ? 'tenant' : 'shared';
    }
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (event) => {
      this.state = event.newState;
    });
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (event) => {
      if (event.item.type !== 'message') return;
      if (event.item.role === 'user') {
        this.turns++;
        this.userTurnAt = this.now();
      } else if (event.item.role === 'assistant' && this.userTurnAt !== undefined) {
        this.lastLatencyMs = this.now() - this.userTurnAt;
        this.userTurnAt = undefined;
      }
    });
  }

  snapshot(): SessionActivitySnapshot {
    return { state: this.state, turns: this.turns, lastLatencyMs: this.lastLatencyMs, providers: { ...this.providers } };
  }
}
