import { initializeLogger, stt, voice } from '@livekit/agents';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdmissionTicket, AgentPool, type AgentPoolOptions, type BuiltSession, currentAgentName, currentSessionId, currentTenant, getSessionContext } from '../../src/index.js';
import { runWithSessionContext } from '../../src/telemetry/session_context.js';
import { FakeTTS, ManualClock } from '../../src/testing/index.js';
import { accepted, call } from '../helpers/calls.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** What the agent code saw of its session context, per agent instance. */
interface Seen {
  inConstructor: string;
  onEnter?: string;
  llmNode?: string[];
}

class SupportAgent extends voice.Agent {
  readonly seen: Seen;
  constructor() {
    super({ instructions: 'You are support.' });
    this.seen = { inConstructor: currentTenant(), llmNode: [] };
  }

  override async onEnter(): Promise<void> {
    await Promise.resolve();
    this.seen.onEnter = currentTenant();
  }

  override async llmNode(...args: Parameters<voice.Agent['llmNode']>): ReturnType<voice.Agent['llmNode']> {
    await new Promise((resolve) => setImmediate(resolve));
    this.seen.llmNode?.push(`${currentTenant()}/${currentAgentName()}`);
    return super.llmNode(...args);
  }
}

/** An agent that names its own llm, which agents-js would otherwise prefer over the session's. */
const agentOwnLlm = new voice.testing.FakeLLM([{ input: 'hi', content: 'reply from the agent class llm' }]);
class OwnLlmAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You have your own llm.', llm: agentOwnLlm });
  }
}

const fakeLlm = (reply: string) => new voice.testing.FakeLLM([{ input: 'hi', content: reply }]);

function tenants() {
  return {
    acme: { stt: new stt.testing.FakeSTT({ label: 'acme-stt' }), llm: fakeLlm('reply from acme'), tts: new FakeTTS({ apiKey: 'acme-key' }) },
    globex: { llm: fakeLlm('reply from globex') },
  };
}

const defaults = () => ({ stt: new stt.testing.FakeSTT({ label: 'default-stt' }), llm: fakeLlm('reply from the default llm'), tts: new FakeTTS() });

function makePool(extra: AgentPoolOptions = {}) {
  const config = tenants();
  const fallback = defaults();
  const pool = new AgentPool({
    agents: { support: SupportAgent, own: OwnLlmAgent },
    clock: new ManualClock(),
    tenantConfig: config,
    ...fallback,
    sessionOptions: { turnHandling: { turnDetection: 'manual' } },
    ...extra,
  });
  return { pool, config, fallback };
}

const open: BuiltSession[] = [];
afterEach(async () => {
  for (const { session } of open.splice(0)) await session.close();
});

async function build(pool: AgentPool, tenant: string, agent = 'support'): Promise<BuiltSession & { ticket: AdmissionTicket }> {
  const ticket = accepted(await pool.admit(call(tenant, { agent })));
  const built = await pool.runtime.buildSession(ticket);
  open.push(built);
  return { ...built, ticket };
}

/** Starts the session and runs one text turn inside the call's session context, as the host does. */
async function converse(pool: AgentPool, built: BuiltSession & { ticket: AdmissionTicket }): Promise<string[]> {
  return runWithSessionContext(pool.runtime.sessionContext(built.ticket), async () => {
    await built.session.start({ agent: built.agent });
    const result = built.session.run({ userInput: 'hi' });
    await result.wait();
    return result.events.flatMap((event) =>
      event.type === 'message' && event.item.role === 'assistant' ? [event.item.textContent ?? ''] : [],
    );
  });
}

