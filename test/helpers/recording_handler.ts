import type { JobAssignment, JobRequest } from '../../src/session/job_assignment.js';
import type { AvailabilityAnswer, JobHandler, ReleaseReason, WorkerLoad } from '../../src/worker/job_handler.js';

/** A JobHandler that records every call and answers as the test tells it to. */
export class RecordingHandler implements JobHandler {
  readonly requests: JobRequest[] = [];
  readonly assignments: JobAssignment[] = [];
  readonly terminations: string[] = [];
  /** Accepts the connection gave back (late, or their socket was lost), with why. */
  readonly released: [string, ReleaseReason][] = [];
  /** The deadline signal of each request, in order. */
  readonly signals: AbortSignal[] = [];
  currentLoad: WorkerLoad = { load: 0, jobCount: 0, full: false };
  decide: (request: JobRequest) => AvailabilityAnswer | Promise<AvailabilityAnswer> = (request) => ({
    accept: true,
    participantIdentity: `agent-${request.jobId}`,
    participantName: 'Support agent',
    participantMetadata: '{"tenant":"acme-corp"}',
    participantAttributes: { tenant: 'acme-corp' },
  });

  onAvailability(request: JobRequest, signal?: AbortSignal): Promise<AvailabilityAnswer> {
    this.requests.push(request);
    if (signal) this.signals.push(signal);
    return Promise.resolve(this.decide(request));
  }

  release(jobId: string, reason: ReleaseReason): void {
    this.released.push([jobId, reason]);
  }

  onAssignment(assignment: JobAssignment): void {
    this.assignments.push(assignment);
  }

  onTermination(jobId: string): void {
    this.terminations.push(jobId);
  }

  load(): WorkerLoad {
    return this.currentLoad;
  }
}
