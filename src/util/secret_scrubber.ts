/**
 * One function for everything that leaves the process: log records (openrtc's and
 * agents-js's), span status, attributes and exception events, `updateJob` errors sent to
 * the LiveKit server, event details and error messages. It removes
 *
 * - every value registered as a secret: the LiveKit API secret, and the values of
 *   secret-named fields (`apiKey`, `token`, `secret`, ...) found on the tenants' and the
 *   defaults' provider objects and on loader results;
 * - values of secret-named environment variables (`*_API_KEY`, `*_SECRET`, `*_TOKEN`,
 *   `*_PASSWORD`), which is where plugins that keep their key in a private field (OpenAI,
 *   Deepgram STT) read it from when not given one;
 * - common key shapes wherever they appear: `sk-...` keys, bearer and token
 *   authorization values, JWTs, AWS, Google, GitHub and Slack keys, and `key=value`
 *   pairs whose name says secret.
 */

export const SCRUBBED = '[redacted]';

/** Shorter values are too likely to be ordinary words to be replaced everywhere. */
const MIN_SECRET_LENGTH = 6;
const SECRET_FIELD = /^(api_?key|api_?secret|secret|token|access_?token|auth_?token|password|authorization|credentials?)$/i;
const SECRET_ENV = /(API_?KEY|SECRET|TOKEN|PASSWORD)$/i;
const MAX_WALK_DEPTH = 4;

const SHAPES: readonly [RegExp, string][] = [
  [/\bsk-[A-Za-z0-9_-]{8,}/g, SCRUBBED],
  [/\b(Bearer|Token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${SCRUBBED}`],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, SCRUBBED],
  [/\bAKIA[0-9A-Z]{16}\b/g, SCRUBBED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, SCRUBBED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, SCRUBBED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, SCRUBBED],
  [/\b((?:api[_-]?key|api[_-]?secret|secret|token|password|access[_-]?token)["']?\s*[:=]\s*["']?)([^\s"'&,;]{6,})/gi, `$1${SCRUBBED}`],
];

export class SecretScrubber {
  private readonly secrets = new Set<string>();
  private ordered: string[] = [];

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    for (const [name, value] of Object.entries(env)) {
      if (SECRET_ENV.test(name)) this.addSecret(value);
    }
  }

  /** Registers a value that must never leave the process. Non-strings and short values are ignored. */
  addSecret(value: unknown): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || this.secrets.has(value)) return;
    this.secrets.add(value);
    // Longest first, so a secret that contains another is removed whole.
    this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  /**
   * Registers the values of secret-named fields found on an object (a provider object, a
   * loader result), looking through its own enumerable fields a few levels deep.
   * Private fields (`#opts`) cannot be read by anyone: shapes and environment cover those.
   */
  addSecretsFrom(value: unknown): void {
    walk(value, 0, new Set(), (key, found) => {
      if (SECRET_FIELD.test(key)) this.addSecret(found);
    });
  }

  /** The text with every secret it can recognise replaced by `[redacted]`. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join(SCRUBBED);
    }
    for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
    return out;
  }
}

function walk(value: unknown, depth: number, seen: Set<object>, visit: (key: string, value: unknown) => void): void {
  if (typeof value !== 'object' || value === null || depth > MAX_WALK_DEPTH || seen.has(value)) return;
  seen.add(value);
  for (const key of Object.keys(value)) {
    let child: unknown;
    try {
      child = (value as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    visit(key, child);
    walk(child, depth + 1, seen, visit);
  }
}

const processScrubber = new SecretScrubber();

/** The process's scrubber: openrtc registers every secret it learns of here. */
export function secretScrubber(): SecretScrubber {
  return processScrubber;
}

/** Scrubs with the process's scrubber. */
export function scrubSecrets(text: string): string {
  return processScrubber.scrub(text);
}
