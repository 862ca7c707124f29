// Silero VAD for a long-lived worker. `silero.VAD.load()` gives one VAD object that keeps
// every stream it creates in a list (so `updateOptions` can reach them) and never drops
// them. agents-js runs one process per call, so that list dies with the process; an
// openrtc worker hosts every call in one process, so it would grow by one stream (with a
// speech buffer of up to ~1.9 MB) per call, forever. This loads the ONNX model once and
// gives each session its own small VAD object over it, dropped when the session ends.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as silero from '@livekit/agents-plugin-silero';
import { InferenceSession } from 'onnxruntime-node';
import type { VadFactory } from '../../src/index.js';

type SileroOptions = ConstructorParameters<typeof silero.VAD>[1];

const DEFAULTS: SileroOptions = {
  minSpeechDuration: 50,
  minSilenceDuration: 550,
  prefixPaddingDuration: 500,
  maxBufferedSpeech: 60_000,
  activationThreshold: 0.5,
  sampleRate: 16_000,
  forceCPU: true,
};

/** Loads Silero's model once; pass the result as the pool's `vad`. */
export async function sileroVadPerSession(options: Partial<SileroOptions> = {}): Promise<VadFactory> {
  const opts = { ...DEFAULTS, ...options };
  // The model file ships inside the plugin, next to its entry module.
  const modelPath = path.join(path.dirname(createRequire(import.meta.url).resolve('@livekit/agents-plugin-silero')), 'silero_vad.onnx');
  const session = await InferenceSession.create(modelPath, {
    interOpNumThreads: 1,
    intraOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: opts.forceCPU ? [{ name: 'cpu' }] : undefined,
  });
  return () => new silero.VAD(session, opts);
}
