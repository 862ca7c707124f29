import { JobProcess, initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, type LatencyEvent, type ProviderErrorEvent, type UsageEvent } from '../../src/index.js';
import { ManualClock, ScriptedLLM } from '../../src/testing/index.js';
import { InProcessInferenceExecutor } from '../../src/session/inprocess_inference.js';
import type { CallConnection, RoomTransport } from '../../src/session/room_transport.js';
import { DEFAULT_SESSION_TIMEOUTS, RunningSession, type SessionTimeouts } from '../../src/session/session_runner.js';
import { currentTenant } from '../../src/telemetry/session_context.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** An in-memory simulated call: the test plays the caller. */
class LoopbackCall implements CallConnection {
  readonly kind = 'simulated' as const;
  readonly room = undefined;
  readonly replies: string[] = [];
  private userListener: ((text: string) => void) | undefined;
  private disconnectListener: ((reason: string, lost: boolean) => void) | undefined;
  private replyWaiters: (() => void)[] = [];
  left = false;

  private markReady!: () => void;
  /** Resolves when the session listens for user turns. */
  readonly ready = new Promise<void>((resolve) => {
    this.markReady = resolve;
  });

  onUserText(listener: (text: string) => void): void {
    this.userListener = listener;
    this.markReady();
  }
  sendAgentText(text: string): void {
    this.replies.push(text);
    this.replyWaiters.shift()?.();
  }
  onDisconnected(listener: (reason: string, lost: boolean) => void): void {
    this.disconnectListener = listener;
  }
  disconnect(): Promise<void> {
    this.left = true;
    this.order.push('left the room');
    return Promise.resolve();
  }
  /** What happened to this call, in order (reports and leaving). */
  readonly order: string[] = [];
  say(text: string): Promise<void> {
    const replied = new Promise<void>((resolve) => this.replyWaiters.push(resolve));
    this.userListener?.(text);
    return replied;
  }
  hangup(): void {
    this.disconnectListener?.('caller hung up', false);
  }
  /** The room drops the agent while the caller stays. */
  loseRoom(): void {
    this.disconnectListener?.('removed from the room', true);
  }
}

class LoopbackTransport implements RoomTransport {
  readonly calls: LoopbackCall[] = [];
  connect(): Promise<CallConnection> {
    const call = new LoopbackCall();
    this.calls.push(call);
    return Promise.resolve(call);
  }
}

class SupportAgent extends voice.Agent {
  readonly tenantAtConstruction = currentTenant();
  constructor() {
    super({ instructions: 'help' });
  }
}

function setup(tenants: Record<string, ScriptedLLM>, timeouts: Partial<SessionTimeouts> = {}) {
  const clock = new ManualClock();
  const pool = new AgentPool({
    agent: SupportAgent,
    clock,
    tenantConfig: Object.fromEntries(Object.entries(tenants).map(([t, llm]) => [t, { llm }])),
    enableTenantCircuitBreaker: true,
  });
  const transport = new LoopbackTransport();
  const usage: UsageEvent[] = [];
  pool.on('usage', (event) => usage.push(event));
  const latency: LatencyEvent[] = [];
  pool.on('latency', (event) => latency.push(event));
  const providerErrors: ProviderErrorEvent[] = [];
  pool.on('providerError', (event) => providerErrors.push(event));
  const deps = {
    buildSession: pool.runtime.buildSession,
    sessionContext: pool.runtime.sessionContext,
    recordUsage: (event: UsageEvent) => pool.runtime.recordUsage(event),
    recordLatency: (event: LatencyEvent) => pool.runtime.recordLatency(event),
    recordProviderError: (event: ProviderErrorEvent) => pool.runtime.recordProviderError(event),
    transport,
    proc: new JobProcess(),
    inferenceExecutor: new InProcessInferenceExecutor(),
    workerId: () => 'W_test',
    serverUrl: 'http://127.0.0.1:1',
    timeouts: { ...DEFAULT_SESSION_TIMEOUTS, ...timeouts },
    clock,
    reportOutcome: (jobId: string, end: { outcome: string }) => transport.calls.at(-1)?.order.push(`reported ${end.outcome} for ${jobId}`),
  };
  const launch = async (jobId: string, tenant: string) => {
    const decision = await pool.admit({ jobId, roomName: `room-${jobId}`, jobMetadata: JSON.stringify({ tenant }) });
    if (!decision.accepted) throw new Error(`refused: ${decision.reason}`);
    const job = { jobId, dispatchId: '', agentName: '', roomName: `room-${jobId}`, roomSid: '', jobMetadata: '', roomMetadata: '', attributes: {} };
    const session = new RunningSession(decision.ticket, { job, url: '', token: 't' }, deps);
    // Wait until the call is joined and its session has started.
    while (transport.calls.length < 1) await new Promise((r) => setImmediate(r));
    await Promise.race([transport.calls.at(-1)!.ready, session.done]);
    return session;
  };
  return { pool, transport, usage, latency, providerErrors, launch, clock, deps };
}

