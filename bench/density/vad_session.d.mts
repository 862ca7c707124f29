// Types for vad_session.mjs (plain JavaScript so agents-js job processes need no TS loader).
import type { IntervalHistogram } from 'node:perf_hooks';
import type { VAD } from '@livekit/agents';

export interface BenchSettings {
  statsDir: string;
  frameMs: 10 | 20;
}

export declare function benchSettings(): BenchSettings;

/** What a session reports in `<statsDir>/session-<id>.json`. */
export interface VadSessionStats {
  sessionId: string;
  pid: number;
  startedAt: number;
  updatedAt: number;
  framesPushed: number;
  inferences: number;
  speechStarts: number;
  speechEnds: number;
  audioPushedMs: number;
  audioInferredMs: number;
  maxPushLateMs: number;
  stopped: boolean;
  error: string | undefined;
}

export interface VadSession {
  readonly stats: VadSessionStats;
  stop(): Promise<VadSessionStats>;
}

export declare function startVadSession(vad: VAD, options: { sessionId: string; statsDir: string; frameMs: number }): VadSession;

/** What a process reports in `<statsDir>/lag-<window id>-<pid>.json` for a steady-state window. */
export interface ProcessLagReport {
  pid: number;
  label: string;
  window: string;
  resolutionMs: number;
  samples: number;
  /** The histogram's own p99, which includes the resolution. */
  rawP99Ms: number;
  /** These are lag: what the probe's ticks came late beyond their resolution. */
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The window the orchestrator writes to `<statsDir>/window.json`, epoch ms. */
export interface MeasurementWindow {
  id: string;
  startAt: number;
  endAt: number;
}

export declare function startLagProbe(options: { statsDir: string; label: string; resolutionMs?: number }): { histogram: IntervalHistogram };
