import { initializeLogger, voice } from '@livekit/agents';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/telemetry/pool_events.js';
import { getSessionContext } from '../../src/telemetry/session_context.js';
import type { DispatchedCall } from '../../src/testing/dispatched_call.js';
import { FakeTTS } from '../../src/testing/fake_tts.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { ScriptedSTT } from '../../src/testing/scripted_stt.js';
import { InstantPlayout, PushedAudioInput, frame20ms } from '../helpers/audio_io.js';
import { eventually } from '../helpers/eventually.js';
import { type WorkerHarness, harnessPerTest } from '../helpers/worker_harness.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const POISON_SAMPLE = 4242;
const FRAMES_PER_CALL = 20; // two utterances of ten 20 ms frames: 0.4 s of audio per call
const SECONDS_PER_CALL = (FRAMES_PER_CALL * 320) / 16_000;

/**
 * An agent with a microphone and a speaker: on entering it plugs audio in and out of its
 * session and speaks 20 frames into it. In a room named `...stt-poison...` the first
 * frame carries the sample ScriptedSTT is told to fail on.
 */
class AudioAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You help callers.' });
  }

  override async onEnter(): Promise<void> {
    const input = new PushedAudioInput();
    this.session.output.audio = new InstantPlayout();
    this.session.input.audio = input;
    const poisoned = getSessionContext()?.roomName.includes('stt-poison') ?? false;
    for (let i = 0; i < FRAMES_PER_CALL; i++) input.push(frame20ms(poisoned && i === 0 ? POISON_SAMPLE : 0));
    await Promise.resolve();
  }
}

const sttFails = (frame: { data: Int16Array }): string | undefined =>
  frame.data[0] === POISON_SAMPLE ? 'stt provider rejected this stream' : undefined;
const ttsFails = (text: string): string | undefined => (text.includes('explode') ? 'tts provider rejected this text' : undefined);
const agentReplies = (call: DispatchedCall): string[] => call.transcript.filter((t) => t.from === 'agent').map((t) => t.text);

