import { JobStatus, JobType, ParticipantPermission, WorkerMessage, WorkerStatus } from '@livekit/protocol';
import type { AvailabilityAnswer, JobEndStatus, WorkerLoad } from './job_handler.js';

/** The worker's protobuf messages, built in one place. */

export function registerMessage(opts: { agentName: string; version: string; deployment: string }): WorkerMessage {
  return new WorkerMessage({
    message: {
      case: 'register',
      value: {
        type: JobType.JT_ROOM,
        agentName: opts.agentName,
        version: opts.version,
        deployment: opts.deployment,
        // agents-js sends these permissions; the server grants them to the agent participant.
        allowedPermissions: new ParticipantPermission({
          canPublish: true,
          canSubscribe: true,
          canPublishData: true,
          canUpdateMetadata: true,
          hidden: false,
          agent: true,
        }),
      },
    },
  });
}

export function availabilityMessage(jobId: string, accept: Extract<AvailabilityAnswer, { accept: true }> | undefined): WorkerMessage {
  const value = accept
    ? {
        jobId,
        available: true,
        participantIdentity: accept.participantIdentity,
        participantName: accept.participantName,
        participantMetadata: accept.participantMetadata,
        participantAttributes: accept.participantAttributes,
      }
    : { jobId, available: false };
  return new WorkerMessage({ message: { case: 'availability', value } });
}

export function jobUpdateMessage(jobId: string, status: JobEndStatus, error: string | undefined): WorkerMessage {
  return new WorkerMessage({
    message: {
      case: 'updateJob',
      value: { jobId, status: status === 'success' ? JobStatus.JS_SUCCESS : JobStatus.JS_FAILED, error: error ?? '' },
    },
  });
}

/** The `updateWorker` fields for a load: WS_FULL when full or draining; load clamped to 0..1. */
export function workerStatus(load: WorkerLoad, draining: boolean): { status: WorkerStatus; load: number; jobCount: number } {
  return {
    status: load.full || draining ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE,
    load: Math.min(1, Math.max(0, Number.isFinite(load.load) ? load.load : 1)),
    jobCount: Math.max(0, Math.trunc(load.jobCount)),
  };
}
