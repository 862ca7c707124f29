import { describe, expect, it, vi } from 'vitest';
import { SecretScrubber } from '../../src/util/secret_scrubber.js';

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
    for (let i = 0; i < 10; i++) few.addSecret(tenantKey(i), `t-${i}`);
    const line = lineWith(tenantKey(3), tenantKey(9));
    expect(line.length).toBe(500);
    const scrubbed = many.scrub(line);
    expect(scrubbed).not.toContain(tenantKey(3));
    expect(scrubbed).not.toContain(tenantKey(9));
    expect(scrubbed.match(/\[redacted\]/g)).toHaveLength(2);
    expect(few.scrub(line)).toBe(scrubbed);

    // The cost, counted rather than timed (the timing is `npm run bench:scrubber`): how
    // often a secret is compared with the text. One includes() per secret (the old way)
    // made 20,000 comparisons for this line; the index compares only secrets whose last
    // characters occur in the text, the same handful whatever their number.
    expect(comparisonsIn(() => few.scrub(line))).toBe(10);
    const manyComparisons = comparisonsIn(() => many.scrub(line));
    expect(manyComparisons).toBeGreaterThanOrEqual(2);
    expect(manyComparisons).toBeLessThan(10);
    const thousand = new SecretScrubber({});
    for (let i = 0; i < 1_000; i++) thousand.addSecret(tenantKey(i), `t-${i}`);
    expect(comparisonsIn(() => thousand.scrub(line))).toBe(manyComparisons);
  });
});

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
