// The job messages the stand-in server sends: a job as dispatch creates it, and the
// assignment that hands it to the worker that accepted it.
import { Job, JobState, JobStatus, JobType, Room, ServerMessage } from '@livekit/protocol';
import { buildAgentToken } from './assignment_token.js';
import type { DispatchedCall } from './dispatched_call.js';
import type { AvailabilityRecord, DispatchBehaviour, DispatchRequest, DispatchServerOptions } from './dispatch_types.js';
import type { ServerWorker } from './server_worker.js';

let jobSeq = 0;
const newId = (prefix: string): string => `${prefix}_${(++jobSeq).toString(36)}${Math.random().toString(36).slice(2, 10)}`;

/** A job in JS_PENDING, with LiveKit-shaped ids for whatever the request leaves out. */
export function pendingJob(options: DispatchRequest & DispatchBehaviour): Job {
  return new Job({
    id: options.jobId ?? newId('AJ'),
    dispatchId: newId('AD'),
    type: JobType.JT_ROOM,
    room: new Room({ name: options.roomName, sid: newId('RM'), metadata: options.roomMetadata ?? '' }),
    namespace: '',
    metadata: options.jobMetadata ?? '',
    agentName: options.agentName ?? '',
    deployment: options.deployment ?? '',
    state: new JobState({ status: JobStatus.JS_PENDING, updatedAt: BigInt(Date.now()) }),
    attributes: { ...options.attributes },
  });
}

/** The `assignment` for the worker that accepted: the job now running on it, and a room token for the agent. */
export async function assignmentMessage(
  options: Pick<DispatchServerOptions, 'apiKey' | 'apiSecret' | 'assignmentUrl'>,
  call: DispatchedCall,
  worker: ServerWorker,
  record: AvailabilityRecord,
): Promise<ServerMessage> {
  const token = await buildAgentToken({
    apiKey: options.apiKey,
    apiSecret: options.apiSecret,
    roomName: call.roomName,
    jobId: call.jobId,
    agentName: worker.record?.agentName ?? '',
    answer: record,
    permissions: worker.permissions,
  });
  const job = call.job.clone();
  const now = BigInt(Date.now()) * 1_000_000n;
  job.state = new JobState({ status: JobStatus.JS_RUNNING, participantIdentity: record.participantIdentity, workerId: worker.workerId, startedAt: now, updatedAt: now });
  return new ServerMessage({ message: { case: 'assignment', value: { job, url: options.assignmentUrl ?? '', token } } });
}
