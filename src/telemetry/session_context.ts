import { asyncSlot } from '../util/async_slots.js';

/** Who a piece of agent code is running for. */
export interface SessionContext {
  tenant: string;
  agent: string;
  /** openrtc's id for this session (the LiveKit job id). */
  sessionId: string;
  jobId: string;
  roomName: string;
  /**
   * False when the trace policy left this call's agents-js spans out (openrtc's own spans
   * are recorded whatever it says); absent or true, they are recorded.
   */
  agentSpans?: boolean;
  /**
   * False when the trace policy left this call's agents-js log lines below `warn` out
   * (agents_logger.ts); absent or true, they are written.
   */
  agentLogs?: boolean;
}

// A slot of the process's one async store, shared with the provider scope and OpenTelemetry.
const storage = asyncSlot<SessionContext>();

/** Runs `fn` with `context` as the current session for everything it awaits. */
export function runWithSessionContext<T>(context: SessionContext, fn: () => T): T {
  return storage.run(Object.freeze({ ...context }), fn);
}

/** The current session, or undefined outside of one. */
export function getSessionContext(): SessionContext | undefined {
  return storage.get();
}

/** The current session's tenant; throws outside a session so a mistake is loud. */
export function currentTenant(): string {
  return requireContext('currentTenant').tenant;
}

/** The name of the agent serving the current session. */
export function currentAgentName(): string {
  return requireContext('currentAgentName').agent;
}

/** The current session's id. */
export function currentSessionId(): string {
  return requireContext('currentSessionId').sessionId;
}

function requireContext(accessor: string): SessionContext {
  const context = storage.get();
  if (!context) throw new Error(`${accessor}() was called outside an openrtc session`);
  return context;
}
