import type { Clock } from '../util/clock.js';

/** The public shapes of the stand-in dispatch server: options, records and scripts. */

export interface DispatchServerOptions {
  apiKey: string;
  apiSecret: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; defaults to 127.0.0.1 (never exposed beyond loopback by default). */
  host?: string;
  /** The url sent in assignments; defaults to the server's own `url`. */
  assignmentUrl?: string;
  /** Drives simulated turn timeouts. */
  clock?: Clock;
  /** The simulated caller a job dispatched through the server API (CreateDispatch) meets. */
  apiCaller?: SimulatedCallScript;
}

export type WorkerReportedStatus = 'available' | 'full';

/** A worker as the server knows it: what it registered with and its latest updateWorker. */
export interface WorkerRecord {
  workerId: string;
  agentName: string;
  version: string;
  /** `room`, `publisher` or `participant`, from the registration's JobType. */
  jobType: string;
  /** The `worker_token` query parameter, if the worker sent one. */
  workerToken: string | undefined;
  connected: boolean;
  /** A newly registered worker counts as available until it says otherwise. */
  status: WorkerReportedStatus;
  load: number;
  jobCount: number;
  /** How many updateWorker messages arrived. */
  updates: number;
}

/** One availability answer, or the server's own verdict when no worker could answer. */
export interface AvailabilityRecord {
  jobId: string;
  /** The worker asked; undefined when none was eligible. */
  workerId: string | undefined;
  available: boolean;
  /** Set when the server answered for the worker. */
  reason?: 'no_worker' | 'worker_disconnected';
  participantIdentity: string;
  participantName: string;
  participantMetadata: string;
  participantAttributes: Record<string, string>;
}

export interface JobUpdateRecord {
  jobId: string;
  workerId: string;
  status: 'pending' | 'running' | 'success' | 'failed';
  error: string;
}

/** A scripted caller for a simulated room: user turns sent one per agent reply. */
export interface SimulatedCallScript {
  turns: string[];
  /** Hang up once the agent has replied to the last turn. Default true. */
  hangupAfterLastReply?: boolean;
  /** Hang up with reason `turn_timeout` if the agent does not reply within this many ms. */
  turnTimeoutMs?: number;
  callerIdentity?: string;
  callerMetadata?: string;
  callerAttributes?: Record<string, string>;
}

export interface DispatchRequest {
  roomName: string;
  jobMetadata?: string;
  roomMetadata?: string;
  /** Matches workers registered with this agent name; '' (default) is automatic dispatch. */
  agentName?: string;
  jobId?: string;
  /** Job attributes. */
  attributes?: Record<string, string>;
  simulated?: SimulatedCallScript;
}

export interface DispatchBehaviour {
  /** Ask a worker even if it reports WS_FULL (real LiveKit skips those), to observe its refusal. */
  ignoreWorkerStatus?: boolean;
  /** Never send the assignment after an accept, as if the server lost it. */
  withholdAssignment?: boolean;
  /** Ask this worker instead of picking the least loaded eligible one. */
  workerId?: string;
}

export type CallEndReason = 'hangup' | 'agent_left' | 'terminated' | 'turn_timeout' | 'server_closed';

export interface CallEnd {
  reason: CallEndReason;
}

export interface TranscriptEntry {
  from: 'user' | 'agent';
  text: string;
}
