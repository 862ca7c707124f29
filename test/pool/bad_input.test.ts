import { voice } from '@livekit/agents';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, type AgentPoolOptions, OpenRtcError } from '../../src/index.js';
import { POOL_OPTION_NAMES } from '../../src/pool/options.js';
import { ManualClock } from '../../src/testing/index.js';
import { accepted, call, refused } from '../helpers/calls.js';
import { SalesAgent, SupportAgent } from '../helpers/test_agent.js';

const RULE = "must be 1-128 characters of letters, digits, '-' or '_'";

function pool(options: AgentPoolOptions = {}): AgentPool {
  return new AgentPool({ agent: SupportAgent, clock: new ManualClock(), ...options });
}

describe('tenant id from metadata', () => {
  const malformed: [string, unknown, string][] = [
    ['a number', 42, 'must be a string, got 42'],
    ['null', null, 'must be a string, got null'],
    ['an empty string', '', 'must not be empty'],
    ['129 characters', 'a'.repeat(129), 'must be at most 128 characters, got 129'],
    ['a space', 'acme corp', `${RULE}, got "acme corp"`],
    ['a slash', 'a/b', `${RULE}, got "a/b"`],
    ['a dot', 'acme.corp', `${RULE}, got "acme.corp"`],
  ];

  it.each(malformed)('refuses %s in job metadata with invalid_tenant', async (_label, value, rule) => {
    const decision = refused(
      await pool().admit({ jobId: 'j', roomName: 'r', jobMetadata: JSON.stringify({ tenant: value }) }),
      'invalid_tenant',
    );
    expect(decision.message).toBe(`tenant in job metadata ${rule}`);
    expect(decision.tenant).toBeUndefined();
  });

  it.each(malformed)('refuses %s in room metadata with invalid_tenant', async (_label, value, rule) => {
    const decision = refused(
      await pool().admit({ jobId: 'j', roomName: 'r', roomMetadata: JSON.stringify({ tenant: value }) }),
      'invalid_tenant',
    );
    expect(decision.message).toBe(`tenant in room metadata ${rule}`);
  });

  it('accepts 128 characters and every allowed character', async () => {
    const p = pool();
    expect(accepted(await p.admit(call('a'.repeat(128)))).tenant).toBe('a'.repeat(128));
    expect(accepted(await p.admit(call('Acme_Corp-09')))).toMatchObject({ tenant: 'Acme_Corp-09' });
  });

  it('runs a call without a tenant key as tenant default', async () => {
    const p = pool();
    expect(accepted(await p.admit({ jobId: 'j1', roomName: 'r' })).tenant).toBe('default');
    expect(accepted(await p.admit({ jobId: 'j2', roomName: 'r', jobMetadata: '{"other":1}' })).tenant).toBe('default');
  });

  it('treats metadata that is not a JSON object as carrying no tenant', async () => {
    const p = pool();
    for (const [i, raw] of ['not json', '{"tenant":', '["acme"]', '"acme"', '42', 'null', ''].entries()) {
      expect(accepted(await p.admit({ jobId: `j${i}`, roomName: 'r', jobMetadata: raw, roomMetadata: raw })).tenant).toBe('default');
    }
  });

  it('takes the job metadata tenant over the room metadata one', async () => {
    const p = pool();
    const ticket = accepted(
      await p.admit({ jobId: 'j', roomName: 'r', jobMetadata: '{"tenant":"from-job"}', roomMetadata: '{"tenant":"from-room"}' }),
    );
    expect(ticket.tenant).toBe('from-job');
    // A malformed job tenant refuses even when the room names a good one: it never runs mislabelled.
    refused(await p.admit({ jobId: 'j2', roomName: 'r', jobMetadata: '{"tenant":"a b"}', roomMetadata: '{"tenant":"ok"}' }), 'invalid_tenant');
    // Unparseable job metadata falls through to the room's tenant.
    expect(accepted(await p.admit({ jobId: 'j3', roomName: 'r', jobMetadata: 'x', roomMetadata: '{"tenant":"room"}' })).tenant).toBe('room');
  });
});

