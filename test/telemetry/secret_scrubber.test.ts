import { describe, expect, it, vi } from 'vitest';
import { SecretScrubber, tailHash } from '../../src/util/secret_scrubber.js';

describe('SecretScrubber', () => {
  it('removes registered values wherever they appear, longest first', () => {
    const scrubber = new SecretScrubber({});
    scrubber.addSecret('abc123-secret');
    scrubber.addSecret('abc123-secret-longer');
    scrubber.addSecret('short'); // too short to be replaced everywhere
    expect(scrubber.scrub('a abc123-secret-longer b abc123-secret c short')).toBe('a [redacted] b [redacted] c short');
  });

  it('finds secret-named fields on objects (public plugin options), not other strings', () => {
    const scrubber = new SecretScrubber({});
    scrubber.addSecretsFrom({ tts: { opts: { apiKey: 'dg-key-12345678', model: 'aura-asteria-en' } }, token: 'tok-abcdef' });
    expect(scrubber.scrub('dg-key-12345678 tok-abcdef aura-asteria-en')).toBe('[redacted] [redacted] aura-asteria-en');
  });

  it('reads secret-named environment variables', () => {
    const scrubber = new SecretScrubber({ OPENAI_API_KEY: 'env-openai-0123456', LIVEKIT_API_SECRET: 'lk-secret-0123456', HOME: '/root/home' });
    expect(scrubber.scrub('env-openai-0123456 lk-secret-0123456 /root/home')).toBe('[redacted] [redacted] /root/home');
  });

  it.each([
    ['401 Incorrect API key provided: sk-proj-abcdef123456', '401 Incorrect API key provided: [redacted]'],
    ['Authorization: Bearer abc.def-ghi_jkl', 'Authorization: Bearer [redacted]'],
    ['Token 0123456789abcdef0123', 'Token [redacted]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZw', 'jwt [redacted]'],
    ['aws AKIAABCDEFGHIJKLMNOP', 'aws [redacted]'],
    ['url?api_key=abcdef123&x=1', 'url?api_key=[redacted]&x=1'],
    ['{"password":"hunter2-pw"}', '{"password":"[redacted]"}'],
    ['nothing secret here, sk- alone', 'nothing secret here, sk- alone'],
  ])('scrubs the shape in %j', (input, output) => {
    expect(new SecretScrubber({}).scrub(input)).toBe(output);
  });

  it('keeps a secret that contains another whole with many secrets registered (indexed scan)', () => {
    const scrubber = new SecretScrubber({});
    for (let i = 0; i < 100; i++) scrubber.addSecret(`filler-${i}-0123456789`);
    scrubber.addSecret('abc123-secret');
    scrubber.addSecret('abc123-secret-longer');
    scrubber.addSecret('short');
    scrubber.addSecret('outer-aaaaaa-gap-bbbbbb-end');
    scrubber.addSecret('outer-aaaaaa');
    scrubber.addSecret('gap-bbbbbb');
    expect(scrubber.scrub('a abc123-secret-longer b abc123-secret c short filler-7-0123456789')).toBe(
      'a [redacted] b [redacted] c short [redacted]',
    );
    expect(scrubber.scrub('<outer-aaaaaa-gap-bbbbbb-end> gap-bbbbbb')).toBe('<[redacted]> [redacted]');
  });

  it('releases an owner\'s secrets, but not those another owner or a permanent registration holds', () => {
    const scrubber = new SecretScrubber({});
    scrubber.addSecret('fixed-key-000001');
    scrubber.addSecretsFrom({ apiKey: 'acme-key-000001', token: 'shared-key-0001' }, 'acme');
    scrubber.addSecretsFrom({ apiKey: 'globex-key-0001', token: 'shared-key-0001' }, 'globex');
    scrubber.addSecretsFrom({ apiKey: 'fixed-key-000001' }, 'acme');
    expect(scrubber.size).toBe(4);
    scrubber.releaseOwner('acme');
    expect(scrubber.size).toBe(3);
    expect(scrubber.scrub('acme-key-000001 shared-key-0001 globex-key-0001 fixed-key-000001')).toBe(
      'acme-key-000001 [redacted] [redacted] [redacted]',
    );
    scrubber.releaseOwner('globex');
    expect(scrubber.size).toBe(1);
    expect(scrubber.scrub('shared-key-0001 fixed-key-000001')).toBe('shared-key-0001 [redacted]');
  });

  it('scrubs a line among 20,000 tenant secrets at a cost independent of their number', () => {
    // Keys of one vendor share a prefix; their tails differ.
    const tenantKey = (i: number) => `sk-proj-${(i * 2654435761 % 4294967296).toString(16).padStart(8, '0')}${i}`;
    const lineWith = (a: string, b: string) => {
      const filler = 'lorem ipsum dolor sit amet consectetur '.repeat(13);
      return `${filler.slice(0, 200)} ${a} ${filler.slice(0, 220)} ${b} end`.padEnd(500, '.');
    };
    const many = new SecretScrubber({});
    for (let i = 0; i < 20_000; i++) many.addSecret(tenantKey(i), `t-${i}`);
    const few = new SecretScrubber({});
    for (let i = 0; i < 5; i++) few.addSecret(tenantKey(i), `t-${i}`);
    const line = lineWith(tenantKey(3), tenantKey(4));
    expect(line.length).toBe(500);
    const scrubbed = many.scrub(line);
    expect(scrubbed).not.toContain(tenantKey(3));
    expect(scrubbed).not.toContain(tenantKey(4));
    expect(scrubbed.match(/\[redacted\]/g)).toHaveLength(2);
    expect(few.scrub(line)).toBe(scrubbed);

    // The cost, counted rather than timed (the timing is `npm run bench:scrubber`): how
    // often a secret is compared with the text. One includes() per secret (the old way)
    // made 20,000 comparisons for this line; the index compares only secrets whose last
    // characters hash like the text's there: the two that occur, whatever their number.
    expect(comparisonsIn(() => few.scrub(line))).toBe(5);
    expect(comparisonsIn(() => many.scrub(line))).toBe(2);
    const thousand = new SecretScrubber({});
    for (let i = 0; i < 1_000; i++) thousand.addSecret(tenantKey(i), `t-${i}`);
    expect(comparisonsIn(() => thousand.scrub(line))).toBe(2);
    // And at the other ~490 positions the filter, sized to the number of secrets, answers
    // without looking the index up but at a few percent of them, at either size.
    expect(lookupsIn(() => many.scrub(line))).toBeLessThan(25);
    expect(lookupsIn(() => thousand.scrub(line))).toBeLessThan(25);
  });

  describe('with more than a few secrets (indexed scan)', () => {
    /** A scrubber past the few-secrets path: 40 fillers that occur in none of the texts below. */
    const indexed = () => {
      const scrubber = new SecretScrubber({});
      for (let i = 0; i < 40; i++) scrubber.addSecret(`zzzzzz-filler-${i}`);
      return scrubber;
    };

    it('never replaces text whose tail only shares a hash with a secret', () => {
      const [a, b] = collidingTails();
      expect(a).not.toBe(b);
      expect(tailHash(a)).toBe(tailHash(b));
      const scrubber = indexed();
      scrubber.addSecret(`one-${a}`);
      expect(scrubber.scrub(`x one-${b} y ${b} z one-${a}`)).toBe(`x one-${b} y ${b} z [redacted]`);
      expect(scrubber.scrub(`one-${b}`)).toBe(`one-${b}`);
      // The shared hash did bring the secret up as a candidate: one comparison turned it down.
      expect(comparisonsIn(() => scrubber.scrub(`one-${b}`))).toBe(1);
    });

    it('releases one of two secrets that share a hash and keeps the other', () => {
      const [a, b] = collidingTails();
      const scrubber = indexed();
      scrubber.addSecret(`acme-${a}`, 'acme');
      scrubber.addSecret(`globex-${b}`, 'globex');
      expect(scrubber.scrub(`acme-${a} globex-${b}`)).toBe('[redacted] [redacted]');
      scrubber.releaseOwner('acme');
      expect(scrubber.scrub(`acme-${a} globex-${b}`)).toBe(`acme-${a} [redacted]`);
      scrubber.releaseOwner('globex');
      expect(scrubber.scrub(`acme-${a} globex-${b}`)).toBe(`acme-${a} globex-${b}`);
    });

    it('removes overlapping secrets, and one containing another, whole', () => {
      const scrubber = indexed();
      scrubber.addSecret('abcdef-ghijkl');
      scrubber.addSecret('ghijkl-mnopqr');
      scrubber.addSecret('key-000000-long');
      scrubber.addSecret('000000-lo');
      expect(scrubber.scrub('<abcdef-ghijkl-mnopqr> <key-000000-long> <000000-lo>')).toBe('<[redacted]> <[redacted]> <[redacted]>');
      expect(scrubber.scrub('abcdef-ghijkl-mnopqrkey-000000-long')).toBe('[redacted]');
    });

    it('finds non-ASCII secrets, surrogate pairs included', () => {
      const scrubber = indexed();
      scrubber.addSecret('clé-secrète-çà');
      scrubber.addSecret('ключ-доступа');
      scrubber.addSecret('key-🔑🔑🔑');
      expect(scrubber.scrub('é clé-secrète-çà ключ-доступа🔑key-🔑🔑🔑🔑 ключ-доступ')).toBe(
        'é [redacted] [redacted]🔑[redacted]🔑 ключ-доступ',
      );
    });

    it('handles lines shorter than a secret, and secrets at the very start and end of a line', () => {
      const scrubber = indexed();
      scrubber.addSecret('abcdef');
      scrubber.addSecret('start-secret');
      scrubber.addSecret('end-secret');
      expect(scrubber.scrub('')).toBe('');
      expect(scrubber.scrub('abcde')).toBe('abcde');
      expect(scrubber.scrub('abcdef')).toBe('[redacted]');
      expect(scrubber.scrub('start-secret middle end-secret')).toBe('[redacted] middle [redacted]');
      expect(scrubber.scrub('start-secretend-secret')).toBe('[redacted]');
    });

    it('keeps finding the remaining secrets after most owners are released (the filter is rebuilt)', () => {
      const scrubber = new SecretScrubber({});
      const key = (i: number) => `tenant-key-${i}-${(i * 7919).toString(36)}`;
      for (let i = 0; i < 2_000; i++) scrubber.addSecret(key(i), `t-${i}`);
      for (let i = 50; i < 2_000; i++) scrubber.releaseOwner(`t-${i}`);
      expect(scrubber.size).toBe(50);
      for (let i = 0; i < 2_000; i += 7) expect(scrubber.scrub(`<${key(i)}>`)).toBe(i < 50 ? '<[redacted]>' : `<${key(i)}>`);
      for (let i = 0; i < 50; i++) expect(scrubber.scrub(key(i))).toBe('[redacted]');
    });

    it('agrees with a plain search for the longest secret ending at each position, on many shared tails', () => {
      // A small alphabet, so that tails (and the filter's buckets) are shared often.
      let seed = 7;
      const next = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
      const alphabet = 'ab-é🔑';
      const word = (length: number) => Array.from({ length }, () => alphabet[next(alphabet.length)]).join('');
      const secrets = Array.from({ length: 60 }, () => word(6 + next(6)));
      const scrubber = new SecretScrubber({});
      for (const secret of secrets) scrubber.addSecret(secret);
      for (let i = 0; i < 200; i++) {
        const text = word(next(60));
        expect(scrubber.scrub(text)).toBe(plainScrub(text, [...new Set(secrets)]));
      }
    });
  });
});

