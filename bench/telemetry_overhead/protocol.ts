// Messages between the benchmark driver (which hosts the stand-in LiveKit server and the
// callers) and the worker process it measures.

/**
 * `on`: telemetry as shipped. `off`: no telemetry. `control`: configured exactly as `off`,
 * in its own process: the A/A control, whose difference from `off` is the noise floor.
 */
export type Variant = 'off' | 'on' | 'control';

/** Driver -> worker: count the next `sessions` session ends as one phase. */
export interface ArmMessage {
  type: 'arm';
  phase: 'warmup' | 'measured';
  sessions: number;
}

/** Driver -> worker: the scrape asked for by `flushed` is done (or there was none); report the phase. */
export interface ScrapedMessage {
  type: 'scraped';
}

/** Driver -> worker: drain and exit. */
export interface StopMessage {
  type: 'stop';
}

export type DriverMessage = ArmMessage | ScrapedMessage | StopMessage;

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'armed'; phase: ArmMessage['phase'] }
  /** Every session of the phase ended and spans are flushed; `metricsUrl` is scraped by the driver if set. */
  | { type: 'flushed'; metricsUrl: string | undefined }
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
  /**
   * Node built-in modules first loaded during the phase (`process.moduleLoadList`). Both
   * variants load everything before measuring, so this should be empty: a module that
   * only one side loads mid-phase is harness cost, not telemetry cost.
   */
  builtinsLoaded: string[];
}
