import { log as agentsLog } from '@livekit/agents';
import { afterEach, describe, expect, it } from 'vitest';
import { type SessionContext, runWithSessionContext } from '../../src/telemetry/session_context.js';
import { bindAgentsLogger } from '../../src/telemetry/agents_logger.js';
import { REDACTED, createLogger } from '../../src/telemetry/logger.js';
import { attachPoolLogging } from '../../src/telemetry/pool_logging.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';
import { call, makePool, startSession } from '../helpers/calls.js';
import { captureLines } from './log_capture.js';

let telemetry: OpenRtcTelemetry | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await telemetry?.shutdown();
  telemetry = undefined;
});

const acme: SessionContext = { tenant: 'acme', agent: 'support', sessionId: 'job-7', jobId: 'job-7', roomName: 'room-7' };

async function setup() {
  telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false });
  const out = captureLines();
  const logger = createLogger({ destination: out, otlp: false, level: 'debug' });
  return { telemetry, out, logger };
}

describe('createLogger', () => {
  it('puts the given fields on every record, next to pid and hostname', () => {
    const out = captureLines();
    const logger = createLogger({ destination: out, otlp: false, level: 'info', fields: { workerIndex: 1 } });
    logger.info('one');
    logger.child({ component: 'livekit-agents' }).warn('two');
    expect(out.records).toHaveLength(2);
    for (const record of out.records) expect(record).toMatchObject({ workerIndex: 1, pid: process.pid });
  });

  it('adds session and trace fields inside a session, none outside', async () => {
    const { telemetry: t, out, logger } = await setup();
    logger.info('outside');
    let traceId = '';
    let spanId = '';
    runWithSessionContext(acme, () => {
      logger.info('in session, no span');
      t.tracer.startActiveSpan('openrtc.session', (span) => {
        traceId = span.spanContext().traceId;
        spanId = span.spanContext().spanId;
        logger.info('in span');
        span.end();
      });
    });

    const [outside, noSpan, inSpan] = out.records;
    expect(outside).toMatchObject({ msg: 'outside' });
    for (const key of ['tenant', 'agent', 'jobId', 'sessionId', 'trace_id', 'span_id']) expect(outside).not.toHaveProperty(key);
    expect(noSpan).toMatchObject({ tenant: 'acme', agent: 'support', jobId: 'job-7', sessionId: 'job-7' });
    expect(noSpan).not.toHaveProperty('trace_id');
    expect(inSpan).toMatchObject({ tenant: 'acme', jobId: 'job-7', trace_id: traceId, span_id: spanId, trace_flags: 1 });
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('censors secrets under the default and the given redact paths', async () => {
    const { out } = await setup();
    const logger = createLogger({ destination: out, otlp: false, level: 'info', redactPaths: ['tenantKeys.*'] });
    logger.info({
      provider: { apiKey: 'sk-live-1', model: 'gpt-4o' },
      deepgram: { api_key: 'dg-2' },
      headers: { authorization: 'Bearer abc', accept: 'json' },
      password: 'hunter2',
      auth: { token: 'tok-3' },
      tenantKeys: { acme: 'k-4' },
    }, 'configured');
    const line = JSON.stringify(out.records[0]);
    for (const secret of ['sk-live-1', 'dg-2', 'Bearer abc', 'hunter2', 'tok-3', 'k-4']) expect(line).not.toContain(secret);
    expect(out.records[0]).toMatchObject({
      provider: { apiKey: REDACTED, model: 'gpt-4o' },
      headers: { authorization: REDACTED, accept: 'json' },
      password: REDACTED,
      tenantKeys: { acme: REDACTED },
    });
  });

  it('censors the default keys without any redact path given, in records, errors and child bindings', () => {
    const out = captureLines();
    const logger = createLogger({ destination: out, otlp: false, level: 'info' });
    const failure = Object.assign(new Error('provider refused'), { apiKey: 'sk-err-5', status: 401 });
    const record = Object.freeze({
      token: 'tok-top',
      deepgram: Object.freeze({ api_key: 'dg-6', model: 'nova-3' }),
      headers: { cookie: 'sid=7', accept: 'json' },
      req: { headers: { authorization: 'Bearer req-8', cookie: 'sid=9', host: 'x' }, password: 'pw-10' },
      err: failure,
      count: 3,
    });
    logger.child({ component: 'stt', apiSecret: 'child-11', opts: { secret: 'child-12' } }).info(record, 'configured');
    const line = JSON.stringify(out.records[0]);
    for (const secret of ['tok-top', 'dg-6', 'sid=7', 'req-8', 'sid=9', 'pw-10', 'sk-err-5', 'child-11', 'child-12']) {
      expect(line).not.toContain(secret);
    }
    expect(out.records[0]).toMatchObject({
      component: 'stt', apiSecret: REDACTED, opts: { secret: REDACTED },
      token: REDACTED,
      deepgram: { api_key: REDACTED, model: 'nova-3' },
      headers: { cookie: REDACTED, accept: 'json' },
      req: { headers: { authorization: REDACTED, cookie: REDACTED, host: 'x' }, password: REDACTED },
      err: { type: 'Error', message: 'provider refused', apiKey: REDACTED, status: 401 },
      count: 3,
    });
    expect((out.records[0] as { err: { stack?: string } }).err.stack).toContain('provider refused');
    // The caller's objects are left as they were.
    expect(record.deepgram.api_key).toBe('dg-6');
    expect(failure.apiKey).toBe('sk-err-5');
  });
});

describe('bindAgentsLogger', () => {
  it("labels agents-js's own records with the session and the span", async () => {
    const { telemetry: t, out, logger } = await setup();
    cleanups.push(bindAgentsLogger(logger));
    agentsLog().info('agents outside');
    runWithSessionContext(acme, () => {
      t.tracer.startActiveSpan('agent_turn', (span) => {
        agentsLog().child({ speechId: 's1' }).warn({ llm: { apiKey: 'sk-9' } }, 'agents inside');
        span.end();
        expect(out.records.at(-1)).toMatchObject({ span_id: span.spanContext().spanId });
      });
    });
    const [outside, inside] = out.records;
    expect(outside).toMatchObject({ msg: 'agents outside', component: 'livekit-agents' });
    expect(outside).not.toHaveProperty('tenant');
    expect(inside).toMatchObject({
      msg: 'agents inside', component: 'livekit-agents', speechId: 's1',
      tenant: 'acme', agent: 'support', jobId: 'job-7', sessionId: 'job-7', llm: { apiKey: REDACTED },
    });
    expect(inside).toHaveProperty('trace_id');
  });

  it("leaves agents-js's lines below warn out of a call whose context says so, and only of that call", async () => {
    const { out, logger } = await setup();
    cleanups.push(bindAgentsLogger(logger));
    // A child made before any call, as agents-js makes its module loggers.
    const early = agentsLog().child({ module: 'voice' });
    const globex: SessionContext = { ...acme, tenant: 'globex', sessionId: 'job-8', jobId: 'job-8', agentLogs: true };
    const quiet: SessionContext = { ...acme, agentLogs: false };
    // Two calls at once: each awaits between its records, so their records interleave.
    const write = async (context: SessionContext) => runWithSessionContext(context, async () => {
      for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
        early[level](`${context.tenant} ${level}`);
        await Promise.resolve();
        agentsLog().child({ speechId: 's1' })[level](`${context.tenant} child ${level}`);
      }
    });
    await Promise.all([write(quiet), write(globex)]);
    early.info('outside any call');
    const lines = (tenant: string) => out.records.filter((r) => r.tenant === tenant).map((r) => r.msg);
    expect(lines('acme')).toEqual(['acme warn', 'acme child warn', 'acme error', 'acme child error']);
    expect(lines('globex')).toEqual(['debug', 'info', 'warn', 'error'].flatMap((level) => [`globex ${level}`, `globex child ${level}`]));
    expect(out.records.at(-1)).toMatchObject({ msg: 'outside any call', module: 'voice' });
  });

  it('keeps a level set on the gated logger on the logger itself, gates included', async () => {
    const { out, logger } = await setup();
    cleanups.push(bindAgentsLogger(logger));
    const agents = agentsLog();
    agents.level = 'trace';
    expect(agents.level).toBe('trace');
    runWithSessionContext({ ...acme, agentLogs: false }, () => agents.trace('left out'));
    runWithSessionContext({ ...acme, agentLogs: true }, () => agents.trace('kept'));
    expect(out.records.map((r) => r.msg)).toEqual(['kept']);
  });

  it('restores the previous agents-js logger', async () => {
    const { logger } = await setup();
    const restore = bindAgentsLogger(logger);
    const bound = agentsLog();
    restore();
    expect(agentsLog()).not.toBe(bound);
  });
});

describe('attachPoolLogging', () => {
  it('logs refusals, breaker transitions, expiry and draining with the tenant', async () => {
    const { out, logger } = await setup();
    const { pool, clock } = makePool({
      maxSessionsPerTenant: { acme: 1 },
      enableTenantCircuitBreaker: true,
      circuitBreaker: { minSamples: 1, failureRatio: 0.5 },
    });
    cleanups.push(attachPoolLogging(pool, logger));

    await startSession(pool, clock, 'acme');
    await pool.admit(call('acme'));
    await pool.admit(call('no good'));
    const failing = await startSession(pool, clock, 'initech');
    await failing.finish('failed', 'entry threw');
    expect((await pool.admit(call('globex'))).accepted).toBe(true);
    await clock.advanceAsync(15_000);
    pool.runtime.startDraining();

    const byEvent = (event: string) => out.records.filter((r) => r.event === event);
    expect(byEvent('admission_refused')).toEqual([
      expect.objectContaining({ level: 30, tenant: 'acme', reason: 'tenant_cap' }),
      expect.objectContaining({ level: 30, tenant: '~invalid', reason: 'invalid_tenant' }),
    ]);
    expect(byEvent('breaker_transition')).toEqual([
      expect.objectContaining({ level: 40, tenant: 'initech', from: 'closed', to: 'open', reason: 'failure_ratio' }),
    ]);
    expect(byEvent('session_failed')).toEqual([expect.objectContaining({ level: 40, tenant: 'initech', detail: 'entry threw' })]);
    expect(byEvent('reservation_expired')).toEqual([expect.objectContaining({ level: 40, tenant: 'globex', agent: 'support' })]);
    expect(byEvent('draining')).toHaveLength(1);
  });

  it('warns when a tenant config loader fails', async () => {
    const { out, logger } = await setup();
    const { pool } = makePool({ tenantConfig: () => { throw new Error('vault down'); } });
    cleanups.push(attachPoolLogging(pool, logger));
    expect(await pool.admit(call('acme'))).toMatchObject({ accepted: false, reason: 'config_error' });
    expect(out.records.filter((r) => r.event === 'tenant_config_failed')).toEqual([
      expect.objectContaining({ level: 40, tenant: 'acme', result: 'error' }),
    ]);
  });
});