describe('routing', () => {
  it('refuses an unknown agent named in metadata with unknown_agent', async () => {
    const p = pool();
    const decision = refused(await p.admit(call('acme', { agent: 'billing' })), 'unknown_agent');
    expect(decision.message).toBe('job metadata names agent "billing", which is not registered (registered: support)');
    expect(decision.tenant).toBe('acme');
    const fromRoom = refused(await p.admit({ jobId: 'j', roomName: 'r', roomMetadata: '{"agent":"billing"}' }), 'unknown_agent');
    expect(fromRoom.message).toContain('room metadata names agent "billing"');
    const notString = refused(await p.admit({ jobId: 'k', roomName: 'r', jobMetadata: '{"agent":7}' }), 'unknown_agent');
    expect(notString.message).toBe('agent in job metadata must be a string; got 7');
  });

  it('refuses an unknown agent picked by the router with unknown_agent', async () => {
    const p = pool({ router: () => 'billing' });
    const decision = refused(await p.admit(call('acme')), 'unknown_agent');
    expect(decision.message).toBe('router names agent "billing", which is not registered (registered: support)');
    const junk = refused(await pool({ router: () => 42 as unknown as string }).admit(call('acme')), 'unknown_agent');
    expect(junk.message).toBe('router must return an agent name or undefined; got 42');
  });

  it('refuses only the call a router threw for', async () => {
    let calls = 0;
    const p = pool({
      router: () => {
        calls++;
        if (calls === 1) throw new Error('database down');
        return 'support';
      },
    });
    const first = refused(await p.admit(call('acme')), 'unknown_agent');
    expect(first.message).toBe('router threw: database down');
    expect(accepted(await p.admit(call('acme'))).agentName).toBe('support');
  });

  it('routes by room-name prefix, longest prefix first', async () => {
    const p = new AgentPool({
      agents: { support: SupportAgent, 'support-vip': SalesAgent, sales: SalesAgent },
      clock: new ManualClock(),
    });
    const route = async (roomName: string) => accepted(await p.admit({ jobId: roomName, roomName })).agentName;
    expect(await route('support-123')).toBe('support');
    expect(await route('support-vip-77')).toBe('support-vip');
    expect(await route('sales_9')).toBe('sales');
    expect(await route('supportive-1')).toBe('support'); // no separator after the prefix: first registered
    expect(await route('other')).toBe('support');
  });

  it('lets a router fall through to the built-in chain by returning undefined', async () => {
    const p = new AgentPool({ agents: { support: SupportAgent, sales: SalesAgent }, router: () => undefined, clock: new ManualClock() });
    expect(accepted(await p.admit({ jobId: 'j', roomName: 'sales-1' })).agentName).toBe('sales');
  });

  it('refuses every call of a pool without agents', async () => {
    const decision = refused(await new AgentPool({ clock: new ManualClock() }).admit(call('acme')), 'unknown_agent');
    expect(decision.message).toBe('no agents are registered in the pool');
  });
});

describe('pool state refusals', () => {
  it('refuses with draining once draining has started', async () => {
    const p = pool();
    p.runtime.startDraining();
    const decision = refused(await p.admit(call('acme')), 'draining');
    expect(decision.message).toBe('the worker is draining and accepts no new calls');
  });

  it('refuses with tenant_cap at the tenant cap', async () => {
    const p = pool({ maxSessionsPerTenant: { acme: 1 } });
    accepted(await p.admit(call('acme')));
    expect(refused(await p.admit(call('acme')), 'tenant_cap').message).toBe('tenant "acme" is at its cap of 1 sessions');
    accepted(await p.admit(call('other')));
  });

  it('applies defaultMaxSessionsPerTenant to tenants without their own cap', async () => {
    const p = pool({ defaultMaxSessionsPerTenant: 1, maxSessionsPerTenant: { big: 2 } });
    accepted(await p.admit(call('small')));
    refused(await p.admit(call('small')), 'tenant_cap');
    accepted(await p.admit(call('big')));
    accepted(await p.admit(call('big')));
    refused(await p.admit(call('big')), 'tenant_cap');
  });

  it('refuses with global_cap at the worker cap', async () => {
    const p = pool({ maxConcurrentSessions: 2 });
    accepted(await p.admit(call('a')));
    accepted(await p.admit(call('b')));
    expect(refused(await p.admit(call('c')), 'global_cap').message).toBe('the worker is at its cap of 2 sessions');
  });
});

