import { afterEach, describe, expect, it } from 'vitest';
import { AgentPool, type SessionEndedEvent } from '../../src/index.js';
import { DispatchServer, ScriptedLLM } from '../../src/testing/index.js';
import { SupportAgent } from '../helpers/test_agent.js';

const apiKey = 'rtc-key';
const apiSecret = 'rtc-secret-long-enough-for-hs256-signing';

let server: DispatchServer | undefined;
let pool: AgentPool | undefined;

afterEach(async () => {
  await pool?.drain(1_000);
  await server?.close();
});

describe('the production room transport (rtc-node Room)', () => {
  it('joins through JobContext.connect(); with no SFU at the assignment url the call fails on its own and the worker carries on', async () => {
    server = await DispatchServer.start({ apiKey, apiSecret });
    pool = new AgentPool({ agent: SupportAgent, llm: new ScriptedLLM() });
    const ended: SessionEndedEvent[] = [];
    pool.on('sessionEnded', (event) => ended.push(event));
    // No transport given: the worker uses real rtc-node rooms.
    await pool.start({ url: server.url, apiKey, apiSecret, handleSignals: false, telemetry: false, logger: { level: 'silent' } });

    const call = server.dispatch({ roomName: 'support-1', jobMetadata: JSON.stringify({ tenant: 'acme' }) });
    expect((await call.availability).available).toBe(true);
    await server.waitFor(() => ended.length === 1, 'the session to end', 20_000);
    expect(ended[0]).toMatchObject({ tenant: 'acme', outcome: 'failed' });
    expect(ended[0]!.detail).toMatch(/^entry failed: /);
    expect(pool.runtimeSnapshot().tenants.acme).toMatchObject({ failed: 1, active: 0 });

    // The worker is still up and admitting.
    const next = server.dispatch({ roomName: 'support-2', jobMetadata: JSON.stringify({ tenant: 'acme' }) }, { withholdAssignment: true });
    expect((await next.availability).available).toBe(true);
  }, 40_000);
});