/** Two different six-unit strings with the same tailHash, found by a birthday search. */
function collidingTails(): [string, string] {
  const seen = new Map<number, string>();
  let seed = 1;
  // CJK code units: a wide range, so differences large enough to cancel out are common.
  const unit = () => 0x4e00 + (((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % 0x5000);
  for (;;) {
    const tail = String.fromCharCode(unit(), unit(), unit(), unit(), unit(), unit());
    const other = seen.get(tailHash(tail));
    if (other !== undefined && other !== tail) return [other, tail];
    seen.set(tailHash(tail), tail);
  }
}

/** What the indexed scan promises, by brute force: every occurrence of every secret goes, overlapping ones merged. */
function plainScrub(text: string, secrets: string[]): string {
  const hidden = Array.from({ length: text.length }, () => false);
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) hidden.fill(true, at, at + secret.length);
  }
  let out = '';
  for (let at = 0; at < text.length; at++) {
    if (!hidden[at]) out += text[at];
    else if (at === 0 || !hidden[at - 1]) out += '[redacted]';
  }
  return out;
}

/** How many times `run` compares a string with another (includes, startsWith): the scrubbers' unit of work. */
function comparisonsIn(run: () => void): number {
  const includes = vi.spyOn(String.prototype, 'includes');
  const startsWith = vi.spyOn(String.prototype, 'startsWith');
  try {
    run();
    return includes.mock.calls.length + startsWith.mock.calls.length;
  } finally {
    includes.mockRestore();
    startsWith.mockRestore();
  }
}

/** How many times `run` looks a key up in a Map: the indexed scan does so only past its filter. */
function lookupsIn(run: () => void): number {
  const get = vi.spyOn(Map.prototype, 'get');
  try {
    run();
    return get.mock.calls.length;
  } finally {
    get.mockRestore();
  }
}