describe('constructor validation', () => {
  function thrown(options: unknown): OpenRtcError {
    try {
      new AgentPool(options as AgentPoolOptions);
    } catch (error: unknown) {
      if (error instanceof OpenRtcError) return error;
      throw error;
    }
    throw new Error('expected the constructor to throw');
  }

  const cases: [string, unknown, string][] = [
    ['options that are not an object', 'x', '`options` must be an object; got a string'],
    ['an unknown option', { maxSessions: 3 }, '`maxSessions` is not an AgentPool option'],
    ['agent and agents together', { agent: SupportAgent, agents: { sales: SalesAgent } },
      '`agent` cannot be combined with `agents` (register the single agent under a name in `agents`); got function SupportAgent'],
    ['agents that is not a map', { agents: [SupportAgent] }, '`agents` must be a map of agent name to voice.Agent subclass; got array of length 1'],
    ['a router that is not a function', { router: 'support' }, '`router` must be a function (request) => agent name | undefined; got a string'],
    ['a tenant cap of 0', { maxSessionsPerTenant: { acme: 0 } }, '`maxSessionsPerTenant["acme"]` must be a positive integer; got 0'],
    ['a tenant cap of 1.5', { maxSessionsPerTenant: { acme: 1.5 } }, '`maxSessionsPerTenant["acme"]` must be a positive integer; got 1.5'],
    ['a tenant cap of -1', { maxSessionsPerTenant: { acme: -1 } }, '`maxSessionsPerTenant["acme"]` must be a positive integer; got -1'],
    ['a tenant cap that is a string', { maxSessionsPerTenant: { acme: '5' } }, '`maxSessionsPerTenant["acme"]` must be a positive integer; got a string'],
    ['a tenant cap keyed by a bad tenant id', { maxSessionsPerTenant: { 'acme corp': 5 } },
      `\`maxSessionsPerTenant["acme corp"]\` key is not a tenant id: it ${RULE}, got "acme corp"`],
    ['caps that are not a map', { maxSessionsPerTenant: 5 }, '`maxSessionsPerTenant` must be a map of tenant id to a positive integer; got 5'],
    ['maxConcurrentSessions: 0', { maxConcurrentSessions: 0 }, '`maxConcurrentSessions` must be a positive integer; got 0'],
    ['maxConcurrentSessions: Infinity', { maxConcurrentSessions: Infinity }, '`maxConcurrentSessions` must be a positive integer; got Infinity'],
    ['defaultMaxSessionsPerTenant: 2.5', { defaultMaxSessionsPerTenant: 2.5 }, '`defaultMaxSessionsPerTenant` must be a positive integer; got 2.5'],
    ['enableTenantCircuitBreaker that is not a boolean', { enableTenantCircuitBreaker: 'yes' }, '`enableTenantCircuitBreaker` must be a boolean; got a string'],
    ['an empty deploymentVersion', { deploymentVersion: '' }, '`deploymentVersion` must be a non-empty string; got an empty string'],
    ['tenantConfigTtlMs: 0', { tenantConfigTtlMs: 0 }, '`tenantConfigTtlMs` must be a positive number of milliseconds; got 0'],
    ['tenantConfigTimeoutMs: NaN', { tenantConfigTimeoutMs: NaN }, '`tenantConfigTimeoutMs` must be a positive number of milliseconds; got NaN'],
    ['assignmentTimeoutMs: -5', { assignmentTimeoutMs: -5 }, '`assignmentTimeoutMs` must be a positive number of milliseconds; got -5'],
    ['circuitBreaker without enableTenantCircuitBreaker', { circuitBreaker: { minSamples: 3 } },
      '`circuitBreaker` has no effect unless `enableTenantCircuitBreaker` is true; got an object'],
    ['circuitBreaker.failureRatio: 2', { enableTenantCircuitBreaker: true, circuitBreaker: { failureRatio: 2 } },
      '`circuitBreaker.failureRatio` must be a number between 0 and 1 (exclusive); got 2'],
    ['circuitBreaker.failureRatio: 0', { enableTenantCircuitBreaker: true, circuitBreaker: { failureRatio: 0 } },
      '`circuitBreaker.failureRatio` must be a number between 0 and 1 (exclusive); got 0'],
    ['circuitBreaker.windowMs: 0', { enableTenantCircuitBreaker: true, circuitBreaker: { windowMs: 0 } },
      '`circuitBreaker.windowMs` must be a positive number of milliseconds; got 0'],
    ['circuitBreaker.cooldownMs: -1', { enableTenantCircuitBreaker: true, circuitBreaker: { cooldownMs: -1 } },
      '`circuitBreaker.cooldownMs` must be a positive number of milliseconds; got -1'],
    ['circuitBreaker.minSamples: 0', { enableTenantCircuitBreaker: true, circuitBreaker: { minSamples: 0 } },
      '`circuitBreaker.minSamples` must be an integer of at least 1; got 0'],
    ['circuitBreaker.halfOpenProbes: 1.5', { enableTenantCircuitBreaker: true, circuitBreaker: { halfOpenProbes: 1.5 } },
      '`circuitBreaker.halfOpenProbes` must be an integer of at least 1; got 1.5'],
    ['circuitBreaker.probeTimeoutMs: 0', { enableTenantCircuitBreaker: true, circuitBreaker: { probeTimeoutMs: 0 } },
      '`circuitBreaker.probeTimeoutMs` must be a positive number of milliseconds; got 0'],
    ['circuitBreaker that is not an object', { enableTenantCircuitBreaker: true, circuitBreaker: 3 },
      '`circuitBreaker` must be an object of breaker policy fields; got 3'],
    ['tenantConfig keyed by a bad tenant id', { tenantConfig: { 'a/b': {} } },
      `\`tenantConfig["a/b"]\` key is not a tenant id: it ${RULE}, got "a/b"`],
    ['tenantConfig with a prompt key', { tenantConfig: { acme: { prompt: 'Be nice.' } } },
      '`tenantConfig["acme"]` has unknown key "prompt" (allowed: stt, llm, tts, voiceGatewayKey; prompts belong in an Agent subclass chosen by a router)'],
    ['tenantConfig with providers that are not an object', { tenantConfig: { acme: 'acme-key' } },
      '`tenantConfig["acme"]` must be an object with optional stt, llm and tts provider objects, got a string'],
    ['tenantConfig with a provider that is a string', { tenantConfig: { acme: { llm: 'gpt-4o' } } },
      '`tenantConfig["acme"]` key "llm" must be a provider object, got a string'],
    ['tenantConfig that is an array', { tenantConfig: [] },
      '`tenantConfig` must be a map of tenant id to providers, or a loader function; got array of length 0'],
    ['an agent given by name', { agent: 'SupportAgent' },
      '`agent` must be a voice.Agent subclass (a class, not an instance or a name); got a string'],
    ['an agent instance', { agent: new SupportAgent() },
      '`agent` must be a voice.Agent subclass (a class, not an instance or a name); got a SupportAgent'],
    ['a clock without methods', { clock: {} }, '`clock` must be a Clock with now(), setTimer(); got an object'],
    ['a clock that is a function', { clock: () => 0 }, '`clock` must be a Clock with now(), setTimer(); got function clock'],
    ['an stt that is a number', { stt: 42 }, '`stt` must be a stt provider object; got 42'],
    ['an llm that is a model name', { llm: 'gpt-4o' }, '`llm` must be a llm provider object; got a string'],
    ['a reservationStore without methods', { reservationStore: {} },
      '`reservationStore` must be a ReservationStore with tryReserve(), release(), countsByTenant(), total(); got an object'],
    ['a breakerStore missing a method', { breakerStore: { update: () => undefined, read: () => undefined } },
      '`breakerStore` must be a BreakerStore with update(), read(), tenants(); got an object'],
    ['a misspelled circuitBreaker key', { enableTenantCircuitBreaker: true, circuitBreaker: { failureRate: 0.2 } },
      '`circuitBreaker.failureRate` is not a breaker policy field (known: failureRatio, windowMs, minSamples, cooldownMs, halfOpenProbes, probeTimeoutMs)'],
    ['sessionOptions that is not an object', { sessionOptions: 3 }, '`sessionOptions` must be an object of AgentSession options; got 3'],
    ['tracing.agentSpanShare: 1.5', { tracing: { agentSpanShare: 1.5 } }, '`tracing.agentSpanShare` must be a number from 0 to 1; got 1.5'],
    ['tracing.agentSpanShare: NaN', { tracing: { agentSpanShare: NaN } }, '`tracing.agentSpanShare` must be a number from 0 to 1; got NaN'],
    ['tracing.fullTrace that is not a function', { tracing: { fullTrace: true } }, '`tracing.fullTrace` must be a function (call) => boolean; got true'],
    ['a misspelled tracing key', { tracing: { share: 0.5 } }, '`tracing.share` is not a trace policy field (known: agentSpanShare, fullTrace, agentLogs)'],
    ['tracing that is not an object', { tracing: 0.5 }, '`tracing` must be an object with `agentSpanShare`, `fullTrace` and/or `agentLogs`; got 0.5'],
    ['tracing.agentLogs that is not a policy', { tracing: { agentLogs: 'some' } }, "`tracing.agentLogs` must be one of 'detailed', 'all'; got a string"],
  ];

  it.each(cases)('rejects %s with invalid_option', (_label, options, message) => {
    const error = thrown(options);
    expect(error.code).toBe('invalid_option');
    expect(error.rawMessage).toBe(message);
    expect(error.message).toBe(`[invalid_option] ${message}`);
  });

  const agentCases: [string, unknown, string][] = [
    ['an agent that is not a voice.Agent subclass', { agent: class NotAnAgent {} },
      'agent "not-an" must be a voice.Agent subclass (a class, not an instance); got function NotAnAgent'],
    ['an agent instance instead of a class', { agents: { support: new SupportAgent() } },
      'agents["support"] "support" must be a voice.Agent subclass (a class, not an instance); got a SupportAgent'],
    ['a plain function', { agents: { support: () => undefined } },
      'agents["support"] "support" must be a voice.Agent subclass (a class, not an instance); got function support'],
    ['a bad agent name', { agents: { 'bad name': SupportAgent } },
      `agents["bad name"] name must be 1-64 characters of letters, digits, '-' or '_'; got "bad name"`],
    ['an agent name of 65 characters', { agents: { ['a'.repeat(65)]: SupportAgent } },
      `agents["${'a'.repeat(65)}"] name must be 1-64 characters of letters, digits, '-' or '_'; got "${'a'.repeat(60)}…"`],
  ];

  it('never echoes a string given to any option: it may be an API key', () => {
    const secret = 'sk-live-acme-SECRET';
    // deploymentVersion is the one option that is a string.
    for (const name of POOL_OPTION_NAMES.filter((n) => n !== 'deploymentVersion')) {
      let message = '';
      try {
        new AgentPool({ [name]: secret });
      } catch (error: unknown) {
        message = error instanceof Error ? error.message : String(error);
      }
      expect(message, `\`${name}\` accepted a string`).toMatch(/^\[invalid_option\]/);
      expect(message, `\`${name}\` echoed its value`).not.toContain('SECRET');
    }
  });

  it('never echoes a string given in a provider slot or an unknown option: it may be an API key', () => {
    const error = thrown({ tenantConfig: { acme: { llm: 'sk-live-acme-SECRET' } } });
    expect(error.message).not.toContain('SECRET');
    const whole = thrown({ tenantConfig: { acme: 'sk-live-acme-SECRET' } });
    expect(whole.message).not.toContain('SECRET');
    const misplaced = thrown({ agent: SupportAgent, openaiApiKey: 'sk-live-acme-SECRET' });
    expect(misplaced.rawMessage).toBe('`openaiApiKey` is not an AgentPool option');
  });

  it.each(agentCases)('rejects %s with invalid_agent', (_label, options, message) => {
    const error = thrown(options);
    expect(error.code).toBe('invalid_agent');
    expect(error.rawMessage).toBe(message);
  });

  it('names a single agent after its class', () => {
    expect(new AgentPool({ agent: SupportAgent }).agentNames).toEqual(['support']);
    class BillingDeskAgent extends voice.Agent {
      constructor() {
        super({ instructions: 'billing' });
      }
    }
    expect(new AgentPool({ agent: BillingDeskAgent }).agentNames).toEqual(['billing-desk']);
  });

  it('accepts a full, valid set of options', () => {
    const p = new AgentPool({
      agents: { support: SupportAgent },
      maxSessionsPerTenant: { acme: 5 },
      defaultMaxSessionsPerTenant: 2,
      maxConcurrentSessions: 10,
      enableTenantCircuitBreaker: true,
      circuitBreaker: { failureRatio: 0.25, minSamples: 3 },
      tenantConfig: { acme: {} },
      tenantConfigTtlMs: 1000,
      tenantConfigTimeoutMs: 500,
      assignmentTimeoutMs: 2000,
      deploymentVersion: 'v1',
      clock: new ManualClock(),
    });
    expect(p.breakerPolicy).toEqual({ failureRatio: 0.25, windowMs: 60_000, minSamples: 3, cooldownMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 600_000 });
  });
});

