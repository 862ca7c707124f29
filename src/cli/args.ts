import { OpenRtcError } from '../errors.js';

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: Record<string, string | true>;
}

/** `--name value`, `--name=value` and bare `--flag`; everything else is positional. */
export function parseArgs(argv: readonly string[], valueFlags: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (!valueFlags.has(name)) {
      if (inline !== undefined) throw new OpenRtcError('invalid_option', `--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new OpenRtcError('invalid_option', `--${name} needs a value`);
    flags[name] = value;
  }
  return { command: positionals.shift(), positionals, flags };
}

export function numberFlag(flags: ParsedArgs['flags'], name: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === true || !Number.isFinite(value) || value < 0) {
    throw new OpenRtcError('invalid_option', `--${name} must be a non-negative number; got ${JSON.stringify(raw)}`);
  }
  return value;
}
