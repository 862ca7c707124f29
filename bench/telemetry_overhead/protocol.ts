// Messages between the benchmark driver (which hosts the stand-in LiveKit server and the
// callers) and the worker process it measures.

export type Variant = 'on' | 'off';

/** Driver -> worker: count the next `sessions` session ends as one phase. */
export interface ArmMessage {
  type: 'arm';
  phase: 'warmup' | 'measured';
  sessions: number;
}

/** Driver -> worker: drain and exit. */
export interface StopMessage {
  type: 'stop';
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'armed'; phase: ArmMessage['phase'] }
  | { type: 'phase'; result: PhaseResult }
  | { type: 'error'; message: string };

export interface PhaseResult {
  phase: ArmMessage['phase'];
  variant: Variant;
  sessions: number;
  succeeded: number;
  /** process.cpuUsage() user + system of the worker process during the phase, in ms. */
  cpuMs: number;
  wallMs: number;
  /** Event loop delay p99 during the phase (monitorEventLoopDelay), in ms. */
  loopP99Ms: number;
}