describe('STT and TTS objects shared by many sessions in one process', () => {
  const startHarness = harnessPerTest();
  let usage: UsageEvent[] = [];

  afterEach(() => {
    usage = [];
  });

  async function start(): Promise<WorkerHarness> {
    const harness = await startHarness({
      pool: {
        agent: AudioAgent,
        llm: new ScriptedLLM({ reply: (t) => `you said ${t}` }),
        stt: new ScriptedSTT({ failOn: sttFails, provider: 'pool-stt' }),
        tts: new FakeTTS({ failOn: ttsFails, provider: 'pool-tts' }),
        tenantConfig: {
          acme: {
            stt: new ScriptedSTT({ failOn: sttFails, provider: 'acme-stt' }),
            tts: new FakeTTS({ failOn: ttsFails, provider: 'acme-tts' }),
          },
        },
        enableTenantCircuitBreaker: true,
        circuitBreaker: { minSamples: 2, failureRatio: 0.5 },
      },
    });
    harness.pool.on('usage', (event) => usage.push(event));
    return harness;
  }

  const sttSeconds = (jobId: string) => usage.filter((u) => u.jobId === jobId && u.kind === 'stt').reduce((n, u) => n + (u.audioSeconds ?? 0), 0);

  it('a failing STT stream or TTS request fails only its own call', async () => {
    const h = await start();
    const open = (turns: string[]) => ({ turns, hangupAfterLastReply: false });
    const acmeSttPoison = h.call('acme', open(['hello']), { roomName: 'acme-stt-poison' });
    const acmeTtsPoison = h.call('acme', open(['hello']));
    const acme = [h.call('acme', open(['hello'])), h.call('acme', open(['hello']))];
    const globexSttPoison = h.call('globex', open(['hello']), { roomName: 'globex-stt-poison' });
    const globex = [h.call('globex', open(['hello'])), h.call('globex', open(['hello']))];
    const healthy = [...acme, ...globex];

    const failedStt = await Promise.all([h.sessionEnded(acmeSttPoison.jobId), h.sessionEnded(globexSttPoison.jobId)]);
    for (const end of failedStt) {
      expect(end.outcome).toBe('failed');
      expect(end.detail).toContain('stt provider rejected this stream');
    }
    await h.server.waitFor(() => [...healthy, acmeTtsPoison].every((c) => agentReplies(c).length === 1), 'every live call to answer', 20_000);
    acmeTtsPoison.say('explode');
    const failedTts = await h.sessionEnded(acmeTtsPoison.jobId);
    expect(failedTts).toMatchObject({ tenant: 'acme', outcome: 'failed' });
    expect(failedTts.detail).toContain('tts provider rejected this text');

    // The others heard all their audio and keep talking.
    for (const call of healthy) call.say('still there?');
    await h.server.waitFor(() => healthy.every((c) => agentReplies(c).length === 2), 'the other calls to answer again', 20_000);
    await eventually(() => healthy.every((c) => sttSeconds(c.jobId) === SECONDS_PER_CALL), 'every healthy call to be transcribed', 20_000);
    expect(h.sessionsEnded.map((e) => e.jobId).sort()).toEqual([acmeSttPoison.jobId, acmeTtsPoison.jobId, globexSttPoison.jobId].sort());
    for (const call of healthy) call.hangup();
    await Promise.all(healthy.map((c) => h.sessionEnded(c.jobId)));

    const snap = h.snapshot();
    expect(snap.tenants.acme).toMatchObject({ started: 4, succeeded: 2, failed: 2 });
    expect(snap.tenants.globex).toMatchObject({ started: 3, succeeded: 2, failed: 1 });
  });

  it('attributes audio seconds and characters to the session whose request it was', async () => {
    const h = await start();
    const turns: Record<string, string[][]> = {
      acme: [['hi'], ['hello there', 'thanks']],
      globex: [['hey', 'bye']],
      initech: [['one'], ['two words', 'three words here']],
    };
    const calls = Object.entries(turns).flatMap(([tenant, list]) =>
      list.map((script) => ({ tenant, script, call: h.call(tenant, { turns: script, hangupAfterLastReply: false }) })),
    );
    const ttsChars = (jobId: string) => usage.filter((u) => u.jobId === jobId && u.kind === 'tts').reduce((n, u) => n + (u.characters ?? 0), 0);
    // The replies a call gets are "you said <turn>"; the TTS speaks exactly them.
    const expectedChars = (script: string[]) => script.reduce((n, t) => n + `you said ${t}`.length, 0);
    await eventually(
      () => calls.every(({ call, script }) => sttSeconds(call.jobId) === SECONDS_PER_CALL && ttsChars(call.jobId) === expectedChars(script)),
      'every call\'s audio to be transcribed and every reply spoken',
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${JSON.stringify(calls.map(({ call, script }) => [sttSeconds(call.jobId), ttsChars(call.jobId), expectedChars(script), agentReplies(call)]))}`);
    });
    for (const { call } of calls) call.hangup();
    await Promise.all(calls.map(({ call }) => h.sessionEnded(call.jobId)));

    for (const tenant of ['acme', 'globex', 'initech', 'idle']) {
      const mine = usage.filter((u) => u.tenant === tenant);
      const scripts = turns[tenant] ?? [];
      expect(mine.filter((u) => u.kind === 'stt').reduce((n, u) => n + (u.audioSeconds ?? 0), 0), tenant).toBeCloseTo(scripts.length * SECONDS_PER_CALL, 9);
      expect(mine.filter((u) => u.kind === 'tts').reduce((n, u) => n + (u.characters ?? 0), 0), tenant).toBe(scripts.reduce((n, s) => n + expectedChars(s), 0));
    }
    expect(usage.filter((u) => u.tenant === 'acme' && u.kind !== 'llm').every((u) => u.provider.startsWith('acme-'))).toBe(true);
    expect(usage.filter((u) => u.tenant !== 'acme' && u.kind !== 'llm').every((u) => u.provider.startsWith('pool-'))).toBe(true);
  }, 60_000);
});
