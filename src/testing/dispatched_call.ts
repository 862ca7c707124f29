import type { Job } from '@livekit/protocol';
import { Deferred } from '../util/deferred.js';
import type { AvailabilityRecord, CallEnd, TranscriptEntry } from './dispatch_types.js';
import type { SimulatedCall } from './simulated_call.js';

/**
 * A test's handle on one dispatched job: what the worker answered, whether the assignment
 * went out, and (for simulated calls) the room side of the conversation.
 */
export class DispatchedCall {
  /** @internal */
  readonly availabilityDeferred = new Deferred<AvailabilityRecord>();
  /** @internal */
  readonly assignedDeferred = new Deferred<void>();
  private readonly endedWithoutRoom = new Deferred<CallEnd>();

  /** @internal */
  constructor(
    readonly job: Job,
    private readonly sendTermination: (call: DispatchedCall) => void,
    /** @internal */ readonly simulation: SimulatedCall | undefined,
  ) {}

  get jobId(): string {
    return this.job.id;
  }

  get roomName(): string {
    return this.job.room?.name ?? '';
  }

  /** What the worker answered (or `no_worker` / `worker_disconnected` from the server). */
  get availability(): Promise<AvailabilityRecord> {
    return this.availabilityDeferred.promise;
  }

  /** Resolves when the assignment was sent; rejects if the job was refused or never assignable. */
  get assigned(): Promise<void> {
    return this.assignedDeferred.promise;
  }

  /** Resolves once the agent joined the simulated room; stays pending for other calls. */
  get joined(): Promise<void> {
    return this.simulation?.joined ?? new Promise<void>(() => undefined);
  }

  /** Resolves once the call ended, with why. */
  get ended(): Promise<CallEnd> {
    return this.simulation?.ended ?? this.endedWithoutRoom.promise;
  }

  /** The conversation so far (simulated calls; empty otherwise). */
  get transcript(): readonly TranscriptEntry[] {
    return this.simulation?.transcript ?? [];
  }

  /** Sends `termination` for this job to its worker, and ends the simulated room. */
  terminate(): void {
    this.sendTermination(this);
    if (this.simulation) this.simulation.end('terminated', false);
    else this.endedWithoutRoom.resolve({ reason: 'terminated' });
  }

  /** Speaks an unscripted user turn in the simulated room. */
  say(text: string): void {
    this.requireSimulation('say').say(text);
  }

  /** The caller hangs up the simulated room. */
  hangup(): void {
    this.requireSimulation('hangup').hangup();
  }

  private requireSimulation(method: string): SimulatedCall {
    if (!this.simulation) throw new Error(`${method}() needs a simulated call; job ${this.jobId} was dispatched without \`simulated\``);
    return this.simulation;
  }
}
