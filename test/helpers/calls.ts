// Small helpers shared by the pool tests: building call requests and unwrapping decisions.
import { expect } from 'vitest';
import type { AdmissionDecision, AdmissionTicket, CallRequest, RefusalReason } from '../../src/index.js';
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import { ManualClock } from '../../src/testing/manual_clock.js';
import { SupportAgent } from './test_agent.js';

let nextJob = 0;

/** A call request whose job metadata names `tenant` (omitted: no tenant key at all). */
export function call(tenant?: string, extra: Partial<CallRequest> & { agent?: string } = {}): CallRequest {
  const { agent, ...rest } = extra;
  const metadata: Record<string, unknown> = {};
  if (tenant !== undefined) metadata.tenant = tenant;
  if (agent !== undefined) metadata.agent = agent;
  return {
    jobId: `job-${++nextJob}`,
    roomName: `room-${nextJob}`,
    jobMetadata: Object.keys(metadata).length > 0 ? JSON.stringify(metadata) : undefined,
    ...rest,
  };
}

export function accepted(decision: AdmissionDecision): AdmissionTicket {
  if (!decision.accepted) throw new Error(`expected an accepted call, got ${decision.reason}: ${decision.message}`);
  return decision.ticket;
}

export type Refusal = Extract<AdmissionDecision, { accepted: false }>;

export function refused(decision: AdmissionDecision, reason?: RefusalReason): Refusal {
  if (decision.accepted) throw new Error(`expected a refusal, got a ticket for ${decision.ticket.jobId}`);
  if (reason !== undefined) expect(decision.reason, decision.message).toBe(reason);
  return decision;
}

/** Lets pending promise callbacks and I/O callbacks run (no timers involved). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A pool with one agent (`support`), a loader that answers defaults, and a manual clock. */
export function makePool(options: Partial<AgentPoolOptions> = {}): { pool: AgentPool; clock: ManualClock } {
  const clock = new ManualClock();
  const pool = new AgentPool({
    agent: SupportAgent,
    tenantConfig: () => null,
    clock,
    deploymentVersion: 'test-deploy',
    ...options,
  });
  return { pool, clock };
}

/** Admits a call and starts it; fails the test when refused. */
export async function startSession(pool: AgentPool, clock: ManualClock, tenant: string): Promise<AdmissionTicket> {
  const ticket = accepted(await pool.admit(call(tenant)));
  ticket.markStarted(clock.now());
  return ticket;
}
