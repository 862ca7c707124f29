import { initializeLogger } from '@livekit/agents';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeTTS, ManualClock } from '../../src/testing/index.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

describe('ManualClock', () => {
  it('moves only when told to and fires due timers in order', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => fired.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimer(() => fired.push('never'), 5);
    cancelled.cancel();
    expect(clock.pendingTimers).toBe(3);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(['a@1010', 'b@1020', 'c@1020']);
    expect(clock.now()).toBe(1_020);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers set by timers within the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.now());
      clock.setTimer(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(20);
    expect(fired).toEqual([5, 10]);
    expect(clock.now()).toBe(20);
  });
});

describe('FakeTTS', () => {
  it('speaks silence whose length follows the text and keeps its key to itself', async () => {
    const tts = new FakeTTS({ apiKey: 'sk-acme-SECRET', sampleRate: 16_000, msPerCharacter: 10 });
    expect(tts.hasApiKey).toBe(true);
    expect(tts.provider).toBe('fake');
    expect(tts.model).toBe('fake-tts');
    expect(JSON.stringify(tts.options)).not.toContain('SECRET');
    expect(inspect(tts, { depth: 5, showHidden: true })).not.toContain('SECRET');
    let samples = 0;
    for await (const audio of tts.synthesize('hello')) samples += audio.frame.samplesPerChannel;
    expect(samples).toBe(800); // 5 characters * 10 ms at 16 kHz
    expect(tts.spoken).toEqual(['hello']);
  });
});
