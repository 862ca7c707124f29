import { initializeLogger } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import type { AvailabilityRecord, SimulatedCallScript } from '../../src/testing/dispatch_types.js';
import { ManualClock } from '../../src/testing/manual_clock.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { eventually } from '../helpers/eventually.js';
import { harnessPerTest } from '../helpers/worker_harness.js';

// The shared-process worker end to end: the stand-in LiveKit server on a real WebSocket,
// real admission in the pool, a real agents-js AgentSession per call with fake providers.

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** A call that stays live after its first reply, until the test hangs it up. */
const HOLD: SimulatedCallScript = { turns: ['hello'], hangupAfterLastReply: false };
const TWO_TURNS: SimulatedCallScript = { turns: ['hello', 'thanks, bye'] };

/** Three tenants: `healthy` (no cap), `capped` (cap 5), `failing` (its LLM rejects every turn). */
function threeTenants(extra: AgentPoolOptions = {}): AgentPoolOptions {
  return {
    tenantConfig: {
      healthy: { llm: new ScriptedLLM({ reply: (text) => `healthy: ${text}` }) },
      capped: { llm: new ScriptedLLM({ reply: (text) => `capped: ${text}` }) },
      failing: { llm: new ScriptedLLM({ failWith: 'invalid api key' }) },
    },
    maxSessionsPerTenant: { capped: 5 },
    ...extra,
  };
}

const accepted = (records: AvailabilityRecord[]): number => records.filter((r) => r.available).length;

/** Resolves once the agent has answered the caller's first turn. */
const firstReply = (call: DispatchedCall): Promise<unknown> =>
  eventually(() => call.transcript.some((t) => t.from === 'agent'), `the first reply in ${call.roomName}`, 10_000);