describe('add()', () => {
  it('registers another agent', async () => {
    const p = pool();
    p.add('sales', SalesAgent);
    expect(p.agentNames).toEqual(['support', 'sales']);
    expect(accepted(await p.admit(call('acme', { agent: 'sales' }))).agentClass).toBe(SalesAgent);
  });

  it('rejects a bad name, a non-agent, or a name taken by another class, losing nothing', () => {
    const p = pool();
    const attempts: [() => unknown, string][] = [
      [() => p.add('bad name', SalesAgent), `add("bad name") name must be 1-64 characters of letters, digits, '-' or '_'; got "bad name"`],
      [() => p.add('sales', {} as never), 'add("sales") "sales" must be a voice.Agent subclass (a class, not an instance); got an object'],
      [() => p.add('support', SalesAgent), 'add("support") "support" is already registered with another class'],
    ];
    for (const [attempt, message] of attempts) {
      expect(attempt).toThrow(OpenRtcError);
      try {
        attempt();
      } catch (error: unknown) {
        expect(error).toMatchObject({ code: 'invalid_agent', rawMessage: message });
      }
      expect(p.agentNames).toEqual(['support']);
    }
    p.add('support', SupportAgent); // the same class again is a no-op
    expect(p.agentNames).toEqual(['support']);
  });
});

