import type { JobAssignment, JobRequest } from '../../src/session/job_assignment.js';
import type { AvailabilityAnswer, JobHandler, WorkerLoad } from '../../src/worker/job_handler.js';

/** A JobHandler that records every call and answers as the test tells it to. */
export class RecordingHandler implements JobHandler {
  readonly requests: JobRequest[] = [];
  readonly assignments: JobAssignment[] = [];
  readonly terminations: string[] = [];
  currentLoad: WorkerLoad = { load: 0, jobCount: 0, full: false };
  decide: (request: JobRequest) => AvailabilityAnswer = (request) => ({
    accept: true,
    participantIdentity: `agent-${request.jobId}`,
    participantName: 'Support agent',
    participantMetadata: '{"tenant":"acme-corp"}',
    participantAttributes: { tenant: 'acme-corp' },
  });

  onAvailability(request: JobRequest): Promise<AvailabilityAnswer> {
    this.requests.push(request);
    return Promise.resolve(this.decide(request));
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
