// An audio output that plays nothing and reports each segment played at once: with it,
// a text call's replies go through the session's TTS, as a call with a caller on the line
// would, so text-to-speech requests are billed in tests without an SFU.
import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

export class DiscardAudioOutput extends voice.AudioOutput {
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
    if (this.pendingPlayoutSegments === 0) return;
    const playbackPosition = this.playedSeconds;
    this.playedSeconds = 0;
    this.playing = false;
    this.onPlaybackFinished({ playbackPosition, interrupted });
  }
}