describe('discover()', () => {
  // Under the project root so the modules resolve @livekit/agents like user code does.
  let root: string;
  const agentModule = (className: string, instructions: string) =>
    `import { voice } from '@livekit/agents';\n` +
    `export default class ${className} extends voice.Agent {\n` +
    `  constructor() { super({ instructions: ${JSON.stringify(instructions)} }); }\n}\n`;

  beforeAll(async () => {
    await mkdir(path.resolve('test-results'), { recursive: true });
    root = await mkdtemp(path.resolve('test-results', 'discover-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function folder(name: string, files: Record<string, string>): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir);
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    return dir;
  }

  it('registers every agent of a good folder', async () => {
    const dir = await folder('good', {
      'billing.js': agentModule('BillingAgent', 'billing'),
      'faq.mjs': `export { default as agent } from './billing.js';\nexport const name = 'faq-desk';\n`,
      '_helper.js': 'export const notAnAgent = 1;\n',
      'notes.txt': 'ignored',
    });
    const p = pool();
    expect(await p.discover(dir)).toEqual(['billing', 'faq-desk']);
    expect(p.agentNames).toEqual(['support', 'billing', 'faq-desk']);
    const ticket = accepted(await p.admit({ jobId: 'j', roomName: 'billing-1' }));
    expect(ticket.agentName).toBe('billing');
  });

  it('registers nothing from a folder with one bad module, and names the file', async () => {
    const dir = await folder('one-bad', {
      'alpha.js': agentModule('AlphaAgent', 'alpha'),
      'beta.js': 'export default { notA: "class" };\n',
      'gamma.js': agentModule('GammaAgent', 'gamma'),
    });
    const p = pool();
    const error = await p.discover(dir).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenRtcError);
    expect(error).toMatchObject({
      code: 'invalid_agent',
      rawMessage: 'discover(dir): "beta.js" must export a voice.Agent subclass as its default export (or as `agent`)',
    });
    expect(p.agentNames).toEqual(['support']);
  });

  it('registers nothing when a module fails to load, and names the file', async () => {
    const dir = await folder('throws', {
      'alpha.js': agentModule('AlphaAgent', 'alpha'),
      'broken.js': 'throw new Error("syntax of the week");\n',
    });
    const p = pool();
    await expect(p.discover(dir)).rejects.toMatchObject({
      code: 'invalid_agent',
      rawMessage: expect.stringContaining('discover(dir) could not load "broken.js": syntax of the week') as unknown,
    });
    expect(p.agentNames).toEqual(['support']);
  });

  it('registers nothing when a module name clashes with a registered agent', async () => {
    const dir = await folder('clash', {
      'alpha.js': agentModule('AlphaAgent', 'alpha'),
      'support.js': agentModule('OtherSupportAgent', 'other support'),
    });
    const p = pool();
    await expect(p.discover(dir)).rejects.toMatchObject({
      code: 'invalid_agent',
      rawMessage: expect.stringMatching(/^discover: .*support\.js "support" is already registered with another class$/) as unknown,
    });
    expect(p.agentNames).toEqual(['support']);
  });

  it('refuses a folder that does not exist', async () => {
    const missing = path.join(root, 'nope');
    await expect(pool().discover(missing)).rejects.toMatchObject({
      code: 'invalid_agent',
      rawMessage: `discover(dir) cannot read folder "${missing}"`,
    });
  });
});
