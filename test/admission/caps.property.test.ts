import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AdmissionDecision,
  type AdmissionTicket,
  AgentPool,
  InMemoryReservationStore,
  type ReservationStore,
  type ReserveRequest,
  type ReserveResult,
  type SessionOutcome,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { flush } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

const ASSIGNMENT_TIMEOUT_MS = 1_000;
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'] as const;
type Tenant = (typeof TENANTS)[number];

/** The in-memory store, with every release counted per reservation id. */
class CountingStore implements ReservationStore {
  private readonly inner = new InMemoryReservationStore();
  readonly reservedIds = new Set<string>();
  readonly releaseCalls = new Map<string, number>();
  readonly successfulReleases = new Map<string, number>();

  async tryReserve(request: ReserveRequest): Promise<ReserveResult> {
    const result = await this.inner.tryReserve(request);
    if (result.reserved) this.reservedIds.add(request.id);
    return result;
  }

  async release(id: string): Promise<boolean> {
    this.releaseCalls.set(id, (this.releaseCalls.get(id) ?? 0) + 1);
    const released = await this.inner.release(id);
    if (released) this.successfulReleases.set(id, (this.successfulReleases.get(id) ?? 0) + 1);
    return released;
  }

  countsByTenant(): Promise<Record<string, number>> {
    return this.inner.countsByTenant();
  }

  total(): Promise<number> {
    return this.inner.total();
  }
}

type Command =
  | { kind: 'admit'; tenant: Tenant }
  | { kind: 'burst'; tenants: Tenant[] }
  | { kind: 'start'; pick: number }
  | { kind: 'end'; pick: number; outcome: SessionOutcome }
  | { kind: 'endAgain'; pick: number; outcome: SessionOutcome }
  | { kind: 'advance'; ms: number }
  | { kind: 'expireReserved' };

const tenantArb = fc.constantFrom(...TENANTS);
const outcomeArb = fc.constantFrom<SessionOutcome>('success', 'failed', 'cancelled');
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('admit' as const), tenant: tenantArb }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('burst' as const), tenants: fc.array(tenantArb, { minLength: 2, maxLength: 12 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('start' as const), pick: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('end' as const), pick: fc.nat(), outcome: outcomeArb }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('endAgain' as const), pick: fc.nat(), outcome: outcomeArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: ASSIGNMENT_TIMEOUT_MS }) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'expireReserved' as const }), weight: 1 },
);

interface Limits {
  caps: Partial<Record<Tenant, number>>;
  globalCap: number | undefined;
}

const limitsArb: fc.Arbitrary<Limits> = fc.record({
  caps: fc.record(
    { acme: fc.integer({ min: 1, max: 4 }), globex: fc.integer({ min: 1, max: 4 }), initech: fc.integer({ min: 1, max: 6 }) },
    { requiredKeys: [] },
  ),
  globalCap: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
});

