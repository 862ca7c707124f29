import { initializeLogger, loggerOptions } from '@livekit/agents';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { getSessionContext } from './session_context.js';

// agents-js keeps its logger in this process-wide slot; `log()` reads it on every call.
const AGENTS_LOGGER_KEY = Symbol.for('@livekit/agents:logger');

type AgentsLoggerSlot = { [AGENTS_LOGGER_KEY]?: unknown };

/** The levels below `warn`: per-turn detail that the trace policy may leave out of a call. */
const DETAIL_LEVELS = ['info', 'debug', 'trace'] as const;

export interface BindAgentsLoggerOptions {
  /** Added to every agents-js record so its lines can be told from openrtc's. Default 'livekit-agents'. */
  component?: string;
}

/**
 * Makes agents-js log through an openrtc logger: its records then carry the session's
 * tenant, agent, job and trace ids, pass the same redaction, and reach the same
 * destination and OTLP export as openrtc's own. Inside a call whose session context says
 * `agentLogs: false` (the pool's trace policy, `agentLogs: 'detailed'`), agents-js's
 * records below `warn` are dropped before pino does any work for them; its warnings and
 * errors always go through.
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
  const bound = gateDetail(logger.child({ component: options.component ?? 'livekit-agents' }));
  slot[AGENTS_LOGGER_KEY] = bound;
  return () => {
    if (slot[AGENTS_LOGGER_KEY] === bound) slot[AGENTS_LOGGER_KEY] = previous;
  };
}

/** Whether the code running now belongs to a call whose agents-js detail lines are left out. */
function detailLinesLeftOut(): boolean {
  return getSessionContext()?.agentLogs === false;
}

/**
 * The logger agents-js sees: `logger` itself for everything (levels, bindings, `warn` and
 * above) except the methods below `warn`, which first ask the session context, and `child`,
 * whose children are gated the same way. agents-js makes its children once per object
 * (session, activity, stream), often before any call, so the question is asked per record,
 * not per child. Built on `logger` as its prototype, the way pino builds its own children.
 */
function gateDetail(logger: Logger): Logger {
  const gated = Object.create(logger) as Logger;
  for (const level of DETAIL_LEVELS) {
    gated[level] = function gatedDetail(...args: unknown[]): void {
      if (detailLinesLeftOut()) return;
      // Looked up per record: a level change on `logger` swaps its methods.
      Reflect.apply(logger[level], logger, args);
    };
  }
  const child = (bindings: Bindings, options?: ChildLoggerOptions): Logger => gateDetail(logger.child(bindings, options));
  gated.child = child as unknown as Logger['child'];
  // pino's level setter rewrites the level methods of the object it is called on: set on
  // this one, it would replace the gates above; the level belongs to `logger`.
  Object.defineProperty(gated, 'level', {
    get: () => logger.level,
    set: (level: string) => {
      logger.level = level;
    },
  });
  return gated;
}
