// What `pool.run()` / `pool.start()` take, and how the parts that need the environment
// (the LiveKit url and keys, the metrics port) are resolved from it.
import type { JobProcess } from '@livekit/agents';
import type { Logger } from 'pino';
import { OpenRtcError, invalidOption } from '../errors.js';
import type { RedisOption } from '../fleet/fleet_stores.js';
import type { InspectOptions } from '../inspect/worker_inspector.js';
import type { RoomTransport } from '../session/room_transport.js';
import type { SessionTimeouts } from '../session/session_runner.js';
import type { LoggerOptions } from '../telemetry/logger.js';
import type { OpenRtcTelemetry, TelemetryOptions } from '../telemetry/setup.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { secretScrubber } from '../util/secret_scrubber.js';
import type { JobEndStatus, JobHandler } from './job_handler.js';
import type { LoadLimits } from './load_monitor.js';

/** What the worker needs from its connection to the LiveKit server. */
export interface DispatchConnection {
  /** Connects and registers; resolves once registered. */
  start(): Promise<void>;
  /**
   * Sends the status now if it changed: an admission or a session end crossed the target
   * load, or a drain began (the job handler reports the worker full while the pool drains).
   */
  refreshStatus(): void;
  updateJobStatus(jobId: string, status: JobEndStatus, error?: string): void;
  close(): Promise<void>;
  readonly workerId: string | undefined;
}

export interface ConnectionSettings {
  url: string;
  apiKey: string;
  apiSecret: string;
  agentName: string;
  workerToken: string | undefined;
  version: string;
  /** Registered as `deployment`; jobs match it exactly. */
  deployment: string;
  availabilityTimeoutMs: number | undefined;
  livenessTimeoutMs: number | undefined;
}

export type ConnectionFactory = (handler: JobHandler, settings: ConnectionSettings) => DispatchConnection;

export interface RunOptions {
  /**
   * Share tenant caps and breaker state with every worker on one Redis: a URL, an ioredis
   * client, or fleet options. Default: env OPENRTC_REDIS_URL, else this worker alone.
   */
  redis?: RedisOption;
  /** LiveKit server url. Default: env LIVEKIT_URL. */
  url?: string;
  /** Default: env LIVEKIT_API_KEY. */
  apiKey?: string;
  /** Default: env LIVEKIT_API_SECRET. */
  apiSecret?: string;
  /** Explicit-dispatch agent name. Default: env LIVEKIT_AGENT_NAME or '' (automatic dispatch). */
  agentName?: string;
  /** LiveKit Cloud worker token. Default: env LIVEKIT_WORKER_TOKEN. */
  workerToken?: string;
  /** The deployment the worker registers for (as agents-js). Default: env LIVEKIT_AGENT_DEPLOYMENT or ''. */
  deployment?: string;
  /**
   * The LiveKit server's `agents.target_load` (default 0.7): it offers calls only to a
   * worker reporting a load below it. The worker scales its load so that it reaches this
   * exactly when the worker is full (its session cap, or its process busy: see
   * `loadLimits`); set it to what the server is configured with.
   */
  targetLoad?: number;
  /** The event-loop utilization, CPU and lag at which the worker counts itself full. */
  loadLimits?: LoadLimits;
  /** Every availability request is answered within this many ms (below LiveKit's 3 s). Default 2 000. */
  availabilityTimeoutMs?: number;
  /** A server socket silent this long is replaced, in ms; live calls go on. Default 15 000. */
  livenessTimeoutMs?: number;
  /** How sessions reach their room. Default: real rtc-node rooms. */
  transport?: RoomTransport;
  /** How long live sessions may run on after a drain starts, in ms. Default 1 800 000 (as agents-js). */
  drainTimeoutMs?: number;
  /**
   * Drain on SIGTERM/SIGINT, then exit 0; a second signal is logged, a third cancels the live
   * calls and exits at once (see `shutdown_signals.ts`). Default true.
   */
  handleSignals?: boolean;
  /** Runs once per worker before the first call, with the shared JobProcess (load models here). */
  prewarm?: (proc: JobProcess) => void | Promise<void>;
  sessionTimeouts?: Partial<SessionTimeouts>;
  /** Replaces the LiveKit worker connection (tests, custom transports). Default: `WorkerConnection`. */
  connection?: ConnectionFactory;
  /** Reports what background work cannot throw. Default: a warning in the log. */
  onDiagnostic?: (diagnostic: Diagnostic) => void;
  /**
   * Metrics (Prometheus `/metrics`, port 9464 by default) and traces. Give options, a
   * telemetry you started yourself with `startTelemetry`, or false for none.
   */
  telemetry?: TelemetryOptions | OpenRtcTelemetry | false;
  /** The worker's pino logger, or options for the one it makes; agents-js logs through it too. */
  logger?: Logger | LoggerOptions;
  /**
   * The inspector socket `openrtc top` reads (a Unix socket in a per-user 0700 folder).
   * Default on; false for none.
   */
  inspect?: InspectOptions | false;
  /**
   * Keep V8's allocation-site pretenuring (true), or turn it off when the worker starts
   * (false): a worker that starts many calls at once would otherwise carry tens of MiB of
   * dead audio frames between full collections (see `v8_pretenuring.ts`). Default: env
   * OPENRTC_V8_PRETENURING (`on` keeps it), else off. Naming the flag on node's command
   * line (`node --allocation-site-pretenuring ...`) wins over both.
   */
  v8Pretenuring?: boolean;
}

