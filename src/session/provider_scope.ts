import { EventEmitter } from 'node:events';
import { VAD } from '@livekit/agents';
import { type PerSessionSilero, perSessionSilero } from './shared_silero.js';
import { asyncSlot } from '../util/async_slots.js';

/**
 * The events agents-js emits on a provider object (LLM, STT, TTS, VAD) on behalf of one
 * request: a stream made by `llm.chat()`, `stt.stream()`, `tts.synthesize()` or
 * `vad.stream()` calls `provider.emit(...)` on the object that made it.
 */
const SCOPED_EVENTS = ['error', 'metrics_collected'] as const;

/** The EventEmitter methods a session view answers from its own emitter. */
const EMITTER_METHODS: ReadonlySet<PropertyKey> = new Set([
  'on', 'once', 'off', 'addListener', 'removeListener', 'prependListener', 'prependOnceListener',
  'emit', 'listeners', 'rawListeners', 'listenerCount', 'removeAllListeners', 'eventNames',
  'setMaxListeners', 'getMaxListeners',
]);

type Listener = (...args: unknown[]) => void;

/** One shared provider object while at least one session uses it. */
interface SharedProvider {
  users: number;
  forwarders: Map<string, Listener>;
}

const currentScope = asyncSlot<ProviderScope>();
/** Each view's shared object, so code can tell which object a session really uses. */
const viewTargets = new WeakMap<object, object>();
const sharedProviders = new WeakMap<object, SharedProvider>();

/** A VAD stream as far as releasing it goes; Silero's also has `updateOptions`. */
interface ReleasableStream {
  close?: () => unknown;
  updateOptions?: (options: Record<string, unknown>) => unknown;
}

/**
 * What one session may see of the provider objects it shares with other sessions.
 *
 * agents-js reports a request's errors and usage by emitting `error` and
 * `metrics_collected` on the provider object itself, and every `AgentActivity` using that
 * object listens on it. In one process hosting many calls, a shared object would hand
 * one call's unrecoverable error (and its token counts) to every call using it. So each
 * session gets a *view* of each provider: a Proxy that answers every property from the
 * shared object (methods bound to it, so plugins' private fields still work and requests
 * still go through the one client) but has an EventEmitter of its own. agents-js listens
 * on the view. The shared object gets one forwarding listener per event while any
 * session uses it; the forwarder hands each event to the view of the session whose async
 * context emitted it (the stream that emits runs in the context of the session that made
 * the request), and to no other.
 *
 * Whatever agents-js attaches to a view (its activity's listeners, a `StreamAdapter`'s
 * forwarding listeners, which it never removes) dies with the view. `close()` at the end
 * of the session drops the view's listeners, removes the forwarders once the last session
 * using an object ends, and releases the VAD streams the session made.
 */
export class ProviderScope {
  private readonly views = new Map<object, { view: object; emitter: EventEmitter }>();
  private readonly vadStreams: ReleasableStream[] = [];
  /** The session's own VADs standing in for shared Silero objects, by shared object. */
  private readonly ownVads = new Map<object, { vad: VAD; from: PerSessionSilero }>();
  private closed = false;

  /** Runs `fn` (and everything it starts) as this session's provider work. */
  run<T>(fn: () => T): T {
    return currentScope.run(this, fn);
  }

  /** This session's view of a provider object; the same view for the same object. */
  view<T extends object>(provider: T): T {
    if (this.closed) throw new Error('the session has ended: its provider scope is closed');
    const existing = this.views.get(provider);
    if (existing) return existing.view as T;
    const emitter = new EventEmitter();
    // A session's own listeners are few, but agents-js adds one StreamAdapter per speech
    // node on a non-streaming STT; the view ends with the session, so no warning is due.
    emitter.setMaxListeners(0);
    const view = makeView(provider, emitter, provider instanceof VAD ? () => this.vadStream(provider, emitter) : undefined);
    viewTargets.set(view, provider);
    this.views.set(provider, { view, emitter });
    acquire(provider);
    return view;
  }

  /**
   * A VAD stream for this session: from a VAD of its own when the shared object is Silero
   * (shared_silero.ts), else from the shared object. Either way it is closed with the scope.
   */
  private vadStream(shared: VAD, emitter: EventEmitter): ReleasableStream {
    let own = this.ownVads.get(shared);
    const from = own?.from ?? perSessionSilero(shared);
    if (!own && from) {
      own = { vad: from.create(), from };
      // The VAD is this session's alone: its events are this session's.
      for (const event of SCOPED_EVENTS) {
        own.vad.on(event as 'metrics_collected', (...args: unknown[]) => {
          if (event !== 'error' || emitter.listenerCount('error') > 0) emitter.emit(event, ...args);
        });
      }
      this.ownVads.set(shared, own);
    }
    const stream = (own ? own.vad.stream() : shared.stream()) as unknown as ReleasableStream;
    this.vadStreams.push(stream);
    return stream;
  }

