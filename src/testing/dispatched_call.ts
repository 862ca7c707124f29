import type { Job } from '@livekit/protocol';
import { Deferred } from '../util/deferred.js';
import type { AvailabilityRecord, CallEnd, JobStateRecord, TranscriptEntry } from './dispatch_types.js';
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
  /** @internal Every worker's answer for this job, in the order they were asked. */
  readonly attemptsList: AvailabilityRecord[] = [];
  /** @internal The server's record of the job once assigned. */
  state: JobStateRecord | undefined;

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

  /**
   * How the job request ended: the accepting answer; else the last refusal when every
   * eligible worker refused; else the server's own verdict (`no_worker`,
   * `worker_disconnected`, `timeout`).
   */
  get availability(): Promise<AvailabilityRecord> {
    return this.availabilityDeferred.promise;
  }

  /** Resolves when the assignment was sent; rejects if the job was refused or never assignable. */
  get assigned(): Promise<void> {
    return this.assignedDeferred.promise;
  }

  /** Each worker's answer, in the order the server asked them (a refusal moves the job on). */
  get attempts(): readonly AvailabilityRecord[] {
    return this.attemptsList;
  }

  /** The server's view of the job once assigned: owner and status (undefined before). */
  get jobState(): JobStateRecord | undefined {
    return this.state ? { ...this.state } : undefined;
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

  /**
   * The room removes the agent participant while the caller stays (simulated calls): the
   * agent's socket closes as a lost room would, and the server then treats the job as
   * LiveKit does when an agent leaves its room.
   */
  removeAgent(): void {
    this.requireSimulation('removeAgent').removeAgent();
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
