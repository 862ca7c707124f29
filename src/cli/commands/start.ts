import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addEnvFlags } from '../env_flags.js';
import { loadPool } from '../load_pool.js';
import type { CommandResult } from '../context.js';
import { START_FLAG_LIST, resolveStartSettings } from './start_flags.js';

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
  addWorkerFlags(command).action(async (target: string, opts: Record<string, unknown>) => {
    result.code = await startCommand(target, opts, ctx);
  });
}

async function startCommand(target: string, opts: Record<string, unknown>, ctx: CliContext): Promise<number> {
  // Every flag and variable is checked before anything is loaded or connected.
  const settings = resolveStartSettings(opts, ctx.env);
  const pool = await loadPool(target, ctx.cwd, settings.overrides);
  // run() drains on SIGTERM/SIGINT and returns once live calls are done.
  await pool.run({ ...settings.run, logger: { level: settings.logLevel, env: ctx.env } });
  return 0;
}
