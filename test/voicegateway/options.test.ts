import { afterEach, describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/pool/agent_pool.js';
import { VoiceGatewayExporter } from '../../src/voicegateway/exporter.js';
import { virtualKey } from './pg_collector.js';
import { SupportAgent } from '../helpers/test_agent.js';

const saved = { url: process.env.OPENRTC_VOICEGATEWAY_URL, key: process.env.OPENRTC_VOICEGATEWAY_KEY };
afterEach(() => {
  for (const [name, value] of [['OPENRTC_VOICEGATEWAY_URL', saved.url], ['OPENRTC_VOICEGATEWAY_KEY', saved.key]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('the pool\'s voicegateway exporter', () => {
  it('is off by default, on with OPENRTC_VOICEGATEWAY_URL, and off with false whatever the environment says', () => {
    delete process.env.OPENRTC_VOICEGATEWAY_URL;
    expect(new AgentPool({ agent: SupportAgent }).voiceGateway).toBeUndefined();
    process.env.OPENRTC_VOICEGATEWAY_URL = 'http://voicegateway.internal:8080';
    process.env.OPENRTC_VOICEGATEWAY_KEY = virtualKey();
    expect(new AgentPool({ agent: SupportAgent }).voiceGateway).toBeInstanceOf(VoiceGatewayExporter);
    expect(new AgentPool({ agent: SupportAgent, voiceGateway: false }).voiceGateway).toBeUndefined();
    const mine = new VoiceGatewayExporter({ url: 'http://127.0.0.1:1' });
    expect(new AgentPool({ agent: SupportAgent, voiceGateway: mine }).voiceGateway).toBe(mine);
  });

  it('refuses bad options naming the option and the rule, never echoing a key or a URL', () => {
    const secret = 'vk_THIS-IS-NOT-VALID-but-secret';
    const cases: [unknown, RegExp][] = [
      [{ url: 'ftp://x' }, /`voiceGateway.url` must be an http/],
      [{ url: 'http://x', fallbackKey: secret }, /`voiceGateway.fallbackKey` must be a voicegateway virtual key/],
      [{ url: 'http://x', maxBatchRecords: 1_001 }, /`voiceGateway.maxBatchRecords` must be at most 1000/],
      [{ url: 'http://x', maxBatchRecords: 100, maxBufferedRecords: 50 }, /`voiceGateway.maxBufferedRecords` must be at least/],
      [{ url: 'http://x', prices: { 'openai/gpt-4o': { usdPerToken: 1 } } }, /is not a price field/],
      [{ url: 'http://x', prices: { 'openai/gpt-4o': { usdPerInputUnit: -1 } } }, /must be a finite number of USD/],
      [{ url: 'http://x', apiKey: secret }, /`voiceGateway.apiKey` is not a voicegateway exporter option/],
    ];
    for (const [options, rule] of cases) {
      const attempt = () => new AgentPool({ agent: SupportAgent, voiceGateway: options as never });
      expect(attempt).toThrow(rule);
      expect(attempt).not.toThrow(/THIS-IS-NOT-VALID/);
    }
    process.env.OPENRTC_VOICEGATEWAY_URL = 'http://x';
    process.env.OPENRTC_VOICEGATEWAY_KEY = secret;
    expect(() => new AgentPool({ agent: SupportAgent })).toThrow(/`OPENRTC_VOICEGATEWAY_KEY` must be a voicegateway virtual key/);
    expect(() => new AgentPool({ agent: SupportAgent })).not.toThrow(/THIS-IS-NOT-VALID/);
  });
});
