// V8's allocation-site pretenuring, turned off in a worker process unless asked to keep it.
//
// Why: V8 watches each allocation site (an object or array literal, a `new` in a hot
// function) at every young-generation collection. When nearly all of a site's objects
// were still alive at one collection, it decides to allocate that site's later objects
// straight into the old generation, which only a full collection empties. A worker that
// starts ten calls at once has exactly such a moment: every call's audio frames,
// inference buffers and events are briefly alive together. Measured in
// `bench/density` (ten Silero sessions, one process, telemetry on): in four runs of six
// the per-frame sites were pretenured, and the process then carried 40-80 MiB of dead
// frames between full collections (PSS climbing from about 150 to 225 MiB every ~35 s,
// settling near 196); with pretenuring off, six runs of six stayed flat at 150-163 MiB.
// An agents-js job process hosts one call, never sees that burst, and stays flat either
// way. The cost is that objects which do live long are copied once more before they
// reach the old generation.
//
// The flag is read by V8 at every collection, so setting it when the worker starts (before
// its first call) takes effect for everything after. Node documents setting V8 flags after
// start-up as unsupported in general; this one is a GC policy switch with no state of
// its own.
import { setFlagsFromString } from 'node:v8';
import { invalidOption } from '../errors.js';

const FLAG = 'allocation-site-pretenuring';

export interface PretenuringDecision {
  /** Whether the worker turns pretenuring off (false: V8's setting is left as it is). */
  turnOff: boolean;
  /** Why, for the worker's start-up log. */
  reason: 'default' | 'option' | 'env' | 'node flag';
}

/** Set to `on` to keep V8's pretenuring, `off` for the default, where the code gives no option. */
export const PRETENURING_ENV = 'OPENRTC_V8_PRETENURING';

/**
 * Decides from the `v8Pretenuring` run option, else OPENRTC_V8_PRETENURING, and the
 * process's own Node flags. An operator who named the flag either way on node's command line
 * (`node --allocation-site-pretenuring ...`; Node refuses V8 flags in NODE_OPTIONS) has
 * chosen, and the worker leaves it alone.
 */
export function decidePretenuring(option: unknown, execArgv: readonly string[], envValue: string | undefined): PretenuringDecision {
  if (option !== undefined && typeof option !== 'boolean') throw invalidOption('v8Pretenuring', 'must be true (keep V8\'s pretenuring) or false', option);
  const fromEnv = envValue === undefined || envValue === '' ? undefined : envValue.toLowerCase();
  if (fromEnv !== undefined && fromEnv !== 'on' && fromEnv !== 'off') throw invalidOption(PRETENURING_ENV, 'must be on (keep V8\'s pretenuring) or off', envValue);
  if (execArgv.some((flag) => namesPretenuring(flag))) return { turnOff: false, reason: 'node flag' };
  if (option !== undefined) return { turnOff: !option, reason: 'option' };
  if (fromEnv !== undefined) return { turnOff: fromEnv === 'off', reason: 'env' };
  return { turnOff: true, reason: 'default' };
}

/** `--allocation-site-pretenuring`, `--no-allocation-site-pretenuring`, with `_` or `-`, `=value` or not. */
function namesPretenuring(flag: string): boolean {
  const name = flag.replace(/^--/, '').split('=')[0]?.replaceAll('_', '-');
  return name === FLAG || name === `no-${FLAG}`;
}

/** Applies a decision to this process (once the worker starts, before its first call). */
export function applyPretenuring(decision: PretenuringDecision): void {
  if (decision.turnOff) setFlagsFromString(`--no-${FLAG}`);
}
