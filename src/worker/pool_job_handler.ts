import type { Diagnostic } from '../util/diagnostic.js';
import type { PoolRuntime } from './pool_runtime.js';
import { RunningSession, type SessionEnd, type SessionRunnerDeps } from '../session/session_runner.js';
import type { JobAssignment, JobRequest } from '../session/job_assignment.js';
import type { AvailabilityAnswer, JobHandler, ReleaseReason, WorkerLoad } from './job_handler.js';
import { type LoadMonitor, reportedLoad } from './load_monitor.js';

/** Participant attributes the agent joins with, so the room (and the SFU's webhooks) see the tenant. */
export const PARTICIPANT_ATTR_TENANT = 'openrtc.tenant';
export const PARTICIPANT_ATTR_AGENT = 'openrtc.agent';

export interface PoolJobHandlerOptions {
  pool: PoolRuntime;
  runner: Omit<SessionRunnerDeps, 'buildSession' | 'sessionContext' | 'recordUsage' | 'recordLatency' | 'recordProviderError'>;
  loadMonitor: LoadMonitor;
  maxSessions: number | undefined;
  /** LiveKit's target load: the reported load reaches it exactly when the worker is full. */
  targetLoad: number;
  /** Told a hosted session's outcome before it leaves the room, to report the job status to the server. */
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

  async onAvailability(request: JobRequest, signal?: AbortSignal): Promise<AvailabilityAnswer> {
    const decision = await this.options.pool.admit({
      jobId: request.jobId,
      roomName: request.roomName,
      jobMetadata: request.jobMetadata,
      roomMetadata: request.roomMetadata,
      signal,
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
      const jobId = assignment.job.jobId;
      this.options.onDiagnostic?.({ code: 'assignment_ignored', message: `assignment for job ${jobId} ignored: no reserved slot is waiting for it` });
      // A job nobody hosts must not stay "running" at the server: a failed status ends it there
      // (`Worker.UpdateJobStatus` in livekit/livekit pkg/agent/worker.go drops an ended job from
      // its running jobs). A duplicate of a job this worker hosts is left alone.
      if (!this.sessions.has(jobId)) this.options.onSessionEnded?.(jobId, { outcome: 'failed', detail: 'assignment arrived after its reserved slot was released' });
      return;
    }
    const session = new RunningSession(ticket, assignment, {
      ...this.options.runner,
      buildSession: (t, scope) => pool.buildSession(t, scope),
      sessionContext: (t) => pool.sessionContext(t),
      recordUsage: (event) => pool.recordUsage(event),
      reportOutcome: (jobId, end) => this.options.onSessionEnded?.(jobId, end),
      recordLatency: (event) => pool.recordLatency(event),
      recordProviderError: (event) => pool.recordProviderError(event),
    });
    this.sessions.set(ticket.jobId, session);
    void session.done.then(() => this.sessions.delete(ticket.jobId));
  }

  /** An accept LiveKit will never assign (late, or its socket was lost): its slot comes back now. */
  release(jobId: string, reason: ReleaseReason): void {
    const ticket = this.options.pool.ticket(jobId);
    if (ticket?.state !== 'reserved') return;
    const why = reason === 'deadline' ? 'the accept missed the answer deadline' : 'the socket that accepted it was lost before the assignment';
    this.options.onDiagnostic?.({ code: 'slot_released', message: `job ${jobId}: slot released: ${why}` });
    void ticket.finish('expired', why);
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
    const { pool, maxSessions, loadMonitor, targetLoad } = this.options;
    const held = pool.liveTickets().length;
    const sessionShare = maxSessions ? held / maxSessions : 0;
    const { load, full } = reportedLoad(Math.max(sessionShare, loadMonitor.busyShare()), targetLoad);
    this.reportedLoad = load;
    return { load, jobCount: this.sessions.size, full: full || pool.isDraining };
  }

  /** The load last reported to the server (0..targetLoad; the target when full). */
  get lastLoad(): number {
    return this.reportedLoad;
  }

  /** Sessions hosted right now. */
  running(): RunningSession[] {
    return [...this.sessions.values()];
  }
}