describe('PoolWorker against the stand-in server: admission', () => {
  const startHarness = harnessPerTest();

  it('accepts exactly 5 of a 200-call burst for a tenant capped at 5, and holds the global cap across tenants', async () => {
    const h = await startHarness({ pool: threeTenants({ maxConcurrentSessions: 8 }) });

    // 200 simultaneous requests; each accepted call runs a session that stays live.
    const burst = Array.from({ length: 200 }, () => h.call('capped', HOLD, { ignoreWorkerStatus: true }));
    const answers = await Promise.all(burst.map((c) => c.availability));
    expect(accepted(answers)).toBe(5);
    expect(answers.filter((a) => !a.available)).toHaveLength(195);
    // Every refusal came from the worker itself, not from the server.
    const workerId = h.server.workers[0]?.workerId;
    expect(answers.filter((a) => a.reason !== undefined || a.workerId !== workerId)).toEqual([]);
    const live = burst.filter((_, i) => answers[i]!.available);
    await Promise.all(live.map(firstReply));

    let snap = h.snapshot();
    expect(snap.tenants.capped).toMatchObject({ active: 5, reserved: 0, cap: 5, utilization: 1, started: 5 });
    expect(snap.tenants.capped?.rejectionsByReason).toEqual({ tenant_cap: 195 });
    expect(snap.rejectionsByReason.tenant_cap).toBe(195);
    expect(snap.totals).toMatchObject({ admitted: 5, started: 5, rejected: 195 });

    // Global cap 8: with 5 held by `capped`, three more of any tenant fit and no more.
    const others = [
      ...Array.from({ length: 4 }, () => h.call('healthy', HOLD, { ignoreWorkerStatus: true })),
      h.call('failing', HOLD, { ignoreWorkerStatus: true }),
    ];
    const otherAnswers = await Promise.all(others.map((c) => c.availability));
    expect(otherAnswers.map((a) => a.available)).toEqual([true, true, true, false, false]);
    snap = h.snapshot();
    expect(snap.rejectionsByReason.global_cap).toBe(2);
    expect(snap.tenants.healthy?.rejectionsByReason).toEqual({ global_cap: 1 });
    expect(snap.tenants.failing?.rejectionsByReason).toEqual({ global_cap: 1 });
    expect(snap.activeSessions + snap.reservedSessions).toBe(8);
    const healthyLive = others.slice(0, 3);
    await Promise.all(healthyLive.map(firstReply));

    // A full worker says so; the server then stops offering it calls.
    await h.server.waitFor(() => h.server.workers[0]?.status === 'full', 'the worker to report WS_FULL', 6_000);
    await expect(h.call('healthy', TWO_TURNS).availability).resolves.toMatchObject({ available: false, reason: 'no_worker' });

    // One capped call hangs up: its slot comes back, and a new call fits again.
    live[0]!.hangup();
    await h.sessionEnded(live[0]!.jobId);
    await h.server.waitFor(() => h.server.workers[0]?.status === 'available', 'the worker to report WS_AVAILABLE', 6_000);
    const next = h.call('healthy', TWO_TURNS);
    await expect(next.availability).resolves.toMatchObject({ available: true });
    await expect(next.ended).resolves.toEqual({ reason: 'hangup' });
    expect(next.transcript).toEqual([
      { from: 'user', text: 'hello' },
      { from: 'agent', text: 'healthy: hello' },
      { from: 'user', text: 'thanks, bye' },
      { from: 'agent', text: 'healthy: thanks, bye' },
    ]);

    for (const call of [...live.slice(1), ...healthyLive]) call.hangup();
    await Promise.all([...live, ...healthyLive, next].map((c) => h.sessionEnded(c.jobId)));
    snap = h.snapshot();
    expect(snap.tenants.capped).toMatchObject({ active: 0, started: 5, succeeded: 5, failed: 0 });
    expect(snap.tenants.healthy).toMatchObject({ active: 0, started: 4, succeeded: 4, failed: 0 });
    expect(snap.totals).toMatchObject({ admitted: 9, started: 9, succeeded: 9, failed: 0, cancelled: 0, rejected: 197 });
    expect(snap.activeSessions).toBe(0);
  });

  it('opens the failing tenant\'s breaker while the others keep completing, and admits a probe after the cooldown', async () => {
    const clock = new ManualClock(Date.now());
    const h = await startHarness({ pool: threeTenants({
        clock,
        enableTenantCircuitBreaker: true,
        circuitBreaker: { minSamples: 3, failureRatio: 0.5, windowMs: 60_000, cooldownMs: 30_000, halfOpenProbes: 1 },
      }) });

    // Three failing calls alongside healthy and capped ones.
    const failing = Array.from({ length: 3 }, () => h.call('failing', TWO_TURNS));
    const good = [h.call('healthy', TWO_TURNS), h.call('capped', TWO_TURNS), h.call('healthy', TWO_TURNS)];
    for (const answer of await Promise.all([...failing, ...good].map((c) => c.availability))) expect(answer.available).toBe(true);
    const failedEnds = await Promise.all(failing.map((c) => h.sessionEnded(c.jobId)));
    for (const end of failedEnds) {
      expect(end).toMatchObject({ tenant: 'failing', outcome: 'failed' });
      expect(end.detail).toContain('invalid api key');
    }
    for (const call of good) await expect(call.ended).resolves.toEqual({ reason: 'hangup' });
    await Promise.all(good.map((c) => h.sessionEnded(c.jobId)));

    let snap = h.snapshot();
    expect(snap.tenants.failing?.breaker?.state).toBe('open');
    expect(snap.tenants.failing).toMatchObject({ started: 3, failed: 3, succeeded: 0 });
    expect(snap.tenants.healthy?.breaker?.state).toBe('closed');
    expect(snap.tenants.capped?.breaker?.state).toBe('closed');
    expect(h.transitions).toEqual([expect.objectContaining({ tenant: 'failing', from: 'closed', to: 'open', reason: 'failure_ratio' })]);
    // Durations are measured on the pool's clock throughout.
    for (const end of h.sessionsEnded) expect(end.durationMs).toBeGreaterThanOrEqual(0);

    // While open: the failing tenant is refused, the others are still accepted and complete.
    const refused = h.call('failing', TWO_TURNS);
    const stillGood = [h.call('healthy', TWO_TURNS), h.call('capped', TWO_TURNS)];
    await expect(refused.availability).resolves.toMatchObject({ available: false });
    for (const call of stillGood) {
      await expect(call.ended).resolves.toEqual({ reason: 'hangup' });
      expect(call.transcript.filter((t) => t.from === 'agent')).toHaveLength(2);
    }
    await Promise.all(stillGood.map((c) => h.sessionEnded(c.jobId)));
    snap = h.snapshot();
    expect(snap.tenants.failing?.rejectionsByReason).toEqual({ circuit_open: 1 });
    expect(snap.tenants.healthy).toMatchObject({ succeeded: 3, failed: 0 });
    expect(snap.tenants.capped).toMatchObject({ succeeded: 2, failed: 0 });

    // After the cooldown one probe is admitted; a second call meanwhile is not.
    clock.advance(30_000);
    expect(h.snapshot().tenants.failing?.breaker?.state).toBe('half_open');
    const probe = h.call('failing', TWO_TURNS);
    await expect(probe.availability).resolves.toMatchObject({ available: true });
    await expect(h.call('failing', TWO_TURNS).availability).resolves.toMatchObject({ available: false });
    // The probe fails as well, so the breaker opens again.
    await expect(h.sessionEnded(probe.jobId)).resolves.toMatchObject({ outcome: 'failed' });
    snap = h.snapshot();
    expect(snap.tenants.failing?.breaker).toMatchObject({ state: 'open', trips: 2 });
    expect(snap.tenants.failing).toMatchObject({ started: 4, failed: 4, rejectionsByReason: { circuit_open: 2 } });
    expect(h.transitions.map((t) => `${t.from}->${t.to}:${t.reason}`)).toEqual([
      'closed->open:failure_ratio',
      'open->half_open:cooldown_elapsed',
      'half_open->open:probe_failed',
    ]);
    expect(snap.totals).toMatchObject({ succeeded: 5, failed: 4, cancelled: 0 });
  });

  it('frees the slot of an accepted call whose assignment never comes, and accepts the tenant again', async () => {
    const h = await startHarness({ pool: threeTenants({ assignmentTimeoutMs: 300 }) });
    const expired: string[] = [];
    h.pool.on('reservationExpired', (event) => expired.push(event.jobId));

    const withheld = Array.from({ length: 5 }, () => h.call('capped', TWO_TURNS, { withholdAssignment: true }));
    expect(accepted(await Promise.all(withheld.map((c) => c.availability)))).toBe(5);
    await expect(h.call('capped', TWO_TURNS, { ignoreWorkerStatus: true }).availability).resolves.toMatchObject({ available: false });
    expect(h.snapshot().tenants.capped).toMatchObject({ active: 0, reserved: 5, utilization: 1, rejectionsByReason: { tenant_cap: 1 } });

    await eventually(() => expired.length === 5, 'the five reservations to expire', 5_000);
    expect(expired.sort()).toEqual(withheld.map((c) => c.jobId).sort());
    let snap = h.snapshot();
    expect(snap.tenants.capped).toMatchObject({ active: 0, reserved: 0, started: 0, failed: 0 });
    expect(snap.totals).toMatchObject({ admitted: 5, expired: 5, started: 0 });

    const again = h.call('capped', TWO_TURNS);
    await expect(again.availability).resolves.toMatchObject({ available: true });
    await expect(again.ended).resolves.toEqual({ reason: 'hangup' });
    expect(again.transcript.map((t) => t.text)).toEqual(['hello', 'capped: hello', 'thanks, bye', 'capped: thanks, bye']);
    await h.sessionEnded(again.jobId);
    snap = h.snapshot();
    expect(snap.tenants.capped).toMatchObject({ started: 1, succeeded: 1, failed: 0 });
    expect(snap.totals).toMatchObject({ admitted: 6, expired: 5, succeeded: 1 });
  });

  it('ends a job whose assignment comes after its slot was released: failed at the server, never hosted', async () => {
    const h = await startHarness({ pool: threeTenants({ assignmentTimeoutMs: 300 }) });
    const expired: string[] = [];
    h.pool.on('reservationExpired', (event) => expired.push(event.jobId));

    const late = h.call('capped', TWO_TURNS, { withholdAssignment: true });
    await expect(late.availability).resolves.toMatchObject({ available: true });
    await eventually(() => expired.length === 1, 'the reservation to expire', 5_000);
    await h.server.sendWithheldAssignment(late.jobId);

    // Without the failed status the server would keep the job running with no agent.
    await eventually(() => late.jobState?.status === 'failed', 'the server to see the late job end', 5_000);
    expect(late.jobState?.error).toBe('assignment arrived after its reserved slot was released');
    const snap = h.snapshot();
    expect(snap.tenants.capped).toMatchObject({ active: 0, reserved: 0, started: 0 });
    expect(snap.totals).toMatchObject({ admitted: 1, expired: 1, started: 0 });
  });
});