/** Runs one interleaving and checks the cap invariants after every step. */
async function runScenario(limits: Limits, commands: Command[]): Promise<void> {
  const clock = new ManualClock();
  const store = new CountingStore();
  const pool = new AgentPool({
    agent: SupportAgent,
    clock,
    reservationStore: store,
    maxSessionsPerTenant: limits.caps,
    maxConcurrentSessions: limits.globalCap,
    assignmentTimeoutMs: ASSIGNMENT_TIMEOUT_MS,
  });
  let expiredEvents = 0;
  pool.on('reservationExpired', () => expiredEvents++);
  const capOf = (tenant: string): number | undefined => limits.caps[tenant as Tenant];
  const everAccepted: AdmissionTicket[] = [];
  let refusals = 0;
  let endedBeforeStart = 0;
  const end = async (ticket: AdmissionTicket | undefined, outcome: SessionOutcome) => {
    if (ticket?.state === 'reserved') endedBeforeStart++;
    await ticket?.finish(outcome);
  };
  let jobs = 0;
  const request = (tenant: Tenant) => {
    const id = `job-${++jobs}`;
    return { jobId: id, roomName: `room-${id}`, jobMetadata: JSON.stringify({ tenant }) };
  };

  const checkCaps = async () => {
    const counts = await store.countsByTenant();
    const snapshot = pool.runtimeSnapshot();
    for (const tenant of TENANTS) {
      const held = counts[tenant] ?? 0;
      const cap = capOf(tenant);
      if (cap !== undefined) expect(held, `${tenant} holds more than its cap`).toBeLessThanOrEqual(cap);
      const seen = snapshot.tenants[tenant];
      expect((seen?.active ?? 0) + (seen?.reserved ?? 0), `snapshot and store disagree for ${tenant}`).toBe(held);
      expect(snapshot.sessionsByTenant[tenant] ?? 0).toBe(seen?.active ?? 0);
    }
    if (limits.globalCap !== undefined) {
      expect(await store.total(), 'the worker holds more than the global cap').toBeLessThanOrEqual(limits.globalCap);
    }
    expect(snapshot.activeSessions + snapshot.reservedSessions).toBe(await store.total());
    expect(pool.liveTickets().length).toBe(await store.total());
  };

  /** Every refusal for a cap must be one the store's counts justify (nothing released mid-burst). */
  const checkRefusal = async (decision: AdmissionDecision) => {
    if (decision.accepted) return;
    refusals++;
    const tenant = decision.tenant ?? '';
    if (decision.reason === 'tenant_cap') expect((await store.countsByTenant())[tenant] ?? 0).toBe(capOf(tenant));
    else if (decision.reason === 'global_cap') expect(await store.total()).toBe(limits.globalCap);
    else throw new Error(`unexpected refusal ${decision.reason}: ${decision.message}`);
  };

  for (const command of commands) {
    switch (command.kind) {
      case 'admit': {
        const cap = capOf(command.tenant);
        const room =
          (cap === undefined || ((await store.countsByTenant())[command.tenant] ?? 0) < cap) &&
          (limits.globalCap === undefined || (await store.total()) < limits.globalCap);
        const decision = await pool.admit(request(command.tenant));
        expect(decision.accepted, 'a call with room under both caps must be accepted, and only then').toBe(room);
        if (decision.accepted) everAccepted.push(decision.ticket);
        await checkRefusal(decision);
        break;
      }
      case 'burst': {
        const pending = command.tenants.map((tenant) => pool.admit(request(tenant)));
        const decisions = await Promise.all(pending);
        for (const decision of decisions) {
          if (decision.accepted) everAccepted.push(decision.ticket);
          await checkRefusal(decision);
        }
        break;
      }
      case 'start': {
        const reserved = pool.liveTickets().filter((t) => t.state === 'reserved');
        const ticket = reserved[command.pick % Math.max(1, reserved.length)];
        ticket?.markStarted(clock.now());
        break;
      }
      case 'end': {
        const live = pool.liveTickets();
        await end(live[command.pick % Math.max(1, live.length)], command.outcome);
        break;
      }
      case 'endAgain': {
        // Ending any ticket a second time (or an ended one) must never free a slot twice.
        await end(everAccepted[command.pick % Math.max(1, everAccepted.length)], command.outcome);
        break;
      }
      case 'advance':
        clock.advance(command.ms);
        break;
      case 'expireReserved':
        clock.advance(ASSIGNMENT_TIMEOUT_MS);
        expect(pool.liveTickets().every((t) => t.state === 'running')).toBe(true);
        break;
    }
    await flush();
    await checkCaps();
  }

  // Wind down: end what runs, let the rest expire.
  for (const ticket of pool.liveTickets().filter((t) => t.state === 'running')) await ticket.finish('success');
  clock.advance(ASSIGNMENT_TIMEOUT_MS);
  await flush();
  await checkCaps();

  expect(await store.total()).toBe(0);
  expect(await store.countsByTenant()).toEqual({});
  expect(pool.liveTickets()).toEqual([]);
  expect(clock.pendingTimers, 'an assignment timer outlived its ticket').toBe(0);
  expect([...store.reservedIds].sort()).toEqual(everAccepted.map((t) => t.jobId).sort());
  for (const ticket of everAccepted) {
    expect(store.releaseCalls.get(ticket.jobId), `release calls for ${ticket.jobId}`).toBe(1);
    expect(store.successfulReleases.get(ticket.jobId), `successful releases for ${ticket.jobId}`).toBe(1);
  }
  expect(store.releaseCalls.size).toBe(everAccepted.length);

  const { totals } = pool.runtimeSnapshot();
  expect(totals.admitted).toBe(everAccepted.length);
  expect(totals.rejected).toBe(refusals);
  expect(totals.expired).toBe(expiredEvents);
  expect(totals.started).toBe(everAccepted.filter((t) => t.startedAt !== undefined).length);
  expect(totals.admitted).toBe(totals.expired + totals.succeeded + totals.failed + totals.cancelled + endedBeforeStart);
}

