import { AsyncResource } from 'node:async_hooks';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { VAD } from '@livekit/agents';

/**
 * Makes a Silero VAD *object* shared by many sessions safe in one long-lived process.
 *
 * Silero's `VAD` keeps every stream it ever made in a private list (for `updateOptions`)
 * that nothing outside the plugin can empty. In agents-js's process-per-job model that list
 * dies with the process; in a worker hosting every call it grows by one stream per call,
 * and a stream is not small: its inference task is a promise created inside the session,
 * and Node keeps the session's AsyncLocalStorage stores on such promises, so each stream in
 * the list holds the whole session it served (about 250 KB a call, measured by
 * `npm run bench:soak`).
 *
 * So sessions never ask the shared object for a stream. For each shared Silero object,
 * openrtc loads the plugin's model once more (one ONNX session, a few MB, once per shared
 * object) and gives each session its own small `VAD` over it, built with the shared
 * object's own class and current options; the session's VAD and its streams go with the
 * session. The options are followed through one probe stream of the shared object (made
 * outside any session), whose `updateOptions` Silero calls with the full options whenever
 * `updateOptions` is called on the shared object: later calls of it reach the VADs of live
 * sessions too, as they would reach the shared object's streams.
 *
 * Not a Silero object, a plugin that cannot be found next to openrtc, or a load that fails: `perSessionSilero` answers undefined and the caller keeps using
 * the shared object (see provider_scope.ts for what it then does to limit the damage).
 */
export interface PerSessionSilero {
  /** A VAD of the session's own, with the shared object's current options. */
  create(): VAD;
  /** The session is over: its VAD no longer follows the shared object's options. */
  release(vad: VAD): void;
}

interface SileroLike extends VAD {
  updateOptions(options: Record<string, unknown>): void;
}

type SileroClass = new (session: unknown, options: Record<string, unknown>) => VAD;

const loads = new WeakMap<object, Promise<PerSessionSilero | undefined>>();
const loaded = new WeakMap<object, PerSessionSilero>();
// Created when this module loads, outside any session: work on a shared object runs in
// it, so nothing it leaves behind carries (and keeps) a session's async context.
const outsideSessions = new AsyncResource('openrtc.SharedSilero');

export function isSileroVad(value: unknown): value is SileroLike {
  const v = value as { label?: unknown; stream?: unknown; updateOptions?: unknown } | null;
  return typeof v === 'object' && v !== null && v.label === 'silero.VAD' && typeof v.stream === 'function' && typeof v.updateOptions === 'function';
}

/** Per-session VADs for a shared Silero object, if they are ready; starts preparing them if not. */
export function perSessionSilero(vad: VAD): PerSessionSilero | undefined {
  const ready = loaded.get(vad);
  if (ready) return ready;
  void prepareSharedSilero(vad);
  return undefined;
}

/**
 * Prepares per-session VADs for a shared Silero object (once per object); resolves
 * undefined for anything else or when they cannot be made. The pool awaits this for its
 * default VAD before its worker takes calls.
 */
export function prepareSharedSilero(vad: unknown): Promise<PerSessionSilero | undefined> {
  if (!isSileroVad(vad)) return Promise.resolve(undefined);
  let load = loads.get(vad);
  if (!load) {
    load = outsideSessions.runInAsyncScope(() => prepare(vad)).catch(() => undefined);
    loads.set(vad, load);
  }
  return load;
}

async function prepare(vad: SileroLike): Promise<PerSessionSilero | undefined> {
  const live = new Set<SileroLike>();
  let options: Record<string, unknown> | undefined;
  followOptions(vad, (next) => {
    options = next;
    for (const own of live) own.updateOptions(next);
  });
  if (!options || (options.sampleRate !== 8000 && options.sampleRate !== 16_000)) return undefined;
  const model = await loadModel(vad.constructor, options.forceCPU !== false);
  if (model === undefined) return undefined;
  const Silero = vad.constructor as SileroClass;
  const perSession: PerSessionSilero = {
    create() {
      const own = new Silero(model, { ...options }) as SileroLike;
      live.add(own);
      return own;
    },
    release(own) {
      live.delete(own as SileroLike);
    },
  };
  loaded.set(vad, perSession);
  return perSession;
}

/**
 * Calls `onChange` with the shared object's full options now and whenever they change.
 * Silero's `updateOptions` passes its merged options to every stream in its list, so one
 * closed probe stream of ours in that list hears every change.
 */
function followOptions(vad: SileroLike, onChange: (options: Record<string, unknown>) => void): void {
  const probe = vad.stream() as unknown as { close(): unknown };
  Object.defineProperty(probe, 'updateOptions', {
    configurable: true,
    value: (options: Record<string, unknown>) => onChange({ ...options }),
  });
  const closing = probe.close();
  if (closing instanceof Promise) closing.catch(() => undefined);
  vad.updateOptions({});
}

/**
 * The model of the plugin that made `Silero`, in the onnxruntime that plugin uses (its
 * streams build their tensors with it). Only a plugin found next to openrtc whose `VAD` is
 * `Silero` itself is used (it is an optional peer dependency).
 */
async function loadModel(Silero: unknown, forceCPU: boolean): Promise<unknown> {
  const plugin = (await import('@livekit/agents-plugin-silero').catch(() => undefined)) as { VAD?: unknown } | undefined;
  if (plugin?.VAD !== Silero) return undefined;
  const entry = createRequire(import.meta.url).resolve('@livekit/agents-plugin-silero');
  const ort = createRequire(entry)('onnxruntime-node') as { InferenceSession: { create(file: string, options: object): Promise<unknown> } };
  return ort.InferenceSession.create(path.join(path.dirname(entry), 'silero_vad.onnx'), {
    interOpNumThreads: 1,
    intraOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: forceCPU ? [{ name: 'cpu' }] : undefined,
  });
}
