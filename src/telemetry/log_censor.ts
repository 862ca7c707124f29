/**
 * Key-based censoring of log records, for the secret-bearing keys every openrtc logger
 * hides: at the top of a record (`apiKey`), one level down under any key (`provider.apiKey`,
 * `headers.authorization`), and the cookie and authorization headers of a request
 * (`headers.cookie`, `req.headers.authorization`, `req.headers.cookie`).
 *
 * Why not pino's `redact` with `*.apiKey`-style paths, which says the same thing: pino 10
 * hands every value of every record (strings and numbers included) through its redactor as
 * soon as one path starts with a wildcard, which clones, walks each path and
 * JSON-serialises the value; that was about half of what a log line cost. This walks the
 * record once, touches only objects, and copies only a record that holds a secret key.
 * The record the caller passed is never changed.
 */

export const CENSORED_KEYS: readonly string[] = Object.freeze([
  'apiKey', 'api_key', 'apiSecret', 'api_secret', 'token', 'accessToken', 'password', 'secret', 'authorization',
]);

const REQUEST_HEADER_KEYS: readonly string[] = ['authorization', 'cookie'];

/** The same rules in pino's path syntax, as `LoggerOptions.redactPaths` would spell them. */
export const CENSORED_PATHS: readonly string[] = Object.freeze([
  ...CENSORED_KEYS,
  ...CENSORED_KEYS.map((key) => `*.${key}`),
  ...REQUEST_HEADER_KEYS.flatMap((key) => [`headers.${key}`, `req.headers.${key}`]),
]);

// The keys censored at each place the rules reach.
const SECRET_KEYS: ReadonlySet<string> = new Set(CENSORED_KEYS);
const HEADERS_KEYS: ReadonlySet<string> = new Set([...CENSORED_KEYS, ...REQUEST_HEADER_KEYS]);
const REQUEST_HEADERS_KEYS: ReadonlySet<string> = new Set(REQUEST_HEADER_KEYS);

type Rec = Record<string, unknown>;
type Child = (key: string, value: object, censor: string) => object;

/**
 * The record with every censored key's value replaced by `censor`; the record itself when
 * it holds none (the common case, so a clean line allocates nothing here).
 */
export function censorRecord<T extends object>(record: T, censor: string): T {
  return censorLevel(record as Rec, censor, SECRET_KEYS, topLevelChild) as T;
}

// What lies under one top-level key: its own secret keys (`*.key`), plus a request's headers.
function topLevelChild(key: string, value: object, censor: string): object {
  if (key === 'headers') return censorLevel(value as Rec, censor, HEADERS_KEYS, noDeeper);
  return censorLevel(value as Rec, censor, SECRET_KEYS, key === 'req' ? requestChild : noDeeper);
}

function requestChild(key: string, value: object, censor: string): object {
  return key === 'headers' ? censorLevel(value as Rec, censor, REQUEST_HEADERS_KEYS, noDeeper) : value;
}

function noDeeper(_key: string, value: object): object {
  return value;
}

function censorLevel(value: Rec, censor: string, keys: ReadonlySet<string>, child: Child): Rec {
  // An array's keys are indices, never a secret's name; pino's `*.key` does not look inside either.
  if (Array.isArray(value)) return value;
  let replaced: Map<string, unknown> | undefined;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const current = value[key];
    if (current === undefined) continue;
    if (keys.has(key)) {
      (replaced ??= new Map()).set(key, censor);
    } else if (current !== null && typeof current === 'object') {
      const next = child(key, current, censor);
      if (next !== current) (replaced ??= new Map()).set(key, next);
    }
  }
  return replaced === undefined ? value : copyWith(value, replaced);
}

/**
 * A copy of `value` with some own properties replaced. A plain object is spread; anything
 * else (an Error, a class instance) keeps its prototype and every own property, enumerable
 * or not (accessors as the values they give), so pino's serializers (`err`) and `toJSON`
 * see what they would have seen.
 */
function copyWith(value: Rec, replaced: Map<string, unknown>): Rec {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) {
    const copy: Rec = { ...value };
    for (const [key, next] of replaced) copy[key] = next;
    return copy;
  }
  const descriptors = Object.getOwnPropertyDescriptors(value);
  // An accessor may read internal state of the original only (V8 on Node 24 makes an
  // Error's `stack` an own accessor that answers '' on any other object): copy its value.
  for (const [key, descriptor] of Object.entries(descriptors)) {
    if (descriptor.get === undefined && descriptor.set === undefined) continue;
    descriptors[key] = { value: value[key], enumerable: descriptor.enumerable ?? false, writable: true, configurable: true };
  }
  for (const [key, next] of replaced) {
    descriptors[key] = { value: next, enumerable: true, writable: true, configurable: true };
  }
  return Object.create(proto, descriptors) as Rec;
}
