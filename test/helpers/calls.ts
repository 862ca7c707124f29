// Small helpers shared by the pool tests: building call requests and unwrapping decisions.
import { voice } from '@livekit/agents';
import { expect } from 'vitest';
import type { AdmissionDecision, AdmissionTicket, CallRequest, RefusalReason } from '../../src/index.js';

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

export class SupportAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You are the support agent.' });
  }
}

export class SalesAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You are the sales agent.' });
  }
}
