import { scrubSecrets } from './util/secret_scrubber.js';
/**
 * One error class for everything openrtc raises, with a stable machine-readable code.
 * The admission refusal reasons are codes too, so the same string appears in the error,
 * the metric label, the span, the log line and the snapshot.
 */

/** Why a call was refused at admission. Stable: dashboards and alerts key on these. */
export type RefusalReason =
  | 'invalid_tenant'
  | 'draining'
  | 'unknown_agent'
  | 'circuit_open'
  | 'tenant_cap'
  | 'global_cap'
  | 'config_error'
  /** A reservation or breaker store failed during the decision (e.g. a shared store is unreachable). */
  | 'store_unavailable'
  /** The decision was not ready within the worker's answer deadline; "unavailable" went out instead. */
  | 'answer_timeout';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'invalid_tenant',
  'draining',
  'unknown_agent',
  'circuit_open',
  'tenant_cap',
  'global_cap',
  'config_error',
  'store_unavailable',
  'answer_timeout',
];

export type OpenRtcErrorCode =
  | RefusalReason
  /** An option given to a constructor or method breaks a rule. */
  | 'invalid_option'
  /** An agent module or class could not be registered. */
  | 'invalid_agent'
  /** The worker could not talk to the LiveKit server. */
  | 'connection_error'
  /** A session's own code failed. */
  | 'session_error';

const BRAND = Symbol.for('openrtc.OpenRtcError');

export class OpenRtcError extends Error {
  readonly code: OpenRtcErrorCode;

  constructor(code: OpenRtcErrorCode, message: string, options?: { cause?: unknown }) {
    // Error text leaves the process (logs, spans, the caller's own reports): scrubbed here once.
    super(`[${code}] ${scrubSecrets(message)}`, options);
    this.name = 'OpenRtcError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The message without the `[code]` prefix. */
  get rawMessage(): string {
    return this.message.replace(`[${this.code}] `, '');
  }

  /** Survives duplicate copies of the package, where a plain `instanceof` would not. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * Builds the `invalid_option` error with the option, the rule and the kind of the bad
 * value. A string value is never echoed: a misplaced API key is a string.
 */
export function invalidOption(option: string, rule: string, value: unknown): OpenRtcError {
  return new OpenRtcError('invalid_option', `\`${option}\` ${rule}; got ${describeOptionValue(value)}`);
}

/** An option's bad value, described without its contents when it is a string. */
export function describeOptionValue(value: unknown): string {
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  return describeValue(value);
}

/**
 * The message of something thrown: an Error's own message, otherwise a short description
 * of the value (never its contents, which could carry a key).
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : describeValue(error);
}

/** A short, secret-free description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  const ctor = value.constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
}