  /** The emitter behind this session's view of `provider`, if it has one. */
  emitterFor(provider: object): EventEmitter | undefined {
    return this.views.get(provider)?.emitter;
  }

  /** Ends the session's use of every provider it viewed. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [provider, { emitter }] of this.views) {
      emitter.removeAllListeners();
      release(provider);
    }
    this.views.clear();
    for (const stream of this.vadStreams.splice(0)) releaseVadStream(stream);
    for (const { vad, from } of this.ownVads.values()) {
      vad.removeAllListeners();
      from.release(vad);
    }
    this.ownVads.clear();
  }
}

/** The shared provider object behind a session's view; any other value is returned as is. */
export function providerBehind<T>(value: T): T {
  return typeof value === 'object' && value !== null ? ((viewTargets.get(value) as T | undefined) ?? value) : value;
}

/** How many forwarding listeners openrtc holds on `provider` now (0 when no session uses it). */
export function scopedForwarderCount(provider: object): number {
  return sharedProviders.get(provider)?.forwarders.size ?? 0;
}

function makeView<T extends object>(provider: T, emitter: EventEmitter, vadStream: (() => ReleasableStream) | undefined): T {
  const bound = new Map<PropertyKey, { source: unknown; fn: unknown }>();
  return new Proxy(provider, {
    get(target, property) {
      if (EMITTER_METHODS.has(property)) return bindCached(bound, property, Reflect.get(emitter, property), emitter);
      const value: unknown = Reflect.get(target, property, target);
      if (vadStream && property === 'stream' && typeof value === 'function') return bindCached(bound, property, vadStream, target);
      if (typeof value !== 'function' || property === 'constructor') return value;
      // Bound to the shared object: plugins keep their state (clients, keys) in private
      // fields, which a method called on the Proxy could not read.
      return bindCached(bound, property, value, target);
    },
    set(target, property, value) {
      return Reflect.set(target, property, value, target);
    },
  });
}

/** A stable bound function per property, so `view.fn === view.fn` as code may expect. */
function bindCached(cache: Map<PropertyKey, { source: unknown; fn: unknown }>, property: PropertyKey, source: unknown, self: object): unknown {
  const hit = cache.get(property);
  if (hit && hit.source === source) return hit.fn;
  const fn = (source as (...args: unknown[]) => unknown).bind(self);
  cache.set(property, { source, fn });
  return fn;
}

function acquire(provider: object): void {
  let shared = sharedProviders.get(provider);
  if (!shared) {
    shared = { users: 0, forwarders: new Map() };
    sharedProviders.set(provider, shared);
  }
  shared.users++;
  if (shared.forwarders.size > 0 || !isEmitter(provider)) return;
  for (const event of SCOPED_EVENTS) {
    const forward: Listener = (...args) => {
      // The session whose request emitted this; events of no session go nowhere.
      const emitter = currentScope.get()?.emitterFor(provider);
      if (!emitter) return;
      // An `error` nobody listens for would throw inside agents-js's stream.
      if (event === 'error' && emitter.listenerCount('error') === 0) return;
      try {
        emitter.emit(event, ...args);
      } catch (error: unknown) {
        // agents-js's TTS StreamAdapter re-emits a provider error on itself, where nobody
        // listens (the activity listens on the provider): Node then throws. The activity has
        // had the error already; the throw would only break the stream reporting it.
        if ((error as { code?: unknown } | null)?.code !== 'ERR_UNHANDLED_ERROR') throw error;
      }
    };
    shared.forwarders.set(event, forward);
    provider.on(event, forward);
  }
}

function release(provider: object): void {
  const shared = sharedProviders.get(provider);
  if (!shared) return;
  shared.users--;
  if (shared.users > 0) return;
  if (isEmitter(provider)) {
    for (const [event, forward] of shared.forwarders) provider.off(event, forward);
  }
  sharedProviders.delete(provider);
}

/**
 * Closes a VAD stream the session made. A stream of the session's own Silero VAD goes with
 * it. One made by a shared Silero object (only while that object's per-session VADs are
 * not ready yet, see shared_silero.ts) stays in Silero's private list: its speech buffer is
 * shrunk to nothing, but it still holds the session it served until the process ends.
 */
function releaseVadStream(stream: ReleasableStream): void {
  try {
    const closing: unknown = stream.close?.();
    if (closing instanceof Promise) closing.catch(() => undefined);
  } catch {
    // Already closed, or closing failed: either way the session is over.
  }
  try {
    stream.updateOptions?.({ maxBufferedSpeech: 0, prefixPaddingDuration: 0 });
  } catch {
    // Not a Silero stream; closing it was all there was to do.
  }
}

function isEmitter(value: object): value is EventEmitter {
  return typeof (value as { on?: unknown }).on === 'function' && typeof (value as { off?: unknown }).off === 'function';
}
