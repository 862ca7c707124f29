import { initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/telemetry/pool_events.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { harnessPerTest } from '../helpers/worker_harness.js';
import { addTokens, expectedTokens } from '../telemetry/token_math.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const INSTRUCTIONS = 'You help callers.';
const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);
const explode = (text: string): string | undefined => (text === 'explode' ? 'provider exploded on this request' : undefined);

/** An Agent subclass that names its own LLM: one object shared by every call of this agent. */
const ownLlm = new ScriptedLLM({ reply: (t) => `own: ${t}`, failOn: explode });
class OwnLlmAgent extends voice.Agent {
  constructor() {
    super({ instructions: INSTRUCTIONS, llm: ownLlm });
  }
}

describe('provider objects shared by many sessions in one process', () => {
  const startHarness = harnessPerTest();

  it('an unrecoverable LLM error fails only the call whose request failed, and only it counts for the breaker', async () => {
    // acme's three calls share acme's own object; globex and initech share the pool default.
    const acmeLlm = new ScriptedLLM({ reply: (t) => `acme: ${t}`, failOn: explode });
    const pooledLlm = new ScriptedLLM({ reply: (t) => `pool: ${t}`, failOn: explode });
    const h = await startHarness({
      pool: {
        llm: pooledLlm,
        tenantConfig: { acme: { llm: acmeLlm } },
        enableTenantCircuitBreaker: true,
        circuitBreaker: { minSamples: 2, failureRatio: 0.5 },
      },
    });
    const open = { turns: ['hello'], hangupAfterLastReply: false };
    const acme = [h.call('acme', open), h.call('acme', open), h.call('acme', open)];
    const globex = [h.call('globex', open), h.call('globex', open)];
    const initech = [h.call('initech', open)];
    const all = [...acme, ...globex, ...initech];
    // Every call is live and has been answered once before anything fails.
    await h.server.waitFor(() => all.every((c) => agentReplies(c).length === 1), 'every call to be answered', 20_000);

    // One acme call's request fails on acme's shared object; one globex call's on the pool default.
    acme[0]!.say('explode');
    globex[0]!.say('explode');
    const failedAcme = await h.sessionEnded(acme[0]!.jobId);
    const failedGlobex = await h.sessionEnded(globex[0]!.jobId);
    expect(failedAcme).toMatchObject({ tenant: 'acme', outcome: 'failed' });
    expect(failedGlobex).toMatchObject({ tenant: 'globex', outcome: 'failed' });
    expect(failedAcme.detail).toContain('provider exploded on this request');

    // Every other call is still live and still answered by its own provider.
    const survivors = [acme[1]!, acme[2]!, globex[1]!, initech[0]!];
    for (const call of survivors) call.say('still there?');
    await h.server.waitFor(() => survivors.every((c) => agentReplies(c).length === 2), 'the other calls to answer again', 20_000);
    expect(agentReplies(acme[1]!)).toEqual(['acme: hello', 'acme: still there?']);
    expect(agentReplies(globex[1]!)).toEqual(['pool: hello', 'pool: still there?']);
    expect(agentReplies(initech[0]!)).toEqual(['pool: hello', 'pool: still there?']);
    expect(h.sessionsEnded.map((e) => e.jobId).sort()).toEqual([acme[0]!.jobId, globex[0]!.jobId].sort());

    for (const call of survivors) call.hangup();
    await Promise.all(survivors.map((c) => h.sessionEnded(c.jobId)));
    const snap = h.snapshot();
    expect(snap.tenants.acme).toMatchObject({ started: 3, succeeded: 2, failed: 1 });
    expect(snap.tenants.globex).toMatchObject({ started: 2, succeeded: 1, failed: 1 });
    expect(snap.tenants.initech).toMatchObject({ started: 1, succeeded: 1, failed: 0 });
    expect(snap.tenants.acme?.breaker?.state).toBe('closed');
    expect(snap.tenants.globex?.breaker?.state).toBe('closed');
    expect(snap.tenants.initech?.breaker?.state).toBe('closed');
  });

  it('attributes usage to the session whose request it was, on objects shared within and across tenants', async () => {
    const pooled = new ScriptedLLM({ reply: (t) => `pool: ${t}` });
    const acmeLlm = new ScriptedLLM({ reply: (t) => `acme: ${t}`, provider: 'openai', model: 'gpt-4o' });
    const h = await startHarness({ pool: { llm: pooled, tenantConfig: { acme: { llm: acmeLlm } } } });
    const usage: UsageEvent[] = [];
    h.pool.on('usage', (event) => usage.push(event));

    const scripts: Record<string, string[][]> = {
      acme: [['hi', 'how much is it?'], ['hello there', 'thanks'], ['a question about my very long invoice number']],
      globex: [['hey'], ['good morning, I need help with my account', 'ok', 'bye']],
      initech: [['one'], ['two words'], ['three little words']],
    };
    const calls = Object.entries(scripts).flatMap(([tenant, list]) =>
      list.map((turns) => ({ tenant, turns, call: h.call(tenant, { turns }) })),
    );
    // `idle` exists as a tenant (it is configured) but makes no call.
    await Promise.all(calls.map(async ({ call }) => h.sessionEnded(call.jobId, 30_000)));

    const replyOf = (tenant: string) => (t: string) => (tenant === 'acme' ? `acme: ${t}` : `pool: ${t}`);
    for (const tenant of ['acme', 'globex', 'initech', 'idle']) {
      const expected = addTokens(...(scripts[tenant] ?? []).map((turns) => expectedTokens(INSTRUCTIONS, turns, replyOf(tenant))));
      const mine = usage.filter((u) => u.tenant === tenant && u.kind === 'llm');
      const got = mine.reduce((sum, u) => ({ input: sum.input + (u.inputTokens ?? 0), output: sum.output + (u.outputTokens ?? 0) }), { input: 0, output: 0 });
      expect(got, tenant).toEqual(expected);
    }
    // Per session, too: each call's own requests, once each.
    for (const { tenant, turns, call } of calls) {
      const mine = usage.filter((u) => u.jobId === call.jobId);
      expect(mine.length).toBe(turns.length);
      expect(mine.every((u) => u.jobId === call.jobId && u.tenant === tenant)).toBe(true);
      const tokens = expectedTokens(INSTRUCTIONS, turns, replyOf(tenant));
      expect(mine.reduce((n, u) => n + (u.inputTokens ?? 0), 0)).toBe(tokens.input);
    }
    expect(usage.filter((u) => u.tenant === 'acme').every((u) => u.provider === 'openai' && u.model === 'gpt-4o')).toBe(true);
    expect(usage.filter((u) => u.tenant === 'idle')).toEqual([]);
  });

  it('scopes the provider an Agent subclass names itself, too', async () => {
    const h = await startHarness({ pool: { agent: OwnLlmAgent } });
    const open = { turns: ['hello'], hangupAfterLastReply: false };
    const calls = [h.call('acme', open), h.call('globex', open), h.call('globex', open)];
    await h.server.waitFor(() => calls.every((c) => agentReplies(c).length === 1), 'every call to be answered', 20_000);
    calls[1]!.say('explode');
    expect(await h.sessionEnded(calls[1]!.jobId)).toMatchObject({ tenant: 'globex', outcome: 'failed' });
    const survivors = [calls[0]!, calls[2]!];
    for (const call of survivors) call.say('still there?');
    await h.server.waitFor(() => survivors.every((c) => agentReplies(c).length === 2), 'the other calls to answer again', 20_000);
    for (const call of survivors) call.hangup();
    for (const call of survivors) expect(await h.sessionEnded(call.jobId)).toMatchObject({ outcome: 'success' });
    expect(ownLlm.listenerCount('error') + ownLlm.listenerCount('metrics_collected')).toBe(0);
  });
});
