import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';

/** 20 ms of 16 kHz mono silence; `marker` goes into the first sample, for fakes that fail on it. */
export function frame20ms(marker = 0): AudioFrame {
  const data = new Int16Array(320);
  data[0] = marker;
  return new AudioFrame(data, 16_000, 1, 320);
}

/** An audio input a test pushes frames into, as a room's microphone track would. */
export class PushedAudioInput extends voice.AudioInput {
  private controller!: ReadableStreamDefaultController<AudioFrame>;

  constructor() {
    super();
    this.multiStream.addInputStream(new ReadableStream<AudioFrame>({ start: (controller) => { this.controller = controller; } }));
  }

  push(frame: AudioFrame): void {
    this.controller.enqueue(frame);
  }
}

/**
 * An audio output that plays nothing and reports each segment played the moment it is
 * flushed: with it, a text call's replies go through the session's TTS, as a call with a
 * caller on the line would, so text-to-speech runs (and is billed) in tests without an SFU.
 */
export class InstantPlayout extends voice.AudioOutput {
  private playedSeconds = 0;
  private playing = false;

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    if (!this.playing) {
      this.playing = true;
      this.onPlaybackStarted(Date.now());
    }
    this.playedSeconds += frame.samplesPerChannel / frame.sampleRate;
  }

  override flush(): void {
    super.flush();
    this.finish(false);
  }

  clearBuffer(): void {
    this.finish(true);
  }

  private finish(interrupted: boolean): void {
    if (this.pendingPlayoutSegments <= 0) return;
    const playbackPosition = this.playedSeconds;
    this.playedSeconds = 0;
    this.playing = false;
    this.onPlaybackFinished({ playbackPosition, interrupted });
  }
}
