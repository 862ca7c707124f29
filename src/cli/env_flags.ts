import { type Command, Option } from 'commander';
import type { FlagParser } from './flag_values.js';

/** A flag an operator may also set through an environment variable. */
export interface EnvFlag<T> {
  /** Commander's spelling, e.g. `--max-sessions <n>`. */
  flag: string;
  /** Commander's attribute name for it, e.g. `maxSessions`. */
  key: string;
  env: string;
  help: string;
  parse: FlagParser<T>;
  /** Repeatable flags collect their values, joined by commas. */
  repeatable?: boolean;
  /** Never echo (a secret); only the help text's placeholder says what it is. */
  secret?: boolean;
}

export function envFlag<T>(spec: EnvFlag<T>): EnvFlag<T> {
  return spec;
}

export function addEnvFlags(command: Command, flags: readonly EnvFlag<unknown>[]): Command {
  for (const spec of flags) {
    const option = new Option(spec.flag, `${spec.help} (${spec.env})`);
    if (spec.repeatable) option.argParser((value: string, previous: string | undefined) => (previous ? `${previous},${value}` : value));
    command.addOption(option);
  }
  return command;
}

/**
 * The value of each flag: the command line first, then its variable. Values are
 * validated here, so an error names where the bad value came from.
 */
export function readEnvFlag<T>(spec: EnvFlag<T>, opts: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): { value: T; source: string } | undefined {
  const fromFlag = opts[spec.key];
  const name = spec.flag.split(' ')[0]!;
  if (typeof fromFlag === 'string') return { value: spec.parse(fromFlag, name), source: name };
  const fromEnv = env[spec.env];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  return { value: spec.parse(fromEnv, spec.env), source: spec.env };
}