export interface DrainReport {
  /** Sessions that ended by themselves during the drain. */
  completed: number;
  /** Sessions still running at the timeout, cancelled. */
  cancelled: number;
}

/** livekit/livekit `agent.DefaultTargetLoad`. */
const DEFAULT_TARGET_LOAD = 0.7;

/** OPENRTC_METRICS_PORT picks the `/metrics` port when the options do not (0: any free port). */
export function metricsPortFromEnv(): number | undefined {
  const raw = process.env.OPENRTC_METRICS_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalidOption('OPENRTC_METRICS_PORT', 'must be a port number 0-65535', raw);
  return port;
}

export function isLogger(value: unknown): value is Logger {
  return typeof value === 'object' && value !== null && typeof (value as Logger).child === 'function' && typeof (value as Logger).info === 'function';
}

export function isTelemetry(value: unknown): value is OpenRtcTelemetry {
  return typeof value === 'object' && value !== null && typeof (value as OpenRtcTelemetry).attach === 'function';
}

export function resolveConnectionSettings(options: RunOptions, version: string): ConnectionSettings {
  const url = options.url ?? process.env.LIVEKIT_URL;
  const apiKey = options.apiKey ?? process.env.LIVEKIT_API_KEY;
  const apiSecret = options.apiSecret ?? process.env.LIVEKIT_API_SECRET;
  if (!url) throw new OpenRtcError('invalid_option', '`url` must be given (or LIVEKIT_URL set) to run the worker');
  if (!/^(https?|wss?):\/\//.test(url)) throw invalidOption('url', 'must start with http://, https://, ws:// or wss://', url);
  if (!apiKey) throw new OpenRtcError('invalid_option', '`apiKey` must be given (or LIVEKIT_API_KEY set) to run the worker');
  // The secret is never echoed back, not even in an error.
  if (!apiSecret) throw new OpenRtcError('invalid_option', '`apiSecret` must be given (or LIVEKIT_API_SECRET set) to run the worker');
  secretScrubber().addSecret(apiSecret);
  secretScrubber().addSecret(options.workerToken ?? process.env.LIVEKIT_WORKER_TOKEN);
  return {
    url,
    apiKey,
    apiSecret,
    agentName: options.agentName ?? process.env.LIVEKIT_AGENT_NAME ?? '',
    workerToken: options.workerToken ?? process.env.LIVEKIT_WORKER_TOKEN,
    version,
    deployment: options.deployment ?? process.env.LIVEKIT_AGENT_DEPLOYMENT ?? '',
    availabilityTimeoutMs: options.availabilityTimeoutMs,
    livenessTimeoutMs: options.livenessTimeoutMs,
  };
}

export function resolveTargetLoad(value: unknown): number {
  if (value === undefined) return DEFAULT_TARGET_LOAD;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw invalidOption('targetLoad', 'must be a number above 0 and at most 1', value);
  return value;
}
