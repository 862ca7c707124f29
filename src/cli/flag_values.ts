import { availableParallelism } from 'node:os';
import { OpenRtcError } from '../errors.js';
import { tenantIdProblem } from '../tenancy/tenant_id.js';

/**
 * Parsers for flag values. A bad value is refused with the flag (or variable) and the
 * rule; the value itself is never echoed, since a misplaced argument can be a key.
 */
export type FlagParser<T> = (raw: string, source: string) => T;

function refuse(source: string, rule: string): OpenRtcError {
  return new OpenRtcError('invalid_option', `${source} ${rule}`);
}

export const positiveIntegerValue: FlagParser<number> = (raw, source) => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) throw refuse(source, 'must be a positive integer');
  return value;
};

/** `--workers`: a positive integer, or `auto` for one per CPU the process may use. */
export const workersValue: FlagParser<number> = (raw, source) => {
  if (raw.trim() === 'auto') return availableParallelism();
  return positiveIntegerValue(raw, source);
};

export const portValue: FlagParser<number> = (raw, source) => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value > 65_535) throw refuse(source, 'must be a port number 0-65535');
  return value;
};

export const millisValue: FlagParser<number> = (raw, source) => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < 1) throw refuse(source, 'must be a positive whole number of milliseconds');
  return value;
};

export const nonEmptyValue: FlagParser<string> = (raw, source) => {
  if (raw.trim() === '') throw refuse(source, 'must not be empty');
  return raw;
};

export const hostValue: FlagParser<string> = (raw, source) => {
  if (!/^[A-Za-z0-9.:_[\]-]{1,255}$/.test(raw)) throw refuse(source, 'must be a host name or an IP address');
  return raw;
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export const logLevelValue: FlagParser<LogLevelName> = (raw, source) => {
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw refuse(source, `must be one of ${LOG_LEVELS.join(', ')}`);
  return raw as LogLevelName;
};

export const tenantValue: FlagParser<string> = (raw, source) => {
  const problem = tenantIdProblem(raw);
  if (problem) throw refuse(source, `must be a tenant id: it ${problem}`);
  return raw;
};

/** `acme-corp=50,globex=2`: tenant caps, from repeated flags or one variable. */
export const tenantCapsValue: FlagParser<Record<string, number>> = (raw, source) => {
  const caps: Record<string, number> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const [tenant, cap, extra] = entry.split('=');
    if (tenant === undefined || cap === undefined || extra !== undefined) throw refuse(source, 'must be tenant=cap pairs, e.g. acme-corp=50');
    tenantValue(tenant, source);
    caps[tenant] = positiveIntegerValue(cap, `${source} (cap of "${tenant}")`);
  }
  if (Object.keys(caps).length === 0) throw refuse(source, 'must be tenant=cap pairs, e.g. acme-corp=50');
  return caps;
};
