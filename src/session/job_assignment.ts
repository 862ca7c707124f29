/**
 * A job as the LiveKit server describes it, in the words the session layer needs. The
 * worker layer decodes these from the protocol; the session runner hosts them.
 */
export interface JobRequest {
  jobId: string;
  /** Dispatch id, if the server sent one. */
  dispatchId: string;
  agentName: string;
  roomName: string;
  roomSid: string;
  /** Raw job metadata string. */
  jobMetadata: string;
  /** Raw room metadata string. */
  roomMetadata: string;
  /** Job attributes as the server sent them. */
  attributes: Record<string, string>;
}

export interface JobAssignment {
  job: JobRequest;
  /** Where to join the room; may be empty, meaning the worker's own server url. */
  url: string;
  token: string;
}
