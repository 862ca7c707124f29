import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AdmissionEvent, AgentPool, type Diagnostic, type PoolEventMap } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, flush, refused } from '../helpers/calls.js';
import { SupportAgent } from '../helpers/test_agent.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function record(pool: AgentPool) {
  const seen: { [K in keyof PoolEventMap]?: PoolEventMap[K][] } = {};
  const names: (keyof PoolEventMap)[] = ['admission', 'sessionStarted', 'sessionEnded', 'reservationExpired', 'draining'];
  for (const name of names) {
    pool.on(name, (event) => {
      (seen[name] ??= [] as never[]).push(event as never);
    });
  }
  return seen;
}

describe('pool events', () => {
  it('reports every decision, start, end, expiry and the drain', async () => {
    const clock = new ManualClock();
    const pool = new AgentPool({ agent: SupportAgent, clock, maxSessionsPerTenant: { acme: 1 }, assignmentTimeoutMs: 1_000 });
    const seen = record(pool);
    const ticket = accepted(await pool.admit({ jobId: 'j1', roomName: 'r', jobMetadata: '{"tenant":"acme"}' }));
    refused(await pool.admit({ jobId: 'j2', roomName: 'r', jobMetadata: '{"tenant":"acme"}' }), 'tenant_cap');
    clock.advance(250);
    ticket.markStarted(clock.now());
    clock.advance(750);
    await ticket.finish('failed', 'entry threw');
    accepted(await pool.admit({ jobId: 'j3', roomName: 'r', jobMetadata: '{"tenant":"acme"}' }));
    clock.advance(1_000);
    await flush();
    pool.runtime.startDraining();
    pool.runtime.startDraining();

    const strip = ({ durationMs: _d, ...rest }: AdmissionEvent) => rest;
    expect(seen.admission?.map(strip)).toEqual([
      { jobId: 'j1', tenant: 'acme', agent: 'support', accepted: true, reason: undefined, message: undefined, probe: false },
      { jobId: 'j2', tenant: 'acme', agent: 'support', accepted: false, reason: 'tenant_cap', message: 'tenant "acme" is at its cap of 1 sessions', probe: false },
      { jobId: 'j3', tenant: 'acme', agent: 'support', accepted: true, reason: undefined, message: undefined, probe: false },
    ]);
    expect(seen.sessionStarted).toEqual([{ jobId: 'j1', sessionId: 'j1', tenant: 'acme', agent: 'support' }]);
    expect(seen.sessionEnded).toEqual([
      { jobId: 'j1', sessionId: 'j1', tenant: 'acme', agent: 'support', outcome: 'failed', durationMs: 750, detail: 'entry threw' },
    ]);
    expect(seen.reservationExpired).toEqual([{ jobId: 'j3', tenant: 'acme', agent: 'support', waitedMs: 1_000 }]);
    expect(seen.draining).toEqual([{ at: clock.now() }]);
  });

  it('labels an invalid tenant refusal with no tenant', async () => {
    const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock() });
    const seen = record(pool);
    refused(await pool.admit(call('a/b')), 'invalid_tenant');
    expect(seen.admission?.[0]).toMatchObject({ accepted: false, reason: 'invalid_tenant', tenant: undefined, agent: undefined });
  });

  it('keeps a throwing listener from changing a decision, and reports it as a diagnostic', async () => {
    const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock() });
    const diagnostics: Diagnostic[] = [];
    pool.on('diagnostic', (d) => diagnostics.push(d));
    pool.on('admission', () => {
      throw new Error('exporter down');
    });
    const after: boolean[] = [];
    pool.on('admission', (event) => after.push(event.accepted));
    accepted(await pool.admit(call('acme')));
    expect(after).toEqual([true]);
    expect(diagnostics).toMatchObject([{ code: 'listener_threw', message: 'a "admission" listener threw: exporter down' }]);
  });

  it('writes a diagnostic to stderr when nobody listens for diagnostics', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock() });
      pool.on('admission', () => {
        throw new Error('exporter down');
      });
      accepted(await pool.admit(call('acme')));
      expect(warn).toHaveBeenCalledWith('openrtc: listener_threw: a "admission" listener threw: exporter down');
    } finally {
      warn.mockRestore();
    }
  });

  it('stops calling a listener once unsubscribed', async () => {
    const pool = new AgentPool({ agent: SupportAgent, clock: new ManualClock() });
    let calls = 0;
    const off = pool.on('admission', () => calls++);
    await pool.admit(call('acme'));
    off();
    await pool.admit(call('acme'));
    expect(calls).toBe(1);
  });
});
