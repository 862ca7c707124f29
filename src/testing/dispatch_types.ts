import type { Clock } from '../util/clock.js';

/** The public shapes of the stand-in dispatch server: options, records and scripts. */

export interface DispatchServerOptions {
  apiKey: string;
  apiSecret: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; defaults to 127.0.0.1 (never exposed beyond loopback by default). */
  host?: string;
  /**
   * The url sent in assignments. Default '' as LiveKit OSS sends (the worker joins through
   * the url it connected to); give the server's own `url` to model a server that sets one.
   */
  assignmentUrl?: string;
  /** Drives every timer of the server: answer deadline, pings, register deadline, simulated turns. */
  clock?: Clock;
  /** The simulated caller a job dispatched through the server API (CreateDispatch) meets. */
  apiCaller?: SimulatedCallScript;
  /**
   * A job goes to this server only if a matching worker is WS_AVAILABLE with a load below
   * this (LiveKit's `agents.target_load`, default 0.7).
   */
  targetLoad?: number;
  /**
   * How long one job request may take, retries on other workers included, in ms. Default
   * 3 000 (psrpc's default client timeout). An answer after it is recorded in
   * `lateAnswers` and ignored; the job is not offered again.
   */
  availabilityTimeoutMs?: number;
  /** Seed of the random weighted choice among workers, so a test's placements repeat. Default 1. */
  seed?: number;
  /** WebSocket ping to each worker every this many ms (LiveKit: 10 000); 0 sends none. */
  pingIntervalMs?: number;
  /** A socket that has not registered by then is closed, in ms (LiveKit: 10 000). */
  registerTimeoutMs?: number;
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
  /** The `deployment` it registered with ('' when none); jobs match it exactly. */
  deployment: string;
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
  /**
   * Set when the server answered for the worker: no eligible worker, the worker's socket
   * closed while it was asked, or the request's deadline passed.
   */
  reason?: 'no_worker' | 'worker_disconnected' | 'timeout';
  participantIdentity: string;
  participantName: string;
  participantMetadata: string;
  participantAttributes: Record<string, string>;
}

export type JobStatusName = 'pending' | 'running' | 'success' | 'failed';

export interface JobUpdateRecord {
  jobId: string;
  workerId: string;
  status: JobStatusName;
  error: string;
  /**
   * False when the server ignored it, as LiveKit does for a job that is not running on
   * that connection (another connection's job, one already ended, or one it never had).
   */
  accepted: boolean;
}

/** The server's view of a job once assigned: who owns it and how it ended. */
export interface JobStateRecord {
  status: JobStatusName;
  error: string;
  /** The worker connection that owns it; undefined once that connection closed. */
  workerId: string | undefined;
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
  /** Matches workers registered with this deployment ('' by default, as workers without one). */
  deployment?: string;
  jobId?: string;
  /** Job attributes. */
  attributes?: Record<string, string>;
  simulated?: SimulatedCallScript;
}

export interface DispatchBehaviour {
  /**
   * Ask a worker even if it reports WS_FULL or a load at or above the target (LiveKit skips
   * those), the least loaded first, to observe its refusal.
   */
  ignoreWorkerStatus?: boolean;
  /** Never send the assignment after an accept, as if the server lost it. */
  withholdAssignment?: boolean;
  /** Ask this worker only, instead of a random eligible one weighted by load; no retry elsewhere. */
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
