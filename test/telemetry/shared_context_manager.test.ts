import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT, context, createContextKey, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { type SessionContext, getSessionContext, runWithSessionContext } from '../../src/telemetry/session_context.js';
import { SharedContextManager } from '../../src/telemetry/shared_context_manager.js';
import { type OpenRtcTelemetry, startTelemetry } from '../../src/telemetry/setup.js';

const KEY = createContextKey('test key');
const acme: SessionContext = { tenant: 'acme', agent: 'support', sessionId: 'job-1', jobId: 'job-1', roomName: 'room-1' };
const globex: SessionContext = { tenant: 'globex', agent: 'support', sessionId: 'job-2', jobId: 'job-2', roomName: 'room-2' };

let telemetry: OpenRtcTelemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

describe('SharedContextManager', () => {
  it('is the global context manager once telemetry starts, and carries spans across awaits', async () => {
    telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false });
    const manager = new SharedContextManager();
    expect(context.with(ROOT_CONTEXT.setValue(KEY, 'probe'), () => manager.active().getValue(KEY))).toBe('probe');

    const seen = await telemetry.tracer.startActiveSpan('outer', async (span) => {
      await new Promise((resolve) => setImmediate(resolve));
      const inner = trace.getActiveSpan();
      span.end();
      return inner;
    });
    expect(seen).toBeDefined();
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('keeps each session its own identity and context while both run, even under the root context', async () => {
    telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false });
    const observe = (session: SessionContext, value: string) =>
      runWithSessionContext(session, () =>
        context.with(context.active().setValue(KEY, value), async () => {
          await new Promise((resolve) => setImmediate(resolve));
          const underRoot = context.with(ROOT_CONTEXT, () => ({ tenant: getSessionContext()?.tenant, value: context.active().getValue(KEY) }));
          return { tenant: getSessionContext()?.tenant, value: context.active().getValue(KEY), underRoot };
        }));
    const [a, g] = await Promise.all([observe(acme, 'a'), observe(globex, 'g')]);
    expect(a).toEqual({ tenant: 'acme', value: 'a', underRoot: { tenant: 'acme', value: undefined } });
    expect(g).toEqual({ tenant: 'globex', value: 'g', underRoot: { tenant: 'globex', value: undefined } });
  });

  it('binds emitters and functions to a context, as the SDK manager does', async () => {
    telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false });
    const bound = context.bind(ROOT_CONTEXT.setValue(KEY, 'bound'), () => context.active().getValue(KEY));
    expect(bound()).toBe('bound');
    const emitter = context.bind(ROOT_CONTEXT.setValue(KEY, 'emitter'), new EventEmitter());
    let heard: unknown;
    emitter.on('x', () => {
      heard = context.active().getValue(KEY);
    });
    emitter.emit('x');
    expect(heard).toBe('emitter');
  });

  it('leaves session identity working after telemetry shuts down', async () => {
    telemetry = await startTelemetry({ host: '127.0.0.1', port: 0, otlpTraces: false });
    await telemetry.shutdown();
    telemetry = undefined;
    const tenant = await runWithSessionContext(acme, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return getSessionContext()?.tenant;
    });
    expect(tenant).toBe('acme');
  });
});
