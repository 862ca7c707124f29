import { OpenRtcError, invalidOption } from '../errors.js';
import type { MetadataRecord } from '../tenancy/metadata.js';

/** The call a trace decision is taken for, as admission knows it. */
export interface TracedCall {
  tenant: string;
  agent: string;
  jobId: string;
  roomName: string;
}

/**
 * Which calls record agents-js's own detail: its spans (the agent session, each turn, each
 * model request) and, by default, its `info`, `debug` and `trace` log lines. openrtc's
 * admission and session spans, its per-call log lines and agents-js's warnings and errors
 * are recorded for every call either way; the head sampler (`OTEL_TRACES_SAMPLER`, or
 * `startTelemetry`'s `sampler`) still decides whether a call's trace is recorded at all.
 */
export interface TracePolicy {
  /**
   * Share of calls, 0 to 1, whose agents-js spans are recorded. Decided once per call at
   * admission, for the whole call. Default 0.01 (one call in a hundred): a call chosen
   * costs well over half again its CPU on text-only calls (see docs/telemetry.md).
   */
  agentSpanShare?: number;
  /**
   * Calls this returns true for record every span whatever the share (a tenant being
   * debugged, say). Job or room metadata `"trace": "full"` does the same for one call.
   */
  fullTrace?: (call: TracedCall) => boolean;
  /**
   * Which calls keep agents-js's log lines below `warn` (several per turn: "Creating speech
   * handle", "playout completed without interruption", ...). `'detailed'` (the default): only
   * the calls whose agents-js spans are recorded (the share, `fullTrace`, `"trace": "full"`);
   * the others still log agents-js's warnings and errors, and openrtc's own
   * `session_started` and `session_ended` lines. `'all'`: every call, as `agents start` does.
   * The logger's level applies on top of either. On the text-only benchmark those lines were
   * about half of what telemetry's own code costs (docs/telemetry.md).
   */
  agentLogs?: AgentLogsPolicy;
}

export type AgentLogsPolicy = 'detailed' | 'all';

export const DEFAULT_AGENT_SPAN_SHARE = 0.01;
export const DEFAULT_AGENT_LOGS: AgentLogsPolicy = 'detailed';
const AGENT_LOGS_POLICIES: readonly AgentLogsPolicy[] = ['detailed', 'all'];
const POLICY_FIELDS = ['agentSpanShare', 'fullTrace', 'agentLogs'];

/** The metadata key and value that ask for every span of one call. */
export const FULL_TRACE_METADATA_KEY = 'trace';
export const FULL_TRACE_METADATA_VALUE = 'full';

export interface ResolvedTracePolicy {
  agentSpanShare: number;
  fullTrace: ((call: TracedCall) => boolean) | undefined;
  agentLogs: AgentLogsPolicy;
}

export function resolveTracePolicy(given: TracePolicy | undefined, option = 'tracing'): ResolvedTracePolicy {
  // No policy is the empty one: every field takes its default below.
  const policy = given ?? {};
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw invalidOption(option, 'must be an object with `agentSpanShare`, `fullTrace` and/or `agentLogs`', policy);
  }
  for (const key of Object.keys(policy)) {
    if (!POLICY_FIELDS.includes(key)) {
      throw new OpenRtcError('invalid_option', `\`${option}.${key}\` is not a trace policy field (known: ${POLICY_FIELDS.join(', ')})`);
    }
  }
  const { agentSpanShare = DEFAULT_AGENT_SPAN_SHARE, fullTrace, agentLogs = DEFAULT_AGENT_LOGS } = policy;
  if (typeof agentSpanShare !== 'number' || !(agentSpanShare >= 0 && agentSpanShare <= 1)) {
    throw invalidOption(`${option}.agentSpanShare`, 'must be a number from 0 to 1', agentSpanShare);
  }
  if (fullTrace !== undefined && typeof fullTrace !== 'function') {
    throw invalidOption(`${option}.fullTrace`, 'must be a function (call) => boolean', fullTrace);
  }
  if (!AGENT_LOGS_POLICIES.includes(agentLogs)) {
    throw invalidOption(`${option}.agentLogs`, `must be one of ${AGENT_LOGS_POLICIES.map((p) => `'${p}'`).join(', ')}`, agentLogs);
  }
  return { agentSpanShare, fullTrace, agentLogs };
}

/** Whether a call keeps agents-js's log lines below `warn`, given whether its spans are recorded. */
export function keepsAgentDetailLogs(policy: ResolvedTracePolicy, agentSpans: boolean): boolean {
  return agentSpans || policy.agentLogs === 'all';
}

/**
 * Whether a call records agents-js's spans. The share is applied by a hash of the job id,
 * not a random draw: the same job always gets the same answer (LiveKit may ask twice), and
 * which calls were chosen can be reproduced. A `fullTrace` callback that throws counts as
 * no: a telemetry choice never refuses a call.
 */
export function recordsAgentSpans(
  policy: ResolvedTracePolicy,
  call: TracedCall,
  jobMetadata: MetadataRecord,
  roomMetadata: MetadataRecord,
): boolean {
  if (jobMetadata[FULL_TRACE_METADATA_KEY] === FULL_TRACE_METADATA_VALUE) return true;
  if (roomMetadata[FULL_TRACE_METADATA_KEY] === FULL_TRACE_METADATA_VALUE) return true;
  if (policy.fullTrace !== undefined) {
    try {
      if (policy.fullTrace(call) === true) return true;
    } catch {
      // Fall through to the share.
    }
  }
  if (policy.agentSpanShare >= 1) return true;
  if (policy.agentSpanShare <= 0) return false;
  return shareOf(call.jobId) < policy.agentSpanShare;
}

/**
 * Maps a job id evenly onto [0, 1): FNV-1a over its characters, then murmur3's finalizer,
 * without which ids that differ only in their last character (sequential ids) would land
 * close together.
 */
export function shareOf(jobId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}
