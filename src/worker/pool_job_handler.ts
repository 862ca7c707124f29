import type { Diagnostic } from '../util/diagnostic.js';
import type { PoolRuntime } from './pool_runtime.js';
import { RunningSession, type SessionEnd, type SessionRunnerDeps } from '../session/session_runner.js';
import type { JobAssignment, JobRequest } from '../session/job_assignment.js';
import type { AvailabilityAnswer, JobHandler, WorkerLoad } from './job_handler.js';
import type { LoadMonitor } from './load_monitor.js';

/** Participant attributes the agent joins with, so the room (and the SFU's webhooks) see the tenant. */
export const PARTICIPANT_ATTR_TENANT = 'openrtc.tenant';
export const PARTICIPANT_ATTR_AGENT = 'openrtc.agent';

export interface PoolJobHandlerOptions {
  pool: PoolRuntime;
  runner: Omit<SessionRunnerDeps, 'buildSession' | 'sessionContext' | 'recordUsage' | 'recordLatency' | 'recordProviderError'>;
  loadMonitor: LoadMonitor;
  maxSessions: number | undefined;
  /** Told when a hosted session ends, to report the job status to the server. */
  onSessionEnded?: (jobId: string, end: SessionEnd) => void;
  /** Reports what cannot be thrown from background work. */
  onDiagnostic?: (diagnostic: Diagnostic) => void;
}

/**
 * Answers the LiveKit server for the pool: availability through admission, assignments
 * become in-process sessions, terminations cancel them.
 */
export class PoolJobHandler implements JobHandler {
  private readonly sessions = new Map<string, RunningSession>();
  private reportedLoad = 0;

  constructor(private readonly options: PoolJobHandlerOptions) {}

  async onAvailability(request: JobRequest): Promise<AvailabilityAnswer> {
    const decision = await this.options.pool.admit({
      jobId: request.jobId,
      roomName: request.roomName,
      jobMetadata: request.jobMetadata,
      roomMetadata: request.roomMetadata,
    });
    if (!decision.accepted) return { accept: false, reason: decision.reason };
    const { ticket } = decision;
    return {
      accept: true,
      participantIdentity: `agent-${ticket.jobId}`,
      participantName: ticket.agentName,
      participantMetadata: '',
      participantAttributes: { [PARTICIPANT_ATTR_TENANT]: ticket.tenant, [PARTICIPANT_ATTR_AGENT]: ticket.agentName },
    };
  }

  onAssignment(assignment: JobAssignment): void {
    const { pool } = this.options;
    const ticket = pool.ticket(assignment.job.jobId);
    if (!ticket || ticket.state !== 'reserved') {
      // The slot already expired (or the job is a duplicate): hosting it now could overshoot a cap.
      this.options.onDiagnostic?.({ code: 'assignment_ignored', message: `assignment for job ${assignment.job.jobId} ignored: no reserved slot is waiting for it` });
      return;
    }
    const session = new RunningSession(ticket, assignment, {
      ...this.options.runner,
      buildSession: (t) => pool.buildSession(t),
      sessionContext: (t) => pool.sessionContext(t),
      recordUsage: (event) => pool.recordUsage(event),
      recordLatency: (event) => pool.recordLatency(event),
      recordProviderError: (event) => pool.recordProviderError(event),
    });
    this.sessions.set(ticket.jobId, session);
    void session.done.then((end) => {
      this.sessions.delete(ticket.jobId);
      this.options.onSessionEnded?.(ticket.jobId, end);
    });
  }

  onTermination(jobId: string): void {
    const session = this.sessions.get(jobId);
    if (session) {
      session.cancel('terminated by the server');
      return;
    }
    // Terminated before its assignment: free the slot now rather than at the timeout.
    void this.options.pool.ticket(jobId)?.finish('cancelled', 'terminated by the server before it started');
  }

  load(): WorkerLoad {
    const { pool, maxSessions, loadMonitor } = this.options;
    const jobCount = this.sessions.size;
    const held = pool.liveTickets().length;
    this.reportedLoad = loadMonitor.sample(held, maxSessions);
    return {
      load: this.reportedLoad,
      jobCount,
      full: pool.isDraining || (maxSessions !== undefined && held >= maxSessions),
    };
  }

  /** The load last reported to the server (0..1). */
  get lastLoad(): number {
    return this.reportedLoad;
  }

  /** Sessions hosted right now. */
  running(): RunningSession[] {
    return [...this.sessions.values()];
  }
}
