import { describe, expect, it } from 'vitest';
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
});
