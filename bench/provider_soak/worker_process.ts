// The measured side of the provider soak: one pool worker whose sessions all share
// provider objects (the pool's defaults, a real Silero VAD object among them, and one
// tenant's own objects shared by all of its calls). It answers the driver's `measure`
// with listener counts on every shared object and the heap after a full GC. Started by
// run.ts with --expose-gc.
import { type VAD, voice } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { AgentPool } from '../../src/pool/agent_pool.js';
import { scopedForwarderCount } from '../../src/session/provider_scope.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { FakeTTS } from '../../src/testing/fake_tts.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { ScriptedSTT } from '../../src/testing/scripted_stt.js';
import { SimulatedRoomTransport } from '../../src/testing/simulated_room.js';
import { InstantPlayout, PushedAudioInput } from '../../test/helpers/audio_io.js';
import { SAMPLE_RATE, generateSpeechLikeAudio } from '../density/signal.mjs';
import type { DriverMessage, ListenerCounts, Measurement, WorkerMessage } from './protocol.js';

const send = (message: WorkerMessage) => process.send?.(message);
const FRAME_SAMPLES = SAMPLE_RATE / 50; // 20 ms
/** Each call's caller speaks this much synthetic speech into the session (Silero hears it). */
const SPEECH_SECONDS = 1.2;
/** How long a measurement waits after the last session ended, for its teardown timers to fire. */
const SETTLE_MS = Number(process.env.SOAK_SETTLE_MS ?? 16_000);
// One buffer of speech-like audio, read from a different offset by each call.
const SPEECH = generateSpeechLikeAudio(30, 7);

let sessionsWithSpeech = 0;
let nextOffset = 0;

/** Speaks `SPEECH_SECONDS` of audio into its own session and counts Silero's speech starts. */
class SoakAgent extends voice.Agent {
  constructor() {
    super({ instructions: 'You are a soak test agent. Answer briefly.' });
  }

  override async onEnter(): Promise<void> {
    const input = new PushedAudioInput();
    this.session.output.audio = new InstantPlayout();
    this.session.input.audio = input;
    let heard = false;
    this.session.on(voice.AgentSessionEventTypes.UserStateChanged, (event) => {
      if (event.newState !== 'speaking' || heard) return;
      heard = true;
      sessionsWithSpeech++;
    });
    const frames = Math.round((SPEECH_SECONDS * SAMPLE_RATE) / FRAME_SAMPLES);
    const start = (nextOffset = (nextOffset + 7 * FRAME_SAMPLES * 11) % (SPEECH.length - frames * FRAME_SAMPLES));
    for (let i = 0; i < frames; i++) {
      const data = SPEECH.slice(start + i * FRAME_SAMPLES, start + (i + 1) * FRAME_SAMPLES);
      input.push(new AudioFrame(data, SAMPLE_RATE, 1, FRAME_SAMPLES));
    }
    await Promise.resolve();
  }
}

function listenerCount(emitter: { eventNames(): (string | symbol)[]; listenerCount(event: string | symbol): number }): number {
  return emitter.eventNames().reduce((n, event) => n + emitter.listenerCount(event), 0);
}

async function main(): Promise<void> {
  const url = process.env.SOAK_URL;
  const apiKey = process.env.SOAK_API_KEY;
  const apiSecret = process.env.SOAK_API_SECRET;
  if (!url || !apiKey || !apiSecret) throw new Error('SOAK_URL, SOAK_API_KEY and SOAK_API_SECRET must be set');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the soak worker needs --expose-gc');

  // The pool's defaults are shared by every tenant; acme's own objects by all acme calls.
  const vad: VAD = await silero.VAD.load();
  const pool = { llm: new ScriptedLLM({ provider: 'pool-llm' }), stt: new ScriptedSTT({ provider: 'pool-stt' }), tts: new FakeTTS({ provider: 'pool-tts', msPerCharacter: 1 }) };
  const acme = { llm: new ScriptedLLM({ provider: 'acme-llm' }), stt: new ScriptedSTT({ provider: 'acme-stt' }), tts: new FakeTTS({ provider: 'acme-tts', msPerCharacter: 1 }) };
  const shared: [string, voice.AgentSession['llm'] | VAD | ScriptedSTT | FakeTTS][] = [
    ['pool.llm', pool.llm], ['pool.stt', pool.stt], ['pool.tts', pool.tts], ['pool.vad (Silero)', vad],
    ['acme.llm', acme.llm], ['acme.stt', acme.stt], ['acme.tts', acme.tts],
  ];
  const agentPool = new AgentPool({
    agent: SoakAgent, ...pool, vad, tenantConfig: { acme },
    sessionOptions: { turnHandling: { turnDetection: 'manual' } },
  });
  let ended = 0;
  let succeeded = 0;
  agentPool.on('sessionEnded', (event) => {
    ended++;
    if (event.outcome === 'success') succeeded++;
  });
  const logger = createLogger({ otlp: false, destination: pino.destination({ dest: process.env.SOAK_LOG_LEVEL ? 2 : '/dev/null', sync: false }) });
  logger.level = process.env.SOAK_LOG_LEVEL ?? 'silent';
  await agentPool.start({ url, apiKey, apiSecret, transport: new SimulatedRoomTransport(), handleSignals: false, logger, drainTimeoutMs: 10_000 });

  async function measure(expectSessions: number): Promise<Measurement> {
    // Every dispatched call has ended in the driver; wait for the worker's own teardown too.
    const deadline = Date.now() + 60_000;
    while ((ended < expectSessions || agentPool.liveTickets().length > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Timers agents-js and openrtc start while a session ends (up to a few seconds) keep it
    // until they fire: wait them out, or the sessions just ended would count as retained.
    if (expectSessions > 0) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    // The test fakes log what they were asked (a string per request): not the product's memory.
    for (const fake of [pool.llm, acme.llm]) fake.received.length = 0;
    for (const fake of [pool.tts, acme.tts]) fake.spoken.length = 0;
    for (let i = 0; i < 4; i++) {
      gc!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const memory = process.memoryUsage();
    // SOAK_HEAP_SNAPSHOTS=<dir>: a heap snapshot at each measurement, to find what grows.
    const snapshots = process.env.SOAK_HEAP_SNAPSHOTS;
    if (snapshots && expectSessions > 0 && ended >= Number(process.env.SOAK_SNAPSHOT_AT ?? 0)) writeHeapSnapshot(path.join(snapshots, `soak-${process.pid}-${ended}.heapsnapshot`));
    const listeners: ListenerCounts[] = shared.map(([name, object]) => ({
      name, listeners: listenerCount(object as never), forwarders: scopedForwarderCount(object as object),
    }));
    return { sessionsEnded: ended, succeeded, sessionsWithSpeech, heapUsed: memory.heapUsed, arrayBuffers: memory.arrayBuffers, listeners };
  }

  process.on('message', (message: DriverMessage) => {
    if (message.type === 'stop') {
      void agentPool.drain().finally(() => process.disconnect?.());
      return;
    }
    measure(message.expectSessions).then(
      (measurement) => send({ type: 'measured', measurement }),
      (error: unknown) => send({ type: 'error', message: String(error) }),
    );
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