describe('session caps under random interleavings', () => {
  it('never exceeds a tenant cap or the global cap, and frees every slot exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(commandArb, { minLength: 1, maxLength: 40 }), runScenario),
      { numRuns: 200 },
    );
  });

  it('holds when the tenant caps sum past maxConcurrentSessions', async () => {
    const limits: Limits = { caps: { acme: 3, globex: 3, initech: 3, umbrella: 3 }, globalCap: 5 };
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 40 }), (commands) => runScenario(limits, commands)),
      { numRuns: 150 },
    );
  });

  it('admits exactly up to the caps in one burst of simultaneous calls', async () => {
    const store = new CountingStore();
    const pool = new AgentPool({
      agent: SupportAgent,
      clock: new ManualClock(),
      reservationStore: store,
      maxSessionsPerTenant: { acme: 3, globex: 4 },
      maxConcurrentSessions: 6,
    });
    const pending: Promise<AdmissionDecision>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(pool.admit({ jobId: `a${i}`, roomName: 'r', jobMetadata: '{"tenant":"acme"}' }));
      pending.push(pool.admit({ jobId: `g${i}`, roomName: 'r', jobMetadata: '{"tenant":"globex"}' }));
    }
    const decisions = await Promise.all(pending);
    const acceptedBy = (tenant: string) => decisions.filter((d) => d.accepted && d.ticket.tenant === tenant).length;
    expect(acceptedBy('acme')).toBe(3);
    expect(acceptedBy('globex')).toBe(3);
    expect(await store.total()).toBe(6);
    const reasons = decisions.flatMap((d) => (d.accepted ? [] : [d.reason]));
    expect(reasons).toHaveLength(34);
    expect(new Set(reasons)).toEqual(new Set(['tenant_cap', 'global_cap']));
    expect(pool.runtimeSnapshot().tenants.acme?.rejectionsByReason.tenant_cap).toBeGreaterThan(0);
  });
});

describe('a repeated availability request for the same job', () => {
  it('answers with the live ticket instead of taking or freeing a second slot', async () => {
    const clock = new ManualClock();
    const store = new CountingStore();
    const pool = new AgentPool({
      agent: SupportAgent,
      clock,
      reservationStore: store,
      maxSessionsPerTenant: { acme: 1 },
      assignmentTimeoutMs: ASSIGNMENT_TIMEOUT_MS,
    });
    const request = { jobId: 'job-1', roomName: 'r', jobMetadata: '{"tenant":"acme"}' };
    const first = await pool.admit(request);
    const again = await pool.admit(request);
    expect(first.accepted && again.accepted).toBe(true);
    if (!first.accepted || !again.accepted) return;
    expect(again.ticket).toBe(first.ticket);
    again.ticket.markStarted(clock.now());
    // The first answer's assignment timer must not free the running session's slot.
    clock.advance(ASSIGNMENT_TIMEOUT_MS * 2);
    await flush();
    expect(await store.countsByTenant()).toEqual({ acme: 1 });
    expect(pool.liveTickets()).toEqual([first.ticket]);
    expect((await pool.admit({ ...request, jobId: 'job-2' })).accepted).toBe(false);
    await first.ticket.finish('success');
    expect(store.releaseCalls.get('job-1')).toBe(1);
    expect(await store.total()).toBe(0);
    expect(pool.runtimeSnapshot().totals.admitted).toBe(1);
  });

  it('issues one ticket for simultaneous requests for the same job', async () => {
    const store = new CountingStore();
    const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock(), reservationStore: store });
    const request = { jobId: 'job-1', roomName: 'r', jobMetadata: '{"tenant":"acme"}' };
    const decisions = await Promise.all([pool.admit(request), pool.admit(request), pool.admit(request)]);
    const tickets = new Set(decisions.map((d) => (d.accepted ? d.ticket : undefined)));
    expect(tickets.size).toBe(1);
    expect(pool.liveTickets()).toHaveLength(1);
    await pool.liveTickets()[0]?.finish('cancelled');
    expect(store.releaseCalls.get('job-1')).toBe(1);
    expect(await store.total()).toBe(0);
  });
});
