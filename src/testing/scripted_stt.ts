import { randomUUID } from 'node:crypto';
import { APIConnectionError, type APIConnectOptions, DEFAULT_API_CONNECT_OPTIONS, stt } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

export interface ScriptedSTTOptions {
  /** What every utterance is transcribed as. Default 'hello'. */
  transcript?: string;
  /** Frames per utterance: after this many frames, one final transcript and one usage report. Default 10. */
  framesPerUtterance?: number;
  /** Reported provider and model, for per-tenant usage. */
  provider?: string;
  model?: string;
  /**
   * Decides per frame: a stream given a frame for which this returns a message fails with
   * an unrecoverable provider error carrying it. One object shared by many calls can so
   * fail exactly one of them.
   */
  failOn?: (frame: AudioFrame) => string | undefined;
  /** Stands in for a provider API key; it must never leave this object. */
  apiKey?: string;
}

/**
 * A streaming speech-to-text provider that needs no network: every `framesPerUtterance`
 * frames of audio become one final transcript and one usage report of exactly that
 * audio's duration, so per-tenant audio seconds can be tested. It can fail on purpose.
 */
export class ScriptedSTT extends stt.STT {
  readonly label = 'openrtc.ScriptedSTT';
  readonly options: Readonly<Omit<ScriptedSTTOptions, 'apiKey'>>;
  readonly #apiKey: string | undefined;

  constructor(options: ScriptedSTTOptions = {}) {
    super({ streaming: true, interimResults: false });
    const { apiKey, ...rest } = options;
    this.options = rest;
    this.#apiKey = apiKey;
  }

  override get provider(): string {
    return this.options.provider ?? 'scripted';
  }

  override get model(): string {
    return this.options.model ?? 'scripted-stt';
  }

  /** Whether an API key was given (the key itself is never exposed). */
  get hasApiKey(): boolean {
    return this.#apiKey !== undefined;
  }

  protected _recognize(): Promise<stt.SpeechEvent> {
    return Promise.reject(new Error('ScriptedSTT only streams'));
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    return new ScriptedSpeechStream(this, { ...DEFAULT_API_CONNECT_OPTIONS, ...options?.connOptions, maxRetry: 0 });
  }
}

class ScriptedSpeechStream extends stt.SpeechStream {
  readonly label = 'openrtc.ScriptedSpeechStream';
  readonly #owner: ScriptedSTT;

  constructor(owner: ScriptedSTT, connOptions: APIConnectOptions) {
    super(owner, undefined, connOptions);
    this.#owner = owner;
  }

  protected async run(): Promise<void> {
    const { transcript = 'hello', framesPerUtterance = 10, failOn } = this.#owner.options;
    let frames = 0;
    let seconds = 0;
    for await (const item of this.input) {
      if (typeof item === 'symbol') continue;
      const failure = failOn?.(item);
      if (failure !== undefined) throw new APIConnectionError({ message: failure, options: { retryable: false } });
      frames++;
      seconds += item.samplesPerChannel / item.sampleRate;
      if (frames < framesPerUtterance) continue;
      const requestId = randomUUID();
      this.queue.put({
        type: stt.SpeechEventType.FINAL_TRANSCRIPT,
        requestId,
        alternatives: [{ text: transcript, language: 'en' as stt.SpeechData['language'], startTime: 0, endTime: seconds, confidence: 1 }],
      });
      this.queue.put({ type: stt.SpeechEventType.RECOGNITION_USAGE, requestId, recognitionUsage: { audioDuration: seconds } });
      frames = 0;
      seconds = 0;
    }
  }
}
