import { Command, CommanderError } from 'commander';
import { OpenRtcError, errorMessage } from '../errors.js';
import { OPENRTC_VERSION } from '../version.js';
import type { CliContext, CommandResult } from './context.js';
import { registerDev } from './commands/dev.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import { registerStart } from './commands/start.js';
import { registerTenant } from './commands/tenant.js';
import { registerTop } from './commands/top.js';

/** Exit codes: 0 done, 1 the command failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function buildProgram(ctx: CliContext, result: CommandResult): Command {
  const program = new Command('openrtc')
    .description('Host, watch and verify an openrtc AgentPool')
    .version(OPENRTC_VERSION, '--version', 'print the version')
    .option('--verbose', 'print the stack of an error, not just its message')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for the flags)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      outputError: (text, write) => write(`openrtc ${text}`),
    });
  registerStart(program, ctx, result);
  registerDev(program, ctx, result);
  registerTop(program, ctx, result);
  registerList(program, ctx, result);
  registerLogs(program, ctx, result);
  registerTenant(program, ctx, result);
  // Subcommands share the parent's output, error handling and strictness.
  for (const command of program.commands) inheritStrictness(command, ctx);
  return program;
}

function inheritStrictness(command: Command, ctx: CliContext): void {
  command
    .exitOverride()
    .allowExcessArguments(false)
    .showHelpAfterError(`(run openrtc ${command.name()} --help for the flags)`)
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      outputError: (text, write) => write(`openrtc ${text}`),
    });
  for (const sub of command.commands) inheritStrictness(sub, ctx);
}

/**
 * Runs one command line and returns its exit code. Errors are one line on stderr; the
 * stack only with `--verbose`.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const result: CommandResult = { code: EXIT_OK };
  const program = buildProgram(ctx, result);
  if (argv.length === 0) {
    ctx.stderr.write(program.helpInformation());
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      const done = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
      return done ? EXIT_OK : EXIT_USAGE;
    }
    reportError(error, ctx, argv.includes('--verbose'));
    return EXIT_FAILED;
  }
}

export function reportError(error: unknown, ctx: CliContext, verbose: boolean): void {
  const message = errorMessage(error).split('\n', 1)[0]!;
  ctx.stderr.write(`openrtc: ${error instanceof OpenRtcError ? error.rawMessage.split('\n', 1)[0]! : message}\n`);
  if (!verbose) return;
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    ctx.stderr.write(`${current.stack ?? current.message}\n`);
  }
}
