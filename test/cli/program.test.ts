import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli_context.js';

// The flags the README documents for each command; --help must show every one.
const DOCUMENTED_FLAGS: Record<string, string[]> = {
  start: [
    '--url', '--api-key', '--api-secret', '--agent-name', '--max-sessions', '--tenant-cap', '--default-tenant-cap',
    '--metrics-host', '--metrics-port', '--drain-timeout-ms', '--deployment-version', '--log-level', '--inspect-dir',
    '--no-metrics', '--no-inspect',
  ],
  dev: ['--calls', '--tenants', '--hold', '--max-sessions', '--tenant-cap', '--metrics-port', '--log-level', '--no-metrics'],
  top: ['--tenant', '--agent', '--sort', '--once', '--json', '--interval-ms', '--inspect-dir'],
  list: ['--json', '--inspect-dir'],
  logs: ['--tenant', '--session', '--follow', '--raw', '--no-color'],
  'tenant verify': ['--pool', '--agent', '--timeout-ms', '--log-file', '--inspect-dir', '--agent-name', '--json'],
};

const START_VARIABLES = [
  'LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET', 'LIVEKIT_AGENT_NAME', 'OPENRTC_MAX_SESSIONS', 'OPENRTC_TENANT_CAPS',
  'OPENRTC_DEFAULT_TENANT_CAP', 'OPENRTC_METRICS_HOST', 'OPENRTC_METRICS_PORT', 'OPENRTC_DRAIN_TIMEOUT_MS',
  'OPENRTC_DEPLOYMENT_VERSION', 'OPENRTC_LOG_LEVEL', 'OPENRTC_INSPECT_DIR',
];

describe('openrtc --help', () => {
  for (const [command, flags] of Object.entries(DOCUMENTED_FLAGS)) {
    it(`${command} --help lists its documented flags`, async () => {
      const { code, out } = await cli([...command.split(' '), '--help']);
      expect(code).toBe(0);
      for (const flag of flags) expect(out, flag).toContain(flag);
    });
  }

  it('start --help names the variable behind each deploy-time flag', async () => {
    const { out } = await cli(['start', '--help']);
    for (const variable of START_VARIABLES) expect(out, variable).toContain(variable);
  });

  it('lists every command, and prints the usage with exit 2 when given none', async () => {
    const help = await cli(['--help']);
    for (const command of ['start', 'dev', 'top', 'list', 'logs', 'tenant']) expect(help.out).toContain(command);
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('Usage: openrtc');
  });

  it('prints the version', async () => {
    const { code, out } = await cli(['--version']);
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('openrtc refuses what it cannot honour', () => {
  it('refuses an unknown flag by name (exit 2) instead of ignoring it', async () => {
    const { code, err } = await cli(['start', 'test/fixtures/cli_agents', '--nometrics']);
    expect(code).toBe(2);
    expect(err).toContain("unknown option '--nometrics'");
    expect(err).toContain('--no-metrics');
  });

  it('refuses an unknown command and a surplus argument', async () => {
    expect((await cli(['stat'])).code).toBe(2);
    const surplus = await cli(['start', 'a', 'b']);
    expect(surplus.code).toBe(2);
    expect(surplus.err).toContain('too many arguments');
  });

  it.each([
    [['--max-sessions', '0'], '--max-sessions must be a positive integer'],
    [['--max-sessions', '1.5'], '--max-sessions must be a positive integer'],
    [['--metrics-port', '70000'], '--metrics-port must be a port number 0-65535'],
    [['--drain-timeout-ms', 'soon'], '--drain-timeout-ms must be a positive whole number of milliseconds'],
    [['--log-level', 'loud'], '--log-level must be one of fatal, error, warn, info, debug, trace, silent'],
    [['--tenant-cap', 'acme corp=5'], '--tenant-cap must be a tenant id'],
    [['--tenant-cap', 'acme-corp'], '--tenant-cap must be tenant=cap pairs'],
    [['--metrics-host', 'a b'], '--metrics-host must be a host name or an IP address'],
  ])('refuses %j naming the flag and the rule', async (flags, message) => {
    const { code, err } = await cli(['start', 'test/fixtures/cli_agents', ...flags]);
    expect(code).toBe(1);
    expect(err.startsWith('openrtc: ')).toBe(true);
    expect(err).toContain(message);
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('reads each deploy-time flag from its OPENRTC_* variable, and names the variable when it is bad', async () => {
    const { code, err } = await cli(['start', 'test/fixtures/cli_agents'], { env: { OPENRTC_MAX_SESSIONS: 'many' } });
    expect(code).toBe(1);
    expect(err.trim()).toBe('openrtc: OPENRTC_MAX_SESSIONS must be a positive integer');
    const caps = await cli(['start', 'test/fixtures/cli_agents'], { env: { OPENRTC_TENANT_CAPS: 'acme-corp=x' } });
    expect(caps.err.trim()).toBe('openrtc: OPENRTC_TENANT_CAPS (cap of "acme-corp") must be a positive integer');
  });

  it('never echoes a bad value, which may be a key', async () => {
    const { err } = await cli(['start', 'test/fixtures/cli_agents', '--max-sessions', 'sk-live-123456']);
    expect(err).not.toContain('sk-live');
  });

  it('prints a module that throws at import as one line, and its stack only with --verbose', async () => {
    const quiet = await cli(['start', 'test/fixtures/cli_pool/throws.ts'], { env: { LIVEKIT_URL: 'http://127.0.0.1:9', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' } });
    expect(quiet.code).toBe(1);
    expect(quiet.err).toBe('openrtc: start: "test/fixtures/cli_pool/throws.ts": loading the module failed: database url is not set\n');
    const verbose = await cli(['start', 'test/fixtures/cli_pool/throws.ts', '--verbose']);
    expect(verbose.err.split('\n')[0]).toContain('loading the module failed: database url is not set');
    expect(verbose.err).toMatch(/\n\s+at /);
    expect(verbose.err).toContain('throws.ts');
  });

  it('refuses caps flags that a ready-made pool module cannot take, rather than ignoring them', async () => {
    const { code, err } = await cli(['start', 'test/fixtures/cli_pool/ready_pool.ts', '--max-sessions', '3']);
    expect(code).toBe(1);
    expect(err).toContain('--max-sessions could not be applied');
    expect(err).toContain('export a function `(options) => new AgentPool');
  });

  it('names the problem when the target is missing', async () => {
    const { code, err } = await cli(['start', 'no/such/folder']);
    expect(code).toBe(1);
    expect(err).toBe('openrtc: start: "no/such/folder" is neither a folder of agents nor a pool module\n');
  });

  it('refuses to run without the LiveKit secret and never prints the secret it was given', async () => {
    const { code, err } = await cli(['start', 'test/fixtures/cli_agents', '--no-inspect', '--no-metrics'], {
      env: { LIVEKIT_URL: 'http://127.0.0.1:9', LIVEKIT_API_KEY: 'k' },
    });
    expect(code).toBe(1);
    expect(err).toContain('`apiSecret` must be given (or LIVEKIT_API_SECRET set)');
  });
});
