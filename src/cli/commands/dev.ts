import type { Command } from 'commander';
import type { DispatchServer } from '../../testing/dispatch_server.js';
import type { AgentPool } from '../../pool/agent_pool.js';
import type { CliContext } from '../context.js';
import { positiveIntegerValue, tenantValue } from '../flag_values.js';
import { prettyDestination } from '../pretty_log.js';
import type { CommandResult } from '../context.js';
import { addWorkerFlags } from './start.js';
import { resolveStartSettings } from './start_flags.js';

interface DevOptions {
  calls: string;
  tenants?: string;
  hold?: boolean;
  [flag: string]: unknown;
}

/** Credentials of the embedded stand-in server: local to this process, never a real secret. */
const STANDIN_KEY = 'openrtc-dev';
const STANDIN_SECRET = 'openrtc-dev-standin-secret-long-enough-for-hs256';
const SAMPLE_TURNS = ['hello, I have a question about my account', 'thanks, that helps'];

export function registerDev(program: Command, ctx: CliContext, result: CommandResult): void {
  const command = program
    .command('dev')
    .description('run the pool with pretty logs; without LIVEKIT_URL, against an embedded stand-in server with simulated calls')
    .argument('<target>', 'a folder of agent modules, or a pool module (.js or .ts)')
    .option('--calls <n>', 'simulated calls to place when no LIVEKIT_URL is set', '6')
    .option('--tenants <list>', 'comma-separated tenants to call (default: the tenants the pool knows)')
    .option('--hold', 'simulated callers stay on the line until the worker stops');
  addWorkerFlags(command).action(async (target: string, opts: DevOptions) => {
    result.code = await devCommand(target, opts, ctx);
  });
}

async function devCommand(target: string, opts: DevOptions, ctx: CliContext): Promise<number> {
  const settings = resolveStartSettings(opts, ctx.env);
  const calls = positiveIntegerValue(opts.calls, '--calls');
  const tenants = opts.tenants?.split(',').map((t) => tenantValue(t.trim(), '--tenants'));
  // Loaded on use: the CLI's other commands, and the primary of `start --workers`, never need it.
  const [{ loadPool }, { createLogger }, { DispatchServer }, { SimulatedRoomTransport }] = await Promise.all([
    import('../load_pool.js'), import('../../telemetry/logger.js'), import('../../testing/dispatch_server.js'), import('../../testing/simulated_room.js'),
  ]);
  const pool = await loadPool(target, ctx.cwd, settings.overrides);
  const logger = createLogger({ level: settings.logLevel ?? 'debug', destination: prettyDestination((t) => ctx.stdout.write(t), ctx.stdout.isTTY === true), env: ctx.env, otlp: false });
  if (settings.run.url !== undefined) {
    await pool.run({ ...settings.run, logger, handleSignals: true });
    return 0;
  }
  const server = await DispatchServer.start({ apiKey: STANDIN_KEY, apiSecret: STANDIN_SECRET });
  try {
    const worker = await pool.start({
      ...settings.run, url: server.url, apiKey: STANDIN_KEY, apiSecret: STANDIN_SECRET,
      transport: new SimulatedRoomTransport(), handleSignals: false, logger,
    });
    ctx.stderr.write(
      `openrtc dev: no LIVEKIT_URL, so the pool runs against an embedded stand-in server at ${server.url}\n` +
        `  metrics: ${worker.metricsUrl ?? 'off'}   inspector: ${worker.inspectSocket ?? 'off'}   watch it: openrtc top\n`,
    );
    placeCalls(server, pool, calls, tenants, opts.hold === true);
    await waitForStop(ctx);
    await pool.drain(5_000);
  } finally {
    await server.close();
  }
  return 0;
}

/** Spreads the calls over the given tenants, else over those the pool knows, else `default`. */
function placeCalls(server: DispatchServer, pool: AgentPool, count: number, tenants: string[] | undefined, hold: boolean): void {
  const known = Object.keys(pool.runtimeSnapshot().tenants);
  const targets = tenants ?? (known.length > 0 ? known : ['default']);
  for (let i = 0; i < count; i++) {
    const tenant = targets[i % targets.length]!;
    server.dispatch({
      roomName: `dev-${i + 1}`,
      jobId: `AJ_dev_${String(i + 1).padStart(3, '0')}`,
      jobMetadata: JSON.stringify({ tenant }),
      simulated: { turns: SAMPLE_TURNS, hangupAfterLastReply: !hold, turnTimeoutMs: 30_000 },
    });
  }
}

function waitForStop(ctx: CliContext): Promise<void> {
  const signal = ctx.signal;
  if (!signal) return new Promise(() => undefined);
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
