import { ServerMessage } from '@livekit/protocol';
import type { Clock } from '../util/clock.js';
import type { DispatchedCall } from './dispatched_call.js';
import type { AvailabilityRecord } from './dispatch_types.js';
import type { ServerWorker } from './server_worker.js';
import { nodeAffinity, pickWeightedByLoad } from './worker_selection.js';

/** What one worker did with an offer. */
export type AttemptOutcome =
  | { kind: 'answer'; record: AvailabilityRecord; terminate: boolean }
  | { kind: 'closed' }
  | { kind: 'timeout' };

export interface JobRequestSettings {
  clock: Clock;
  targetLoad: number;
  availabilityTimeoutMs: number;
  random: () => number;
}

export interface JobRequestTarget {
  /** The workers whose agent name, deployment and job type match the job, connected ones only. */
  candidates(): ServerWorker[];
  /** Ask only this worker (a test's pin); no retry elsewhere. */
  pinnedWorkerId: string | undefined;
  /** Ask workers whatever they report, least loaded first (a test observing a refusal). */
  ignoreWorkerStatus: boolean;
}

/** How the request ended: the accepting worker and its answer, or the record to settle with. */
export type JobRequestResult =
  | { kind: 'accepted'; worker: ServerWorker; record: AvailabilityRecord; terminate: boolean }
  | { kind: 'settled'; record: AvailabilityRecord; verdict: boolean };

/**
 * One job request as LiveKit serves it (`AgentHandler.JobRequest`): the node takes the job
 * only if its affinity is above 0, then asks one worker at a time, chosen at random and
 * weighted by load, moving on only after a refusal or a closed worker, all within one
 * deadline (the psrpc request's). An answer that misses the deadline ends the request: the
 * job is not offered again.
 */
export class JobRequest {
  private current: { worker: ServerWorker; resolve: (outcome: AttemptOutcome) => void } | undefined;
  private expired = false;

  constructor(
    private readonly call: DispatchedCall,
    private readonly settings: JobRequestSettings,
    private readonly target: JobRequestTarget,
  ) {}

  /** The worker being asked now, if any. */
  get askedWorker(): ServerWorker | undefined {
    return this.current?.worker;
  }

  /** Delivers a worker's answer; false when nobody waits for it from that worker (late or unknown). */
  answer(worker: ServerWorker, record: AvailabilityRecord, terminate: boolean): boolean {
    if (!this.current || this.current.worker !== worker) return false;
    this.current.resolve({ kind: 'answer', record, terminate });
    return true;
  }

  workerClosed(worker: ServerWorker): void {
    if (this.current?.worker === worker) this.current.resolve({ kind: 'closed' });
  }

  async run(): Promise<JobRequestResult> {
    const { settings, target, call } = this;
    const deadline = settings.clock.setTimer(() => {
      this.expired = true;
      this.current?.resolve({ kind: 'timeout' });
    }, settings.availabilityTimeoutMs);
    try {
      const gated = target.pinnedWorkerId === undefined && !target.ignoreWorkerStatus;
      if (gated && nodeAffinity(target.candidates().map(selectable), settings.targetLoad) <= 0) return this.verdict('no_worker', undefined);
      const tried = new Set<ServerWorker>();
      let lastRefusal: AvailabilityRecord | undefined;
      let lastClosed: ServerWorker | undefined;
      for (;;) {
        const worker = this.next(tried);
        if (!worker) {
          if (lastRefusal) return { kind: 'settled', record: lastRefusal, verdict: false };
          return lastClosed ? this.verdict('worker_disconnected', lastClosed) : this.verdict('no_worker', undefined);
        }
        tried.add(worker);
        const outcome = await this.ask(worker);
        if (outcome.kind === 'timeout') return this.verdict('timeout', worker);
        if (outcome.kind === 'closed') {
          lastClosed = worker;
          continue;
        }
        call.attemptsList.push(outcome.record);
        if (outcome.record.available || outcome.terminate) return { kind: 'accepted', worker, record: outcome.record, terminate: outcome.terminate };
        lastRefusal = outcome.record;
        // `ErrWorkerNotAvailable` is retried on the next eligible worker of the node.
      }
    } finally {
      deadline.cancel();
      this.current = undefined;
    }
  }

  private next(tried: ReadonlySet<ServerWorker>): ServerWorker | undefined {
    const { target, settings } = this;
    const candidates = target.candidates().filter((w) => !tried.has(w));
    if (target.pinnedWorkerId !== undefined) return tried.size === 0 ? candidates.find((w) => w.workerId === target.pinnedWorkerId) : undefined;
    if (target.ignoreWorkerStatus) return candidates.sort((a, b) => (a.record?.load ?? 0) - (b.record?.load ?? 0))[0];
    const options = candidates.map((w) => ({ w, ...selectable(w) }));
    return pickWeightedByLoad(options, new Set(), settings.random)?.w;
  }

  private ask(worker: ServerWorker): Promise<AttemptOutcome> {
    if (this.expired) return Promise.resolve({ kind: 'timeout' });
    return new Promise<AttemptOutcome>((resolve) => {
      this.current = {
        worker,
        resolve: (outcome) => {
          this.current = undefined;
          resolve(outcome);
        },
      };
      const sent = worker.send(new ServerMessage({ message: { case: 'availability', value: { job: this.call.job, resuming: false } } }));
      // A write to a closed socket fails at once in LiveKit too (`ErrWorkerClosed`, retried).
      if (!sent && !worker.isOpen) this.current.resolve({ kind: 'closed' });
    });
  }

  private verdict(reason: NonNullable<AvailabilityRecord['reason']>, worker: ServerWorker | undefined): JobRequestResult {
    return {
      kind: 'settled',
      verdict: true,
      record: {
        jobId: this.call.jobId,
        workerId: worker?.workerId,
        available: false,
        reason,
        participantIdentity: '',
        participantName: '',
        participantMetadata: '',
        participantAttributes: {},
      },
    };
  }
}

function selectable(worker: ServerWorker): { available: boolean; load: number } {
  const record = worker.record;
  return { available: record?.status === 'available', load: record?.load ?? 0 };
}