describe('buildSession()', () => {
  it('gives each session exactly its tenant\'s provider objects', async () => {
    const { pool, config, fallback } = makePool();
    const acme = await build(pool, 'acme');
    expect(acme.session.llm).toBe(config.acme.llm);
    expect(acme.session.stt).toBe(config.acme.stt);
    expect(acme.session.tts).toBe(config.acme.tts);
    expect(acme.agent.llm).toBe(config.acme.llm);
    expect(acme.agent.stt).toBe(config.acme.stt);
    expect(acme.agent.tts).toBe(config.acme.tts);

    // globex brings only an llm: the rest comes from the pool defaults.
    const globex = await build(pool, 'globex');
    expect(globex.session.llm).toBe(config.globex.llm);
    expect(globex.agent.llm).toBe(config.globex.llm);
    expect(globex.session.stt).toBe(fallback.stt);
    expect(globex.session.tts).toBe(fallback.tts);

    // A tenant without config uses the defaults for everything.
    const other = await build(pool, 'initech');
    expect(other.session.llm).toBe(fallback.llm);
    expect(other.session.stt).toBe(fallback.stt);
    expect(other.session.tts).toBe(fallback.tts);
    expect(other.agent.llm).toBeUndefined();
  });

  it('builds a fresh Agent and AgentSession per call', async () => {
    const { pool } = makePool();
    const first = await build(pool, 'acme');
    const second = await build(pool, 'acme');
    expect(second.agent).not.toBe(first.agent);
    expect(second.session).not.toBe(first.session);
    expect(second.session.llm).toBe(first.session.llm);
  });

  it('runs two tenants\' sessions at once, each answered by its own tenant\'s llm', async () => {
    const { pool } = makePool();
    const acme = await build(pool, 'acme');
    const globex = await build(pool, 'globex');
    const [acmeReplies, globexReplies] = await Promise.all([converse(pool, acme), converse(pool, globex)]);
    expect(acmeReplies).toEqual(['reply from acme']);
    expect(globexReplies).toEqual(['reply from globex']);
  });

  it('makes the tenant\'s llm win over an Agent subclass\'s own llm', async () => {
    const { pool, config } = makePool();
    const acme = await build(pool, 'acme', 'own');
    expect(acme.agent.llm).toBe(config.acme.llm);
    expect(await converse(pool, acme)).toEqual(['reply from acme']);
  });

  it('keeps an Agent subclass\'s own llm for a tenant that brings none', async () => {
    const { pool, fallback } = makePool();
    const plain = await build(pool, 'initech', 'own');
    expect(plain.agent.llm).toBe(agentOwnLlm);
    expect(plain.session.llm).toBe(fallback.llm);
    expect(await converse(pool, plain)).toEqual(['reply from the agent class llm']);
  });

  it('lets agent code read its own tenant from the constructor and inside the session', async () => {
    const { pool } = makePool();
    const acme = await build(pool, 'acme');
    const globex = await build(pool, 'globex');
    await Promise.all([converse(pool, acme), converse(pool, globex)]);
    expect((acme.agent as SupportAgent).seen).toEqual({ inConstructor: 'acme', onEnter: 'acme', llmNode: ['acme/support'] });
    expect((globex.agent as SupportAgent).seen).toEqual({ inConstructor: 'globex', onEnter: 'globex', llmNode: ['globex/support'] });
  });

  it('gives the session context of the ticket and none outside it', async () => {
    const { pool } = makePool();
    const acme = await build(pool, 'acme');
    expect(pool.runtime.sessionContext(acme.ticket)).toEqual({
      tenant: 'acme', agent: 'support', sessionId: acme.ticket.jobId, jobId: acme.ticket.jobId, roomName: acme.ticket.roomName,
      agentSpans: acme.ticket.agentSpans,
      // The default trace policy keeps agents-js's detail lines for the calls whose spans it keeps.
      agentLogs: acme.ticket.agentSpans,
    });
    runWithSessionContext(pool.runtime.sessionContext(acme.ticket), () => {
      expect(currentSessionId()).toBe(acme.ticket.jobId);
      expect(getSessionContext()?.tenant).toBe('acme');
    });
    expect(getSessionContext()).toBeUndefined();
    expect(() => currentTenant()).toThrow('currentTenant() was called outside an openrtc session');
    expect(() => currentAgentName()).toThrow('currentAgentName() was called outside an openrtc session');
  });

  it('passes sessionOptions through to every session', async () => {
    const { pool } = makePool({ sessionOptions: { turnHandling: { turnDetection: 'manual' }, userData: { plan: 'gold' } } });
    const acme = await build(pool, 'acme');
    expect(acme.session.userData).toEqual({ plan: 'gold' });
  });
});
