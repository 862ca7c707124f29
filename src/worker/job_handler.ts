/**
 * The seam between the LiveKit worker protocol (src/worker) and the pool. The worker
 * connection speaks protobuf over the WebSocket; the handler decides and hosts.
 */
import type { JobAssignment, JobRequest } from '../session/job_assignment.js';

export type AvailabilityAnswer =
  | {
      accept: true;
      participantIdentity: string;
      participantName: string;
      participantMetadata: string;
      participantAttributes: Record<string, string>;
    }
  | { accept: false; reason: string };

export interface WorkerLoad {
  /** 0..1, sent as `load` in updateWorker. */
  load: number;
  jobCount: number;
  /** Sent as WS_FULL when true (full, or draining). */
  full: boolean;
}

export type JobEndStatus = 'success' | 'failed';

/** Why an accept stopped holding anything: it missed the answer deadline, or its socket was lost before the assignment. */
export type ReleaseReason = 'deadline' | 'socket_lost';

export interface JobHandler {
  /**
   * Answers an availability request; must not throw (a thrown error is answered as a
   * reject). `signal` aborts when the answer deadline passes: the connection has then
   * answered "unavailable" and will not send this answer.
   */
  onAvailability(request: JobRequest, signal?: AbortSignal): Promise<AvailabilityAnswer>;
  /**
   * An accept that will never be assigned on its socket: it came after the deadline, or
   * the socket it was sent on (or meant for) was lost first. Free what it holds.
   */
  release?(jobId: string, reason: ReleaseReason): void;
  /** The server assigned an accepted job: start hosting it. */
  onAssignment(assignment: JobAssignment): void;
  /** The server asked for a job to end. */
  onTermination(jobId: string): void;
  /** Current load, read for every updateWorker message. */
  load(): WorkerLoad;
}
