import type { ServerInfo } from '@livekit/protocol';
import { invalidOption } from '../errors.js';
import { type Clock, systemClock } from '../util/clock.js';
import { type BackoffOptions, validateBackoff } from '../util/backoff.js';
import type { JobHandler } from './job_handler.js';
import { toWebSocketBase } from './protocol_codec.js';

/** Trouble in background work (reconnects, handler callbacks), reported instead of thrown. */
export interface WorkerDiagnostic {
  kind:
    | 'connect_failed'
    | 'socket_error'
    | 'protocol_error'
    | 'handler_error'
    | 'send_failed'
    /** An availability answer was not ready within `availabilityTimeoutMs`; "unavailable" went out instead. */
    | 'availability_timeout'
    /** Nothing came from the server within `livenessTimeoutMs`; the socket was cut to reconnect. */
    | 'liveness_timeout';
  message: string;
  error?: unknown;
}

export interface WorkerConnectionOptions {
  /** The LiveKit server: http(s) or ws(s). The worker endpoint is `<url>/agent`. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Name for explicit dispatch; '' registers for automatic dispatch. */
  agentName?: string;
  /** The worker version string sent at registration. */
  version: string;
  /** Decides availability and hosts the assigned jobs. */
  handler: JobHandler;
  /** LiveKit Cloud's worker token, sent as `?worker_token=`. */
  workerToken?: string;
  /** How often load and status are reported, in ms. */
  updateIntervalMs?: number;
  /** Reconnect backoff after the socket is lost. */
  reconnect?: Partial<BackoffOptions>;
  /** How long the server may take to answer `register`, in ms. */
  registerTimeoutMs?: number;
  /**
   * Every availability request is answered within this many ms: when the handler has not
   * decided by then, "unavailable" goes out and a later accept is released. LiveKit gives
   * the whole job request 3 s (psrpc's client timeout, server selection included), so this
   * must stay below 3 000. Default 2 000.
   */
  availabilityTimeoutMs?: number;
  /**
   * A registered socket on which nothing (message, ping or pong) arrived for this many ms is
   * cut and replaced. The worker pings every third of it; LiveKit pings every 10 s. Default 15 000.
   */
  livenessTimeoutMs?: number;
  /** Registered as `deployment` (agents-js sends LIVEKIT_AGENT_DEPLOYMENT); jobs match it exactly. Default ''. */
  deployment?: string;
  clock?: Clock;
  /** Receives trouble from background work; the connection never throws from there. */
  onDiagnostic?: (event: WorkerDiagnostic) => void;
  /** Source of jitter for the backoff (tests pin it). */
  random?: () => number;
}

export interface ResolvedWorkerConnectionOptions {
  url: string;
  agentUrl: URL;
  apiKey: string;
  apiSecret: string;
  agentName: string;
  version: string;
  handler: JobHandler;
  workerToken: string | undefined;
  updateIntervalMs: number;
  reconnect: BackoffOptions;
  registerTimeoutMs: number;
  availabilityTimeoutMs: number;
  livenessTimeoutMs: number;
  deployment: string;
  clock: Clock;
  onDiagnostic: (event: WorkerDiagnostic) => void;
  random: () => number;
}

function requireString(name: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    throw invalidOption(name, allowEmpty ? 'must be a string' : 'must be a non-empty string', name.startsWith('api') ? typeof value : value);
  }
  return value;
}

function requirePositive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(name, 'must be a positive number of ms', value);
  }
  return value;
}

/** LiveKit abandons a job request after 3 s (psrpc `DefaultClientTimeout`), selection included. */
export const SERVER_REQUEST_TIMEOUT_MS = 3000;
export const DEFAULT_AVAILABILITY_TIMEOUT_MS = 2000;
export const DEFAULT_LIVENESS_TIMEOUT_MS = 15_000;

function requireAnswerDeadline(value: unknown): number {
  const ms = requirePositive('availabilityTimeoutMs', value, DEFAULT_AVAILABILITY_TIMEOUT_MS);
  if (ms >= SERVER_REQUEST_TIMEOUT_MS) {
    throw invalidOption('availabilityTimeoutMs', `must be below ${SERVER_REQUEST_TIMEOUT_MS} ms, when LiveKit stops waiting for the answer`, value);
  }
  return ms;
}

export function resolveWorkerConnectionOptions(options: WorkerConnectionOptions): ResolvedWorkerConnectionOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object', options);
  const url = requireString('url', options.url);
  let base: URL;
  try {
    base = toWebSocketBase(url);
  } catch {
    throw invalidOption('url', 'must be an http, https, ws or wss URL', url);
  }
  const agentUrl = new URL(`${base.toString().replace(/\/+$/, '')}/agent`);
  if (options.workerToken !== undefined) {
    requireString('workerToken', options.workerToken);
    agentUrl.searchParams.set('worker_token', options.workerToken);
  }
  const handler = options.handler;
  const handlerMethods = ['onAvailability', 'onAssignment', 'onTermination', 'load'] as const;
  if (typeof handler !== 'object' || handler === null || handlerMethods.some((m) => typeof handler[m] !== 'function')) {
    throw invalidOption('handler', `must be a JobHandler with ${handlerMethods.join(', ')}`, handler);
  }
  const release: unknown = (handler as { release?: unknown }).release;
  if (release !== undefined && typeof release !== 'function') throw invalidOption('handler.release', 'must be a function', release);
  if (options.onDiagnostic !== undefined && typeof options.onDiagnostic !== 'function') {
    throw invalidOption('onDiagnostic', 'must be a function', options.onDiagnostic);
  }
  return {
    url,
    agentUrl,
    apiKey: requireString('apiKey', options.apiKey),
    apiSecret: requireString('apiSecret', options.apiSecret),
    agentName: requireString('agentName', options.agentName ?? '', true),
    version: requireString('version', options.version),
    handler,
    workerToken: options.workerToken,
    updateIntervalMs: requirePositive('updateIntervalMs', options.updateIntervalMs, 2500),
    reconnect: validateBackoff(options.reconnect, 'reconnect'),
    registerTimeoutMs: requirePositive('registerTimeoutMs', options.registerTimeoutMs, 10_000),
    availabilityTimeoutMs: requireAnswerDeadline(options.availabilityTimeoutMs),
    livenessTimeoutMs: requirePositive('livenessTimeoutMs', options.livenessTimeoutMs, DEFAULT_LIVENESS_TIMEOUT_MS),
    deployment: requireString('deployment', options.deployment ?? '', true),
    clock: options.clock ?? systemClock,
    onDiagnostic: options.onDiagnostic ?? (() => undefined),
    random: options.random ?? Math.random,
  };
}

/** What a `WorkerConnection` tells its listeners. */
export interface WorkerConnectionEvents {
  registered: { workerId: string; serverInfo: ServerInfo | undefined; reconnected: boolean };
  disconnected: { code: number; reason: string };
  reconnecting: { attempt: number; delayMs: number };
}
