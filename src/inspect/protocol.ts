import type { BreakerPolicy } from '../admission/breaker_policy.js';
import type { RuntimeSnapshot } from '../telemetry/runtime_snapshot.js';

/**
 * The inspector's wire protocol: one JSON object per line each way over a local Unix
 * socket. A request names the protocol version and a method; the answer carries the same
 * version and either a result or an error with a stable code. Fields may be added within
 * a version; a field that changes meaning or disappears bumps it.
 */
export const INSPECT_PROTOCOL_VERSION = 1;

/** A request line longer than this is refused: the inspector never buffers without bound. */
export const MAX_REQUEST_BYTES = 4096;

export type InspectMethod = 'hello' | 'state';

export interface InspectRequest {
  v: number;
  id?: number;
  method: InspectMethod;
}

export type InspectErrorCode = 'malformed_request' | 'request_too_large' | 'unsupported_version' | 'unknown_method' | 'internal_error';

export type InspectResponse =
  | { v: typeof INSPECT_PROTOCOL_VERSION; id: number | null; ok: true; result: unknown }
  | { v: typeof INSPECT_PROTOCOL_VERSION; id: number | null; ok: false; error: { code: InspectErrorCode; message: string } };

/** Where a session's provider object came from: the tenant's own, the agent's or pool's, or none. */
export type ProviderSource = 'tenant' | 'shared' | 'none';

/** One live session, as `top` shows it. No room names, participants or provider objects. */
export interface SessionRow {
  jobId: string;
  tenant: string;
  agent: string;
  /** Epoch ms when the session started. */
  startedAt: number;
  durationMs: number;
  /** agents-js's agent state (`listening`, `thinking`, `speaking`, ...), or `starting`. */
  state: string;
  /** User turns so far. */
  turns: number;
  /** From the end of the last user turn to the agent's reply, in ms; null before the first reply. */
  lastLatencyMs: number | null;
  providers: { stt: ProviderSource; llm: ProviderSource; tts: ProviderSource };
}

export interface WorkerInfo {
  pid: number;
  /** Null until registered with the LiveKit server. */
  workerId: string | null;
  openrtcVersion: string;
  deploymentVersion: string;
  /** The load last reported to the server, 0..1. */
  load: number;
  draining: boolean;
  metricsUrl: string | null;
  /** The socket this state came from. */
  socket: string;
}

/** What `state` returns. */
export interface InspectorState {
  worker: WorkerInfo;
  snapshot: RuntimeSnapshot;
  sessions: SessionRow[];
  breakerPolicy: BreakerPolicy | null;
  /** Refused calls per tenant within the last 60 s. */
  refusalsLastMinute: Record<string, number>;
}

export interface HelloResult {
  protocol: typeof INSPECT_PROTOCOL_VERSION;
  pid: number;
  openrtcVersion: string;
}

export function errorResponse(id: number | null, code: InspectErrorCode, message: string): InspectResponse {
  return { v: INSPECT_PROTOCOL_VERSION, id, ok: false, error: { code, message } };
}

/** Reads one request line; every way it can be wrong is an error answer, never a throw. */
export function parseRequest(line: string): InspectRequest | InspectResponse {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return errorResponse(null, 'malformed_request', 'the request is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return errorResponse(null, 'malformed_request', 'the request must be a JSON object');
  const request = value as Record<string, unknown>;
  const id = typeof request.id === 'number' && Number.isSafeInteger(request.id) ? request.id : null;
  if (request.v !== INSPECT_PROTOCOL_VERSION) {
    return errorResponse(id, 'unsupported_version', `this worker speaks inspector protocol ${INSPECT_PROTOCOL_VERSION}`);
  }
  if (request.method !== 'hello' && request.method !== 'state') return errorResponse(id, 'unknown_method', 'method must be "hello" or "state"');
  return { v: INSPECT_PROTOCOL_VERSION, method: request.method, ...(id === null ? {} : { id }) };
}

export function isResponse(value: InspectRequest | InspectResponse): value is InspectResponse {
  return 'ok' in value;
}
