import { describe, expect, it } from 'vitest';
import { OpenRtcError, REFUSAL_REASONS } from '../src/index.js';

// A change to either list is a change to what users can import: make it on purpose.
describe('public surface', () => {
  it('pins the runtime exports of openrtc', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'AdmissionTicket',
      'AgentPool',
      'DEFAULT_BREAKER_POLICY',
      'DEFAULT_TENANT',
      'InMemoryBreakerStore',
      'InMemoryReservationStore',
      'OpenRtcError',
      'REFUSAL_REASONS',
      'SNAPSHOT_SCHEMA_VERSION',
      'currentAgentName',
      'currentSessionId',
      'currentTenant',
      'getSessionContext',
      'isValidTenantId',
      'systemClock',
    ]);
  });

  it('pins the runtime exports of openrtc/testing', async () => {
    expect(Object.keys(await import('../src/testing/index.js')).sort()).toEqual(['FakeTTS', 'ManualClock']);
  });

  it('pins the refusal reasons, which dashboards and alerts key on', () => {
    expect([...REFUSAL_REASONS]).toEqual([
      'invalid_tenant',
      'draining',
      'unknown_agent',
      'circuit_open',
      'tenant_cap',
      'global_cap',
      'config_error',
    ]);
  });
});

describe('OpenRtcError', () => {
  it('prefixes the message with its code and keeps the raw message apart', () => {
    const error = new OpenRtcError('tenant_cap', 'tenant "acme" is at its cap of 2 sessions');
    expect(error.code).toBe('tenant_cap');
    expect(error.message).toBe('[tenant_cap] tenant "acme" is at its cap of 2 sessions');
    expect(error.rawMessage).toBe('tenant "acme" is at its cap of 2 sessions');
    expect(error.name).toBe('OpenRtcError');
    expect(error).toBeInstanceOf(Error);
  });

  it('keeps the cause', () => {
    const cause = new Error('socket closed');
    expect(new OpenRtcError('connection_error', 'lost the server', { cause }).cause).toBe(cause);
  });

  it('recognises errors from another copy of the package through the brand', () => {
    // What a second copy of openrtc would construct: a plain Error carrying the shared brand.
    const foreign = Object.assign(new Error('[draining] no'), { code: 'draining' });
    Object.defineProperty(foreign, Symbol.for('openrtc.OpenRtcError'), { value: true });
    expect(foreign instanceof OpenRtcError).toBe(true);
    expect(new Error('[draining] no') instanceof OpenRtcError).toBe(false);
    expect({ code: 'draining' } instanceof OpenRtcError).toBe(false);
    const notObjects: unknown[] = [null, '[draining] x', 3];
    for (const value of notObjects) expect(value instanceof OpenRtcError).toBe(false);
  });
});
