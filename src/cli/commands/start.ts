import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { OpenRtcError } from '../../errors.js';
import { CHILD_INDEX_ENV } from '../../fleet/ipc_protocol.js';
import type { CliContext } from '../context.js';
import { addEnvFlags, envFlag, readEnvFlag } from '../env_flags.js';
import { workersValue } from '../flag_values.js';
import type { CommandResult } from '../context.js';
import { START_FLAG_LIST, type StartSettings, resolveStartSettings } from './start_flags.js';
import { WorkerProcesses } from './worker_processes.js';

/** `start` only (`dev` runs one in-process worker): how many worker processes, see docs/multicore.md. */
const WORKERS_FLAG = envFlag({
  flag: '--workers <n>', key: 'workers', env: 'OPENRTC_WORKERS', parse: workersValue,
  help: 'worker processes, one pool each (auto: one per CPU); caps and breaker stay exact across them; default 1',
});

const DEFAULT_METRICS_PORT = 9464;

/** Adds the deploy-time flags `start` and `dev` share. */
export function addWorkerFlags(command: Command): Command {
  return addEnvFlags(command, START_FLAG_LIST)
    .option('--no-metrics', 'serve no /metrics (OPENRTC_METRICS=off)')
    .option('--no-inspect', 'open no inspector socket for top (OPENRTC_INSPECT=off)');
}

export function registerStart(program: Command, ctx: CliContext, result: CommandResult): void {
  const command = program
    .command('start')
    .description('host a folder of agents or a pool module as a production LiveKit worker')
    .argument('<target>', 'a folder of agent modules, or a module (.js or .ts) default-exporting an AgentPool or a function (options) => AgentPool');
  addEnvFlags(addWorkerFlags(command), [WORKERS_FLAG]).action(async (target: string, opts: Record<string, unknown>) => {
    result.code = await startCommand(target, opts, ctx);
  });
}

async function startCommand(target: string, opts: Record<string, unknown>, ctx: CliContext): Promise<number> {
  // Every flag and variable is checked before anything is loaded or connected.
  const settings = resolveStartSettings(opts, ctx.env);
  const workers = readEnvFlag(WORKERS_FLAG, opts, ctx.env)?.value ?? 1;
  const childIndex = ctx.env[CHILD_INDEX_ENV];
  if (childIndex !== undefined) asChild(settings, Number(childIndex));
  else if (workers > 1) return startPrimary(target, workers, ctx);
  // The pool (agents-js, openrtc's worker) loads only where it runs: the primary of
  // `--workers N` returned above without it.
  const { loadPool } = await import('../load_pool.js');
  const pool = await loadPool(target, ctx.cwd, settings.overrides);
  // run() drains on SIGTERM/SIGINT and returns once live calls are done.
  const fields = childIndex === undefined ? undefined : { workerIndex: Number(childIndex) };
  await pool.run({ ...settings.run, logger: { level: settings.logLevel, env: ctx.env, ...(fields ? { fields } : {}) } });
  return 0;
}

/**
 * The primary of `--workers N`: it loads no pool and connects nowhere; it forks the
 * children (each runs this same command line) and holds the stores they share, unless
 * they share Redis (OPENRTC_REDIS_URL).
 */
async function startPrimary(target: string, count: number, ctx: CliContext): Promise<number> {
  // A missing target would make every child exit at once, and the primary give up only
  // after its restarts: name it here, as a single worker would.
  if (!(await stat(path.resolve(ctx.cwd, target)).catch(() => undefined))) {
    throw new OpenRtcError('invalid_option', `start: "${target}" is neither a folder of agents nor a pool module`);
  }
  const module = process.argv[1];
  if (module === undefined) throw new OpenRtcError('invalid_option', 'start --workers: this process has no script path to fork its workers from');
  return new WorkerProcesses({
    count,
    module,
    args: process.argv.slice(2),
    execArgv: process.execArgv,
    env: ctx.env,
    holdStores: !ctx.env.OPENRTC_REDIS_URL,
    log: (message) => ctx.stderr.write(`openrtc: ${message}\n`),
  }).run();
}

/**
 * Child `index` of a primary: its /metrics listens on the base port + index (each child is
 * a Prometheus target of its own; port 0 stays 0, a free one each). A child whose primary
 * died (the IPC channel closed) drains itself as on SIGTERM.
 */
function asChild(settings: StartSettings, index: number): void {
  const telemetry = settings.run.telemetry;
  if (telemetry && !('shutdown' in telemetry) && telemetry.port !== 0) telemetry.port = (telemetry.port ?? DEFAULT_METRICS_PORT) + index;
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