describe('RunningSession', () => {
  it('answers text turns with the tenant provider and ends as success on hangup', async () => {
    const acme = new ScriptedLLM({ reply: (t) => `acme says ${t}`, provider: 'openai', model: 'gpt-4o' });
    const { pool, transport, usage, latency, providerErrors, launch } = setup({ acme });
    const session = await launch('J1', 'acme');
    const call = transport.calls[0]!;
    await call.say('hello');
    await call.say('bye');
    expect(call.replies).toEqual(['acme says hello', 'acme says bye']);
    call.hangup();
    const end = await session.done;
    expect(end.outcome).toBe('success');
    expect(call.left).toBe(true);
    const snap = pool.runtimeSnapshot();
    expect(snap.tenants.acme?.succeeded).toBe(1);
    expect(snap.activeSessions).toBe(0);
    const llmUsage = usage.filter((u) => u.kind === 'llm');
    expect(llmUsage.length).toBe(2);
    expect(llmUsage[0]).toMatchObject({ tenant: 'acme', agent: 'support', provider: 'openai', model: 'gpt-4o' });
    expect(llmUsage[0]!.outputTokens).toBeGreaterThan(0);
    // One time-to-first-token and one duration per reply, named by the tenant's provider.
    expect(latency.map((l) => l.stage).sort()).toEqual(['llm_duration', 'llm_duration', 'llm_ttft', 'llm_ttft']);
    for (const l of latency) {
      expect(l).toMatchObject({ tenant: 'acme', agent: 'support', provider: 'openai', model: 'gpt-4o' });
      expect(l.seconds).toBeGreaterThanOrEqual(0);
      expect(l.seconds).toBeLessThan(5);
    }
    expect(providerErrors).toEqual([]);
  });

  it('a failing provider fails only its own session', async () => {
    const broken = new ScriptedLLM({ failWith: 'invalid api key' });
    const { pool, transport, providerErrors, launch } = setup({ broken });
    const session = await launch('J2', 'broken');
    void transport.calls[0]!.say('hello');
    const end = await session.done;
    expect(end.outcome).toBe('failed');
    expect(end.detail).toContain('invalid api key');
    expect(pool.runtimeSnapshot().tenants.broken?.failed).toBe(1);
    expect(providerErrors.length).toBeGreaterThanOrEqual(1);
    expect(providerErrors.at(-1)).toEqual({ tenant: 'broken', agent: 'support', component: 'llm', provider: 'scripted', recoverable: false });
  });

  it('a hung turn fails after the turn timeout', async () => {
    const hung = new ScriptedLLM({ hang: true });
    const { launch, transport, clock } = setup({ hung }, { turnMs: 200 });
    const session = await launch('J3', 'hung');
    void transport.calls[0]!.say('hello');
    // The turn's time limit runs on the pool's clock: once it is armed, move past it.
    for (let i = 0; i < 1_000 && clock.pendingTimers === 0; i++) await new Promise((r) => setImmediate(r));
    clock.advance(200);
    const end = await session.done;
    expect(end.outcome).toBe('failed');
    expect(end.detail).toContain('answering a turn took longer than 200 ms');
  });

  it('fails a session whose start outlasts the entry time limit, on the pool\'s clock', async () => {
    const acme = new ScriptedLLM();
    const { pool, clock, deps } = setup({ acme }, { entryMs: 15_000 });
    const decision = await pool.admit({ jobId: 'J5', roomName: 'room-J5', jobMetadata: JSON.stringify({ tenant: 'acme' }) });
    if (!decision.accepted) throw new Error(`refused: ${decision.reason}`);
    const job = { jobId: 'J5', dispatchId: '', agentName: '', roomName: 'room-J5', roomSid: '', jobMetadata: '', roomMetadata: '', attributes: {} };
    let building = false;
    const session = new RunningSession(decision.ticket, { job, url: '', token: 't' }, {
      ...deps,
      // An entry that never finishes: only the time limit can end it.
      buildSession: () => {
        building = true;
        return new Promise<never>(() => undefined);
      },
    });
    for (let i = 0; i < 1_000 && !building; i++) await new Promise((r) => setImmediate(r));
    expect(building).toBe(true);
    clock.advance(14_999);
    await new Promise((r) => setImmediate(r));
    expect(decision.ticket.state).toBe('running');
    clock.advance(1);
    const end = await session.done;
    expect(end).toEqual({ outcome: 'failed', detail: 'entry failed: starting the session took longer than 15000 ms' });
    expect(pool.runtimeSnapshot().tenants.acme?.failed).toBe(1);
  });

  it('reports the outcome before leaving the room, so LiveKit never sees the agent leave a running job', async () => {
    const acme = new ScriptedLLM();
    const { transport, launch } = setup({ acme });
    const session = await launch('J5', 'acme');
    transport.calls[0]!.hangup();
    await session.done;
    expect(transport.calls[0]!.order).toEqual(['reported success for J5', 'left the room']);
  });

  it('fails a session whose agent lost the room while the call went on, as LiveKit fails the job', async () => {
    const acme = new ScriptedLLM();
    const { pool, transport, launch } = setup({ acme });
    const session = await launch('J6', 'acme');
    transport.calls[0]!.loseRoom();
    const end = await session.done;
    expect(end).toEqual({ outcome: 'failed', detail: 'agent left the room: removed from the room' });
    expect(pool.runtimeSnapshot().tenants.acme?.failed).toBe(1);
  });

  it('cancel ends the session as cancelled, not failed', async () => {
    const acme = new ScriptedLLM();
    const { pool, launch } = setup({ acme });
    const session = await launch('J4', 'acme');
    session.cancel('drain timeout reached');
    const end = await session.done;
    expect(end).toEqual({ outcome: 'cancelled', detail: 'drain timeout reached' });
    expect(pool.runtimeSnapshot().tenants.acme?.cancelled).toBe(1);
    expect(pool.runtimeSnapshot().tenants.acme?.failed).toBe(0);
  });
});
