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

/**
 * Every shape in one pattern, without the global flag (so it keeps no state between
 * calls) and case-insensitive (so it matches whatever any one shape matches, and a little
 * more): most records hold none of them, and one pass telling so is far cheaper than a
 * replace per shape. A hit runs the shapes one by one as before.
 */
const ANY_SHAPE = new RegExp(SHAPES.map(([shape]) => shape.source).join('|'), 'i');

/**
 * Up to this many secrets the text is searched once per secret (cheapest for a few);
 * above it, once per position through an index, so the cost no longer grows with the
 * number of secrets. On a 500-character line one search costs about an eighth of the
 * indexed scan, which measures the same with 9 secrets as with 20,000.
 */
const FEW_SECRETS = 8;

/**
 * The index is keyed by a hash of a secret's last MIN_SECRET_LENGTH UTF-16 code units:
 * h = c0*B^5 + c1*B^4 + ... + c5 (mod 2^32). A scan keeps the hash of the six units
 * ending at each position up to date in O(1) (multiply in the next unit, take out the one
 * that left) without cutting a string out of the text. B is odd and large, so the high
 * bits, which pick the filter's bit, depend on every unit.
 */
const HASH_BASE = 0x9e3779b1;
/** HASH_BASE^MIN_SECRET_LENGTH mod 2^32: what the unit leaving the window was multiplied by. */
const HASH_BASE_POW = Array.from({ length: MIN_SECRET_LENGTH }).reduce<number>((pow) => Math.imul(pow, HASH_BASE), 1);

/**
 * The hash of the MIN_SECRET_LENGTH code units of `text` ending at `end`, as a scan computes
 * it. Exported so that tests can make secrets whose tails share a hash.
 */
export function tailHash(text: string, end = text.length): number {
  let hash = 0;
  for (let at = end - MIN_SECRET_LENGTH; at < end; at++) hash = (Math.imul(hash, HASH_BASE) + text.charCodeAt(at)) | 0;
  return hash;
}

/**
 * The filter has this many bits per indexed tail (rounded up to a power of two), so about
 * one text position in 32 or fewer gets past it to a Map lookup, whatever the number of
 * secrets; memory stays a few bytes per secret.
 */
const FILTER_BITS_PER_TAIL = 32;
const MIN_FILTER_BITS = 1 << 10;

