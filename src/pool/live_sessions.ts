import type { AdmissionTicket } from '../admission/admission_ticket.js';

/**
 * The live calls of this worker by job id: accepted calls waiting for their assignment
 * and running sessions. A ticket is here from its admission until it ends.
 */
export class LiveSessions {
  private readonly tickets = new Map<string, AdmissionTicket>();

  get(jobId: string): AdmissionTicket | undefined {
    return this.tickets.get(jobId);
  }

  add(ticket: AdmissionTicket): void {
    this.tickets.set(ticket.jobId, ticket);
  }

  remove(ticket: AdmissionTicket): void {
    if (this.tickets.get(ticket.jobId) === ticket) this.tickets.delete(ticket.jobId);
  }

  all(): AdmissionTicket[] {
    return [...this.tickets.values()];
  }

}
