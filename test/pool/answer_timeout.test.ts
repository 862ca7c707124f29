import { describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/pool/agent_pool.js';
import type { AdmissionEvent } from '../../src/telemetry/pool_events.js';
import { SupportAgent } from '../helpers/test_agent.js';

describe('admission past the answer deadline', () => {
  it('refuses with answer_timeout, takes no slot, and counts the refusal like any other', async () => {
    let release!: () => void;
    const loaded = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pool = new AgentPool({
      agent: SupportAgent,
      tenantConfig: async () => {
        await loaded;
        return null;
      },
      maxConcurrentSessions: 1,
    });
    const admissions: AdmissionEvent[] = [];
    pool.on('admission', (event) => admissions.push(event));
    const deadline = new AbortController();
    const decision = pool.admit({ jobId: 'AJ_slow', roomName: 'r', jobMetadata: '{"tenant":"acme"}', signal: deadline.signal });
    // The worker's deadline passes while the loader runs; the loader then answers.
    deadline.abort();
    release();
    await expect(decision).resolves.toMatchObject({ accepted: false, reason: 'answer_timeout' });
    expect(admissions).toEqual([expect.objectContaining({ jobId: 'AJ_slow', tenant: 'acme', accepted: false, reason: 'answer_timeout' })]);
    const snap = pool.runtimeSnapshot();
    expect(snap.rejectionsByReason.answer_timeout).toBe(1);
    expect(snap.reservedSessions).toBe(0);
    // The one slot is still free for a call answered in time.
    await expect(pool.admit({ jobId: 'AJ_next', roomName: 'r', jobMetadata: '{"tenant":"acme"}' })).resolves.toMatchObject({ accepted: true });
  });
});
