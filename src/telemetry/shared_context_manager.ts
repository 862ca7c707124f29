import { type Context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { asyncSlot } from '../util/async_slots.js';

const activeContext = asyncSlot<Context>();

/**
 * OpenTelemetry's context manager, keeping the active context in a slot of openrtc's one
 * async store (util/async_slots.ts) instead of an AsyncLocalStorage of its own. The SDK's
 * default manager adds a third store beside the session's identity and provider scope,
 * and with it a third copy per promise: in the telemetry benchmark that bookkeeping was
 * the largest single cost telemetry added (more than any span or log function).
 *
 * Binding functions and event emitters is the SDK's own code (inherited); it goes through
 * `with` and `active` below. `disable` leaves the store alone: the session slots in it
 * must keep working after telemetry shuts down.
 */
export class SharedContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    return activeContext.get() ?? ROOT_CONTEXT;
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg == null ? fn : (fn.bind(thisArg) as F);
    return activeContext.run(context, callback, ...args);
  }

  override enable(): this {
    return this;
  }

  override disable(): this {
    return this;
  }
}