export class SecretScrubber {
  /** Secrets registered without an owner (defaults, static config, env, LiveKit): kept for good. */
  private readonly permanent = new Set<string>();
  /** Owner (a loaded tenant) -> the secrets registered for it, released together. */
  private readonly owned = new Map<string, Set<string>>();
  /** How many owners claim each owned secret that is not permanent. */
  private readonly claims = new Map<string, number>();
  /** tailHash of the last MIN_SECRET_LENGTH characters -> the secrets ending so, longest first. */
  private readonly byTail = new Map<number, string[]>();
  /**
   * A bit per filter bucket (the hash's high bits), set when some key of `byTail` falls in
   * it: most positions of a scan cost a few integer operations and no lookup. Removing a
   * key leaves its bit set (another key may share the bucket, and a stale bit only costs a
   * lookup that finds nothing); the filter is rebuilt from the live keys once as many have
   * gone as remain, and when it has grown too full.
   */
  private filter = new Int32Array(MIN_FILTER_BITS / 32);
  private removedTails = 0;
  private count = 0;
  /** Every secret, longest first; rebuilt lazily and only while there are few. */
  private ordered: string[] | undefined = [];

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    for (const [name, value] of Object.entries(env)) {
      if (SECRET_ENV.test(name)) this.addSecret(value);
    }
  }

  /** How many distinct secrets are registered (for bounds and tests). */
  get size(): number {
    return this.count;
  }

  /**
   * Registers a value that must never leave the process. Non-strings and short values are
   * ignored. Without an owner it is kept for good; with one, until `releaseOwner(owner)`
   * (and as long as any other owner, or a registration without owner, still holds it).
   */
  addSecret(value: unknown, owner?: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    if (owner === undefined) {
      if (this.permanent.has(value)) return;
      this.permanent.add(value);
      if (!this.claims.has(value)) this.index(value);
      return;
    }
    let mine = this.owned.get(owner);
    if (!mine) this.owned.set(owner, (mine = new Set()));
    if (mine.has(value)) return;
    mine.add(value);
    const claims = this.claims.get(value) ?? 0;
    this.claims.set(value, claims + 1);
    if (claims === 0 && !this.permanent.has(value)) this.index(value);
  }

  /**
   * Registers the values of secret-named fields found on an object (a provider object, a
   * loader result), looking through its own enumerable fields a few levels deep, for
   * `owner` if given (see `addSecret`).
   * Private fields (`#opts`) cannot be read by anyone: shapes and environment cover those.
   */
  addSecretsFrom(value: unknown, owner?: string): void {
    walk(value, 0, new Set(), (key, found) => {
      if (SECRET_FIELD.test(key)) this.addSecret(found, owner);
    });
  }

  /**
   * Lets go of every secret registered for `owner`. The caller promises nothing that could
   * still print one of them (a live session's provider objects) depends on the owner.
   */
  releaseOwner(owner: string): void {
    const mine = this.owned.get(owner);
    if (!mine) return;
    this.owned.delete(owner);
    for (const secret of mine) {
      const claims = (this.claims.get(secret) ?? 1) - 1;
      if (claims > 0) {
        this.claims.set(secret, claims);
        continue;
      }
      this.claims.delete(secret);
      if (!this.permanent.has(secret)) this.unindex(secret);
    }
  }

  /** The text with every secret it can recognise replaced by `[redacted]`. */
  scrub(text: string): string {
    let out = this.count <= FEW_SECRETS ? this.scrubFew(text) : this.scrubIndexed(text);
    if (!ANY_SHAPE.test(out)) return out;
    for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
    return out;
  }

  private scrubFew(text: string): string {
    this.ordered ??= [...this.byTail.values()].flat().sort((a, b) => b.length - a.length);
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join(SCRUBBED);
    }
    return out;
  }

  /**
   * One pass over the text: at each position, the longest secret ending there is found
   * through the index; overlapping finds merge, so a secret that contains another (or
   * overlaps it) goes whole. Indexed by the last characters rather than the first, as keys
   * of one vendor share a prefix (`sk-proj-`) but not their random tail. Hashes only pick
   * candidates: a secret is replaced only where `startsWith` finds it, so two tails sharing
   * a hash (or a bucket) can cost a comparison, never a wrong replacement.
   */
  private scrubIndexed(text: string): string {
    if (text.length < MIN_SECRET_LENGTH) return text;
    const { filter, byTail } = this;
    const filterShift = shiftFor(filter);
    let found: [start: number, end: number][] | undefined;
    let hash = tailHash(text, MIN_SECRET_LENGTH);
    for (let end = MIN_SECRET_LENGTH; ; end++) {
      const bucket = hash >>> filterShift;
      if ((filter[bucket >>> 5]! & (1 << (bucket & 31))) !== 0) {
        const start = longestEndingAt(text, end, byTail.get(hash));
        if (start !== -1) (found ??= []).push([start, end]);
      }
      if (end === text.length) break;
      // Slide the window one unit on: multiply in the next, take out the one that left.
      hash = (Math.imul(hash, HASH_BASE) + text.charCodeAt(end) - Math.imul(text.charCodeAt(end - MIN_SECRET_LENGTH), HASH_BASE_POW)) | 0;
    }
    if (found === undefined) return text;
    // A later end may start earlier (a secret containing others): merge by start.
    found.sort((a, b) => a[0] - b[0]);
    let out = '';
    let copiedTo = 0;
    let [from, to] = found[0]!;
    for (const [start, end] of found) {
      if (start > to) {
        out += text.slice(copiedTo, from) + SCRUBBED;
        copiedTo = to;
        from = start;
      }
      to = Math.max(to, end);
    }
    return out + text.slice(copiedTo, from) + SCRUBBED + text.slice(to);
  }

  private index(secret: string): void {
    const hash = tailHash(secret);
    const list = this.byTail.get(hash);
    if (!list) {
      this.byTail.set(hash, [secret]);
      if (this.byTail.size * FILTER_BITS_PER_TAIL > this.filter.length * 32) this.rebuildFilter();
      else this.setFilterBit(hash);
    } else {
      // Few share a tail: an insertion keeps the list longest first without a sort.
      const at = list.findIndex((other) => other.length < secret.length);
      list.splice(at === -1 ? list.length : at, 0, secret);
    }
    this.count++;
    this.ordered = undefined;
  }

  private unindex(secret: string): void {
    const hash = tailHash(secret);
    const list = this.byTail.get(hash) ?? [];
    const at = list.indexOf(secret);
    if (at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) {
      this.byTail.delete(hash);
      // Rebuilding after as many removals as keys remain keeps its cost O(1) a removal.
      if (++this.removedTails > this.byTail.size) this.rebuildFilter();
    }
    this.count--;
    this.ordered = undefined;
  }

  /** A filter sized for the keys there are now (it grows and shrinks with them), their bits set. */
  private rebuildFilter(): void {
    let bits = MIN_FILTER_BITS;
    while (bits < this.byTail.size * FILTER_BITS_PER_TAIL) bits *= 2;
    this.filter = new Int32Array(bits / 32);
    this.removedTails = 0;
    for (const hash of this.byTail.keys()) this.setFilterBit(hash);
  }

  private setFilterBit(hash: number): void {
    const bucket = hash >>> shiftFor(this.filter);
    this.filter[bucket >>> 5]! |= 1 << (bucket & 31);
  }
}

/** 32 - log2(the filter's bits): a hash shifted right by it is its bucket in the filter. */
function shiftFor(filter: Int32Array): number {
  return 32 - Math.log2(filter.length * 32);
}

/**
 * Where the first (so the longest) of `candidates` that the text holds ending at `end`
 * starts, or -1. A plain loop rather than `find` with a closure: a closure over the scan's
 * position would cost the scan a context per position.
 */
function longestEndingAt(text: string, end: number, candidates: readonly string[] | undefined): number {
  if (candidates === undefined) return -1;
  for (const secret of candidates) {
    if (text.startsWith(secret, end - secret.length)) return end - secret.length;
  }
  return -1;
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
