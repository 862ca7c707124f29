// Messages between the soak driver (run.ts) and the worker process it measures.

/** Listener counts of one shared provider object, summed over its event names. */
export interface ListenerCounts {
  /** Which object: `pool.llm`, `acme.tts`, ... */
  name: string;
  listeners: number;
  /** Forwarding listeners openrtc itself holds on it (0 when no session uses it). */
  forwarders: number;
}

export interface Measurement {
  /** Sessions that have ended in the worker so far. */
  sessionsEnded: number;
  succeeded: number;
  /** Sessions in which Silero heard the caller start speaking (VAD really ran). */
  sessionsWithSpeech: number;
  /** `process.memoryUsage()` after a full GC: V8 heap, and ArrayBuffers (audio buffers live there). */
  heapUsed: number;
  arrayBuffers: number;
  listeners: ListenerCounts[];
}

export type DriverMessage = { type: 'measure'; expectSessions: number } | { type: 'stop' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'measured'; measurement: Measurement }
  | { type: 'error'; message: string };
