import { initializeLogger, loggerOptions } from '@livekit/agents';
import type { Logger } from 'pino';

// agents-js keeps its logger in this process-wide slot; `log()` reads it on every call.
const AGENTS_LOGGER_KEY = Symbol.for('@livekit/agents:logger');

type AgentsLoggerSlot = { [AGENTS_LOGGER_KEY]?: unknown };

export interface BindAgentsLoggerOptions {
  /** Added to every agents-js record so its lines can be told from openrtc's. Default 'livekit-agents'. */
  component?: string;
}

/**
 * Makes agents-js log through an openrtc logger: its records then carry the session's
 * tenant, agent, job and trace ids, pass the same redaction, and reach the same
 * destination and OTLP export as openrtc's own.
 *
 * agents-js keeps its logger in the global `Symbol.for('@livekit/agents:logger')` slot
 * and reads it through `log()` at every call site; the slot is a deliberate process-wide
 * singleton (it survives duplicate package copies). Putting a child of our logger there is
 * the one seam that needs no private field: agents-js bundles its own pino 8, whose
 * mixin lives under a module-private symbol, so a mixin cannot be added to the logger
 * agents-js built. `initializeLogger()` runs first when agents-js has not initialised its
 * logger, because agents-js reads `loggerOptions()` too. Call this once at worker start,
 * after anything else that calls `initializeLogger()` (which would put its own logger back).
 * Returns a function that restores the previous logger.
 */
export function bindAgentsLogger(logger: Logger, options: BindAgentsLoggerOptions = {}): () => void {
  if (loggerOptions() === undefined) initializeLogger({ pretty: false, level: logger.level });
  const slot = globalThis as typeof globalThis & AgentsLoggerSlot;
  const previous = slot[AGENTS_LOGGER_KEY];
  const bound = logger.child({ component: options.component ?? 'livekit-agents' });
  slot[AGENTS_LOGGER_KEY] = bound;
  return () => {
    if (slot[AGENTS_LOGGER_KEY] === bound) slot[AGENTS_LOGGER_KEY] = previous;
  };
}
