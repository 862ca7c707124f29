import { voice } from '@livekit/agents';
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { AgentPoolOptions } from '../../src/pool/options.js';
import { ManualClock } from '../../src/testing/manual_clock.js';

export class SupportAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You help callers.' });
  }
}

let jobSeq = 0;

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

export function call(tenant: unknown): { jobId: string; roomName: string; jobMetadata: string } {
  jobSeq++;
  return { jobId: `job-${jobSeq}`, roomName: `room-${jobSeq}`, jobMetadata: JSON.stringify({ tenant }) };
}

/** Admits a call and, unless told otherwise, starts it; fails the test when refused. */
export async function startSession(pool: AgentPool, clock: ManualClock, tenant: string) {
  const decision = await pool.admit(call(tenant));
  if (!decision.accepted) throw new Error(`expected ${tenant} to be admitted, refused: ${decision.reason}`);
  decision.ticket.markStarted(clock.now());
  return decision.ticket;
}
