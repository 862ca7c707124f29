import { describe, expect, it } from 'vitest';
import { OpenRtcError, REFUSAL_REASONS } from '../src/index.js';

// A change to either list is a change to what users can import: make it on purpose.
describe('public surface', () => {
  it('pins the runtime exports of openrtc', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'ATTR_AGENT',
      'ATTR_AGENT_SPANS',
      'ATTR_BREAKER_FROM',
      'ATTR_BREAKER_REASON',
      'ATTR_BREAKER_TO',
      'ATTR_CAP',
      'ATTR_DECISION',
      'ATTR_JOB_ID',
      'ATTR_OUTCOME',
      'ATTR_PROBE',
      'ATTR_REASON',
      'ATTR_TENANT',
      'AdmissionTicket',
      'AgentPool',
      'DEFAULT_BREAKER_POLICY',
      'DEFAULT_REDACT_PATHS',
      'DEFAULT_TENANT',
      'DEFAULT_TENANT_LABEL_LIMIT',
      'EVENT_BREAKER_TRANSITION',
      'EVENT_CAP_REFUSED',
      'INVALID_TENANT_LABEL',
      'InMemoryBreakerStore',
      'InMemoryReservationStore',
      'MAX_ROWS_PER_REQUEST',
      'METRIC_CATALOG',
      'OPENRTC_VERSION',
      'OTHER_TENANT_LABEL',
      'OpenRtcError',
      'REFUSAL_REASONS',
      'ROW_TENANT_SQL',
      'RedisBreakerStore',
      'RedisReservationStore',
      'SNAPSHOT_SCHEMA_VERSION',
      'SPAN_ADMISSION',
      'SPAN_SESSION',
      'TenantSpanProcessor',
      'VoiceGatewayExporter',
      'WorkerConnection',
      'attachPoolLogging',
      'attachPoolMetrics',
      'bindAgentsLogger',
      'costByTenantSql',
      'costRowsByTraceSql',
      'createLogger',
      'createRedisClient',
      'currentAgentName',
      'currentSessionId',
      'currentTenant',
      'getSessionContext',
      'isValidTenantId',
      'isVirtualKey',
      'sessionLogFields',
      'shutdownLogger',
      'startTelemetry',
      'systemClock',
    ]);
  });

  it('pins the runtime exports of openrtc/testing', async () => {
    expect(Object.keys(await import('../src/testing/index.js')).sort()).toEqual([
      'DispatchServer',
      'DispatchedCall',
      'FakeTTS',
      'ManualClock',
      'PostgresRequestsTable',
      'REQUEST_COLUMNS',
      'ScriptedLLM',
      'ScriptedSTT',
      'SimulatedRoomTransport',
      'VoiceGatewayCollector',
      'validateIngestRow',
    ]);
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
      'store_unavailable',
      'answer_timeout',
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
