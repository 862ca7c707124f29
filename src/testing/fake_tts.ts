import { AudioFrame } from '@livekit/rtc-node';
import { APIConnectionError, type APIConnectOptions, DEFAULT_API_CONNECT_OPTIONS, tts } from '@livekit/agents';
import { randomUUID } from 'node:crypto';

export interface FakeTTSOptions {
  /** Output sample rate in Hz. Default 24 000. */
  sampleRate?: number;
  /** Milliseconds of (silent) audio produced per character of text. Default 10. */
  msPerCharacter?: number;
  /** Reported as the TTS's provider and model, for usage metrics. */
  provider?: string;
  model?: string;
  /** Fail every synthesis with an unrecoverable provider error carrying this message. */
  failWith?: string;
  /** Decides per request: the synthesis of this text fails with the returned message. */
  failOn?: (text: string) => string | undefined;
  /** Stands in for a provider API key; it must never leave this object. */
  apiKey?: string;
}

/**
 * A text-to-speech provider that needs no network: it returns silence whose length
 * follows the text, and can be told to fail like a provider with a revoked key.
 * agents-js ships a fake LLM and STT but no TTS; this one completes the set.
 */
export class FakeTTS extends tts.TTS {
  readonly label = 'openrtc.FakeTTS';
  readonly options: Readonly<Required<Omit<FakeTTSOptions, 'failWith' | 'failOn' | 'apiKey'>>> & Pick<FakeTTSOptions, 'failWith' | 'failOn'>;
  /** Every text this TTS was asked to speak, in order. */
  readonly spoken: string[] = [];
  readonly #apiKey: string | undefined;

  constructor(options: FakeTTSOptions = {}) {
    super(options.sampleRate ?? 24_000, 1, { streaming: false });
    this.options = {
      sampleRate: options.sampleRate ?? 24_000,
      msPerCharacter: options.msPerCharacter ?? 10,
      provider: options.provider ?? 'fake',
      model: options.model ?? 'fake-tts',
      failWith: options.failWith,
      failOn: options.failOn,
    };
    this.#apiKey = options.apiKey;
  }

  override get provider(): string {
    return this.options.provider;
  }

  override get model(): string {
    return this.options.model;
  }

  /** Whether an API key was given (the key itself is never exposed). */
  get hasApiKey(): boolean {
    return this.#apiKey !== undefined;
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    this.spoken.push(text);
    return new FakeChunkedStream(text, this, connOptions, abortSignal);
  }

  stream(): tts.SynthesizeStream {
    throw new Error('FakeTTS does not stream; agents-js wraps it in tts.StreamAdapter');
  }
}

class FakeChunkedStream extends tts.ChunkedStream {
  readonly label = 'openrtc.FakeChunkedStream';
  readonly #fake: FakeTTS;

  constructor(text: string, fake: FakeTTS, connOptions?: APIConnectOptions, abortSignal?: AbortSignal) {
    super(text, fake, { ...DEFAULT_API_CONNECT_OPTIONS, ...connOptions, maxRetry: 0 }, abortSignal);
    this.#fake = fake;
  }

  protected async run(): Promise<void> {
    const { failWith, failOn, sampleRate, msPerCharacter } = this.#fake.options;
    const failure = failWith ?? failOn?.(this.inputText);
    if (failure !== undefined) {
      throw new APIConnectionError({ message: failure, options: { retryable: false } });
    }
    const requestId = randomUUID();
    const totalSamples = Math.max(1, Math.round((this.inputText.length * msPerCharacter * sampleRate) / 1000));
    const frameSamples = Math.round(sampleRate / 50); // 20 ms frames, as real providers send
    for (let offset = 0; offset < totalSamples; offset += frameSamples) {
      const samples = Math.min(frameSamples, totalSamples - offset);
      const frame = new AudioFrame(new Int16Array(samples), sampleRate, 1, samples);
      this.queue.put({ requestId, segmentId: requestId, frame, final: offset + samples >= totalSamples });
    }
    await Promise.resolve();
  }
}
