import type { RefusalReason } from '../errors.js';
import type { AdmissionTicket } from './admission_ticket.js';

/** An incoming call, as the LiveKit server describes it in an availability request. */
export interface CallRequest {
  jobId: string;
  roomName: string;
  /** Raw job metadata (JSON by convention). */
  jobMetadata?: string;
  /** Raw room metadata (JSON by convention). */
  roomMetadata?: string;
  /**
   * Aborts when the worker's answer deadline passes: the server then hears "unavailable"
   * whatever is decided, so admission refuses with `answer_timeout` instead of taking a slot.
   */
  signal?: AbortSignal;
}

export type AdmissionDecision =
  | { accepted: true; ticket: AdmissionTicket }
  | {
      accepted: false;
      reason: RefusalReason;
      message: string;
      /** Undefined when the tenant id was invalid. */
      tenant: string | undefined;
      agent: string | undefined;
    };
