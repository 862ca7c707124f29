import { AudioFrame } from '@livekit/rtc-node';
import { VADEventType, initializeLogger } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/index.js';
import { ScriptedLLM } from '../../src/testing/index.js';
import { sileroVadPerSession } from '../../examples/agency/silero_vad.js';
import { SupportAgent } from '../helpers/test_agent.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** 16 kHz mono: a loud 300 Hz tone with harmonics for `speechMs`, then silence. */
function speechThenSilence(speechMs: number, silenceMs: number): AudioFrame[] {
  const frames: AudioFrame[] = [];
  const samplesPerFrame = 320; // 20 ms
  const total = ((speechMs + silenceMs) * 16_000) / 1000;
  for (let offset = 0; offset < total; offset += samplesPerFrame) {
    const data = new Int16Array(samplesPerFrame);
    for (let i = 0; i < samplesPerFrame; i++) {
      const t = (offset + i) / 16_000;
      const speaking = offset < (speechMs * 16_000) / 1000;
      const voiced = Math.sin(2 * Math.PI * 180 * t) + 0.6 * Math.sin(2 * Math.PI * 360 * t) + 0.3 * Math.sin(2 * Math.PI * 720 * t);
      const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
      data[i] = speaking ? Math.round(9_000 * voiced * envelope + (Math.random() - 0.5) * 2_000) : 0;
    }
    frames.push(new AudioFrame(data, 16_000, 1, samplesPerFrame));
  }
  return frames;
}

describe('examples/agency: Silero VAD per session', () => {
  it('gives every session its own VAD object over one loaded model, and each one runs inference', async () => {
    const vad = await sileroVadPerSession();
    const pool = new AgentPool({ agent: SupportAgent, llm: new ScriptedLLM(), vad });
    const sessions = [];
    for (const jobId of ['v1', 'v2']) {
      const decision = await pool.admit({ jobId, roomName: 'r' });
      if (!decision.accepted) throw new Error(decision.message);
      sessions.push((await pool.runtime.buildSession(decision.ticket)).session);
      await decision.ticket.finish('expired');
    }
    const [a, b] = sessions;
    expect(a!.vad).toBeDefined();
    expect(a!.vad).not.toBe(b!.vad);

    const stream = a!.vad!.stream();
    const frames = speechThenSilence(600, 100);
    stream.updateInputStream(
      new ReadableStream<AudioFrame>({
        start(controller) {
          for (const frame of frames) controller.enqueue(frame);
        },
      }),
    );
    let inferences = 0;
    for await (const event of stream) {
      if (event.type === VADEventType.INFERENCE_DONE) inferences++;
      if (inferences >= 10) break;
    }
    stream.close();
    expect(inferences).toBe(10);
  }, 30_000);
});
