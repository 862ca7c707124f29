// The per-session work of the density benchmark, and the per-process event-loop probe.
// Both hosts run exactly this code: openrtc calls it from an Agent's onEnter inside its one
// process, the agents-js job module calls it from its entry inside each job process.
// Plain JavaScript on purpose: agents-js job processes load it without a TypeScript loader
// (a compiled production agent would not carry one either). Types: vad_session.d.mts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ReadableStream } from 'node:stream/web';
import { VADEventType } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { ENV_FRAME_MS, ENV_STATS_DIR, writeJsonAtomic } from './report_files.mjs';
import { SAMPLE_RATE, generateSpeechLikeAudio } from './signal.mjs';

/** Where sessions and processes report, and the audio frame length, from the environment. */
export function benchSettings() {
  const statsDir = process.env[ENV_STATS_DIR];
  if (!statsDir) throw new Error(`${ENV_STATS_DIR} is not set: run the host through bench/density/run.ts`);
  const frameMs = Number(process.env[ENV_FRAME_MS] ?? '20');
  if (frameMs !== 10 && frameMs !== 20) throw new Error(`${ENV_FRAME_MS} must be 10 or 20, got ${frameMs}`);
  return { statsDir, frameMs };
}

let audioLoop;
/** One 12 s loop of synthetic speech per process; sessions play it from different offsets. */
function audio() {
  audioLoop ??= generateSpeechLikeAudio(12, 1);
  return audioLoop;
}

let sessionSeq = 0;

/**
 * Streams synthetic audio into a fresh VADStream of `vad` at real-time pace (one frame
 * every `frameMs`, catching up in a burst if the event loop was late, as a real track
 * would deliver), consumes every event, and reports counters to `<statsDir>/session-<id>.json`
 * once a second and at stop.
 */
export function startVadSession(vad, { sessionId, statsDir, frameMs }) {
  const samples = audio();
  const samplesPerFrame = (SAMPLE_RATE * frameMs) / 1000;
  let cursor = ((sessionSeq++ * 7919 + process.pid * 31) * samplesPerFrame) % (samples.length - samplesPerFrame);
  cursor -= cursor % samplesPerFrame;
  const stats = {
    sessionId,
    pid: process.pid,
    startedAt: Date.now(),
    updatedAt: Date.now(),
    framesPushed: 0,
    inferences: 0,
    speechStarts: 0,
    speechEnds: 0,
    /** Audio handed to the VAD, and audio the VAD has run inference over, in ms. */
    audioPushedMs: 0,
    audioInferredMs: 0,
    /** The latest a frame was pushed after its real-time due moment, in ms. */
    maxPushLateMs: 0,
    stopped: false,
    error: undefined,
  };
  const file = join(statsDir, `session-${String(sessionId).replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  function report() {
    stats.updatedAt = Date.now();
    try {
      writeJsonAtomic(file, stats);
    } catch {
      // The orchestrator may already have removed the folder at teardown.
    }
  }
  const stream = vad.stream();
  let controller;
  stream.updateInputStream(new ReadableStream({ start: (c) => void (controller = c) }));

  const consumed = (async () => {
    for await (const event of stream) {
      if (event.type === VADEventType.INFERENCE_DONE) {
        stats.inferences++;
        stats.audioInferredMs = event.timestamp;
        // Tell the orchestrator at once that this session is live (it waits for that).
        if (stats.inferences === 1) report();
      } else if (event.type === VADEventType.START_OF_SPEECH) stats.speechStarts++;
      else if (event.type === VADEventType.END_OF_SPEECH) stats.speechEnds++;
    }
  })().catch((error) => {
    stats.error = error instanceof Error ? error.message : String(error);
  });

  const origin = performance.now();
  let stopped = false;
  let timer;
  const pump = () => {
    if (stopped) return;
    const now = performance.now();
    const due = Math.floor((now - origin) / frameMs) + 1;
    if (due > stats.framesPushed) stats.maxPushLateMs = Math.max(stats.maxPushLateMs, now - (origin + stats.framesPushed * frameMs));
    while (stats.framesPushed < due) {
      if (cursor + samplesPerFrame > samples.length) cursor = 0;
      // A copy, as every frame of a real track is a fresh buffer.
      controller.enqueue(new AudioFrame(samples.slice(cursor, cursor + samplesPerFrame), SAMPLE_RATE, 1, samplesPerFrame));
      cursor += samplesPerFrame;
      stats.framesPushed++;
    }
    stats.audioPushedMs = stats.framesPushed * frameMs;
    timer = setTimeout(pump, Math.max(0, origin + stats.framesPushed * frameMs - performance.now()));
  };
  pump();

  const reporter = setInterval(report, 1000);
  reporter.unref();
  report();

  return {
    stats,
    async stop() {
      if (stopped) return stats;
      stopped = true;
      clearTimeout(timer);
      clearInterval(reporter);
      try {
        controller.close();
      } catch {
        // already closed
      }
      stream.close();
      await consumed;
      stats.stopped = true;
      report();
      return stats;
    },
  };
}

let lagProbe;

/**
 * Starts (once per process) an event-loop delay histogram. The orchestrator writes
 * `<statsDir>/window.json` with `{ id, startAt, endAt }` (epoch ms) for each steady-state
 * window; the probe resets its histogram when a window opens and writes
 * `<statsDir>/lag-<id>-<pid>.json` when it closes, so every process reports the same
 * window. Reported values are lag: the delay beyond the probe's own resolution.
 */
export function startLagProbe({ statsDir, label, resolutionMs = 10 }) {
  if (lagProbe) return lagProbe;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const windowFile = join(statsDir, 'window.json');
  let current;
  const reported = new Set();
  const tick = () => {
    let window;
    try {
      window = JSON.parse(readFileSync(windowFile, 'utf8'));
    } catch {
      return;
    }
    const now = Date.now();
    if (reported.has(window.id)) return;
    if (current?.id !== window.id) {
      // A process that starts mid-window reports only what it saw; it is still the same window.
      if (now < window.startAt) return;
      histogram.reset();
      current = window;
    }
    if (now >= window.endAt) {
      reported.add(window.id);
      current = undefined;
      // Node records the whole interval between the probe's timer ticks, which includes the
      // resolution itself (p50 of an idle loop reads ~resolution): the lag is what exceeds it.
      const ms = (ns) => Math.max(0, ns / 1e6 - resolutionMs);
      writeJsonAtomic(join(statsDir, `lag-${window.id}-${process.pid}.json`), {
        pid: process.pid,
        label,
        window: window.id,
        resolutionMs,
        samples: histogram.count,
        rawP99Ms: histogram.percentile(99) / 1e6,
        meanMs: ms(histogram.mean),
        p50Ms: ms(histogram.percentile(50)),
        p99Ms: ms(histogram.percentile(99)),
        maxMs: ms(histogram.max),
      });
    }
  };
  const timer = setInterval(tick, 200);
  timer.unref();
  lagProbe = { histogram };
  return lagProbe;
}
