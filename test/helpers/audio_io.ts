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

/** An audio output that "plays" every segment the moment it is flushed. */
export class InstantPlayout extends voice.AudioOutput {
  private seconds = 0;

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    this.seconds += frame.samplesPerChannel / frame.sampleRate;
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
    const playbackPosition = this.seconds;
    this.seconds = 0;
    this.onPlaybackFinished({ playbackPosition, interrupted });
  }
}
