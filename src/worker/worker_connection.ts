import { type AvailabilityRequest, type ServerMessage, WorkerMessage, type WorkerStatus } from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import { WebSocket } from 'ws';
import { OpenRtcError, errorMessage } from '../errors.js';
import type { TimerHandle } from '../util/clock.js';
import { TypedEvents } from '../util/typed_events.js';
import { Backoff } from '../util/backoff.js';
import { answerWithin } from './answer_deadline.js';
import { sendBatched } from './tick_writes.js';
import { type ConnectionEvent, type ConnectionState, type ConnectionStateName, socketOf, transition } from './connection_state.js';
import type { JobEndStatus, ReleaseReason } from './job_handler.js';
import { toJobRequest } from './protocol_codec.js';
import { RegisteredSession } from './registered_session.js';
import { awaitRegistration } from './registration.js';
import { availabilityMessage, jobUpdateMessage, registerMessage, workerStatus } from './worker_messages.js';
import {
  type ResolvedWorkerConnectionOptions,
  type WorkerConnectionEvents,
  type WorkerConnectionOptions,
  type WorkerDiagnostic,
  resolveWorkerConnectionOptions,
} from './worker_connection_options.js';

/** How long `close()` waits for the server's close frame before cutting the socket. */
const CLOSE_GRACE_MS = 2000;
/** Job outcomes kept while disconnected, sent after registering again. */
const MAX_PENDING_JOB_UPDATES = 1000;

/**
 * The worker side of the LiveKit agent protocol: registers, answers availability through
 * the handler within a deadline, forwards assignments and terminations, reports load,
 * notices a silent socket, and reconnects on loss. Hosting jobs is the handler's business:
 * a lost socket never ends a job, since LiveKit keeps the job's room alive and the worker
 * re-registers under a new id (LiveKit forgets the old connection's jobs; see
 * docs/architecture.md). The lifecycle is `connection_state.ts`; this class applies it.
 */
export class WorkerConnection {
  private readonly opts: ResolvedWorkerConnectionOptions;
  private readonly events: TypedEvents<WorkerConnectionEvents>;
  private readonly backoff: Backoff;
  private state: ConnectionState<WebSocket> = { name: 'idle' };
  /** Resources of the current state: the registered session, or the backoff wait. */
  private session: RegisteredSession | undefined;
  private waitTimer: TimerHandle | undefined;
  private lastWorkerId: string | undefined;
  /** Set by the worker when it drains; WS_FULL from then on. */
  private draining = false;
  private readonly pendingJobUpdates: WorkerMessage[] = [];

  constructor(options: WorkerConnectionOptions) {
    this.opts = resolveWorkerConnectionOptions(options);
    this.events = new TypedEvents((error) => this.diagnose('handler_error', 'an event listener threw', error));
    this.backoff = new Backoff(this.opts.reconnect, this.opts.random);
  }

  /** The id from the latest registration; kept across a disconnect until the next one. */
  get workerId(): string | undefined {
    return this.lastWorkerId;
  }

  /** True while registered on an open socket. */
  get connected(): boolean {
    return this.state.name === 'registered';
  }

  /** Where the lifecycle stands: idle, connecting, registered, waiting (to reconnect) or closed. */
  get stateName(): ConnectionStateName {
    return this.state.name;
  }

  on<K extends keyof WorkerConnectionEvents>(name: K, listener: (event: WorkerConnectionEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  /** Connects and registers; rejects with `connection_error` if that first attempt fails. */
  async start(): Promise<void> {
    if (this.state.name !== 'idle') throw new OpenRtcError('invalid_option', 'WorkerConnection.start() was already called');
    await this.attempt(false);
  }

  /** Reports WS_FULL from now on; refusing requests stays the handler's decision. */
  setDraining(draining = true): void {
    this.draining = draining;
    this.session?.reportStatus();
  }

  /**
   * Sends an update now if the status (available/full) changed since the last one sent:
   * called when admission or a session end may have crossed the target load, so the server
   * learns it at once rather than at the next interval.
   */
  refreshStatus(): void {
    if (this.session && this.computeStatus().status !== this.session.lastSentStatus) this.session.reportStatus();
  }

  /**
   * Tells the server how a job ended. While the socket is down the update waits and goes
   * out once the worker has registered again (a session can end during a reconnect).
   * Returns true when it was sent now.
   */
  updateJobStatus(jobId: string, status: JobEndStatus, error?: string): boolean {
    const message = jobUpdateMessage(jobId, status, error);
    if (this.state.name === 'connecting' || this.state.name === 'waiting') {
      // Bounded, so a server that never comes back cannot grow this without end.
      if (this.pendingJobUpdates.length >= MAX_PENDING_JOB_UPDATES) this.pendingJobUpdates.shift();
      this.pendingJobUpdates.push(message);
      return false;
    }
    return this.send(message);
  }

  /** Stops reconnecting and closes the socket. Idempotent. */
  async close(): Promise<void> {
    const socket = socketOf(this.state);
    this.apply({ type: 'close' });
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const grace = this.opts.clock.setTimer(() => socket.terminate(), CLOSE_GRACE_MS);
      socket.once('close', () => {
        grace.cancel();
        resolve();
      });
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'worker closing');
    });
  }

  /** The one place state changes: the transition decides, then leaving and entering run. */
  private apply(event: ConnectionEvent<WebSocket>, announce?: () => void): boolean {
    const previous = this.state;
    const { next, applied } = transition(previous, event);
    if (!applied) return false;
    this.state = next;
    this.leave(previous);
    // Listeners hear of the change (disconnected) before what entering the next state starts (reconnecting).
    announce?.();
    this.enter(next);
    return true;
  }

  private leave(previous: ConnectionState<WebSocket>): void {
    if (previous.name === 'waiting') {
      this.waitTimer?.cancel();
      this.waitTimer = undefined;
    }
    if (previous.name === 'registered' && this.session) {
      const session = this.session;
      this.session = undefined;
      // LiveKit sends an accepted job's assignment on the socket that accepted it; that
      // socket is gone, so the slots held for those jobs will never be used.
      for (const jobId of session.end()) this.release(jobId, 'socket_lost');
    }
  }

  private enter(next: ConnectionState<WebSocket>): void {
    if (next.name === 'registered') this.onRegistered(next.socket, next.workerId);
    if (next.name === 'waiting') this.scheduleReconnect();
  }

  private isCurrent(socket: WebSocket): boolean {
    return socketOf(this.state) === socket;
  }

  private async token(): Promise<string> {
    const token = new AccessToken(this.opts.apiKey, this.opts.apiSecret);
    token.addGrant({ agent: true });
    return token.toJwt();
  }

  /** One connection attempt: resolves once registered, rejects on any failure before that. */
  private async attempt(reconnect: boolean): Promise<void> {
    const jwt = await this.token();
    const socket = new WebSocket(this.opts.agentUrl, { headers: { authorization: `Bearer ${jwt}` } });
    if (!this.apply({ type: 'dial', socket, reconnect })) {
      socket.terminate();
      throw this.connectionError('the connection was closed');
    }
    await awaitRegistration(socket, {
      clock: this.opts.clock,
      registerTimeoutMs: this.opts.registerTimeoutMs,
      register: registerMessage(this.opts),
      sendOn: (s, message) => this.sendOn(s, message),
      registered: (s, workerId, serverInfo) => {
        if (!this.apply({ type: 'registered', socket: s, workerId })) return false;
        this.events.emit('registered', { workerId, serverInfo, reconnected: reconnect });
        return true;
      },
      // A failed first attempt closes the connection; a failed reconnect waits for the next.
      failed: (s) => {
        if (!this.apply({ type: 'failed_to_start', socket: s })) this.apply({ type: 'lost', socket: s });
      },
      lost: (s, code, reason) => this.apply({ type: 'lost', socket: s }, () => this.events.emit('disconnected', { code, reason })),
      heard: (s) => this.heard(s),
      message: (s, message) => {
        if (this.isCurrent(s) && this.connected) this.onServerMessage(message);
      },
      diagnose: (kind, message, error) => this.diagnose(kind, message, error),
      connectionError: (reason, cause) => this.connectionError(reason, cause),
    });
  }

  private onRegistered(socket: WebSocket, workerId: string): void {
    this.lastWorkerId = workerId;
    this.backoff.reset();
    const session = new RegisteredSession(socket, {
      clock: this.opts.clock,
      livenessTimeoutMs: this.opts.livenessTimeoutMs,
      updateIntervalMs: this.opts.updateIntervalMs,
      onSilent: (silentMs) => this.diagnose('liveness_timeout', `nothing from the server for ${silentMs} ms; reconnecting`),
      sendStatus: () => {
        const value = this.computeStatus();
        return this.send(new WorkerMessage({ message: { case: 'updateWorker', value } })) ? value.status : undefined;
      },
    });
    this.session = session;
    session.reportStatus();
    for (const update of this.pendingJobUpdates.splice(0)) this.sendOn(socket, update);
    session.scheduleReports();
  }

  /** Anything from the server (message, ping, pong) shows the socket is alive. */
  private heard(socket: WebSocket): void {
    if (this.isCurrent(socket)) this.session?.heard();
  }

  private onServerMessage(message: ServerMessage): void {
    const { handler } = this.opts;
    switch (message.message.case) {
      case 'availability':
        void this.answerAvailability(message.message.value);
        return;
      case 'assignment': {
        const { job, url, token } = message.message.value;
        if (!job) return this.diagnose('protocol_error', 'assignment without a job');
        this.session?.unassigned.delete(job.id);
        this.callHandler('onAssignment', () => handler.onAssignment({ job: toJobRequest(job), url: url ?? '', token }));
        return;
      }
      case 'termination': {
        const { jobId } = message.message.value;
        this.callHandler('onTermination', () => handler.onTermination(jobId));
        return;
      }
      case 'register':
        return this.diagnose('protocol_error', 'register received after registration; ignored');
      case 'pong':
      case undefined:
        return;
    }
  }

  /**
   * Answers on the socket that asked, within the deadline. A late or orphaned accept is
   * released rather than sent: LiveKit has stopped waiting for it (or will assign the job
   * on a socket that is gone), so its slot would only sit until the assignment timeout.
   */
  private async answerAvailability(request: AvailabilityRequest): Promise<void> {
    const job = request.job;
    if (!job) return this.diagnose('protocol_error', 'availability request without a job');
    const socket = socketOf(this.state);
    const session = this.session;
    if (!socket || !session) return;
    const { answer, expired } = await answerWithin(this.opts.handler, toJobRequest(job), this.opts.availabilityTimeoutMs, this.opts.clock, {
      onExpired: () => {
        this.diagnose('availability_timeout', `no answer for job ${job.id} within ${this.opts.availabilityTimeoutMs} ms; answered unavailable`);
        if (this.session === session) this.sendOn(socket, availabilityMessage(job.id, undefined));
      },
      onThrow: (error) => this.diagnose('handler_error', `onAvailability threw for job ${job.id}; answered as a reject`, error),
    });
    if (!answer.accept) {
      if (!expired && this.session === session) this.sendOn(socket, availabilityMessage(job.id, undefined));
      return;
    }
    if (expired) return this.release(job.id, 'deadline');
    if (this.session !== session) return this.release(job.id, 'socket_lost');
    session.unassigned.add(job.id);
    this.sendOn(socket, availabilityMessage(job.id, answer));
  }

  private release(jobId: string, reason: ReleaseReason): void {
    const { handler } = this.opts;
    if (handler.release) this.callHandler('release', () => handler.release?.(jobId, reason));
  }

  private callHandler(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.diagnose('handler_error', `${name} threw`, error);
    }
  }

  private computeStatus(): { status: WorkerStatus; load: number; jobCount: number } {
    try {
      return workerStatus(this.opts.handler.load(), this.draining);
    } catch (error) {
      this.diagnose('handler_error', 'load() threw; reporting the worker as full', error);
      return workerStatus({ load: 1, jobCount: 0, full: true }, this.draining);
    }
  }

  private scheduleReconnect(): void {
    const delayMs = this.backoff.next();
    this.events.emit('reconnecting', { attempt: this.backoff.attempts, delayMs });
    this.waitTimer = this.opts.clock.setTimer(() => {
      this.waitTimer = undefined;
      void this.reconnect();
    }, delayMs);
  }

  private async reconnect(): Promise<void> {
    try {
      await this.attempt(true);
    } catch (error) {
      // A failed attempt has already moved to waiting (and scheduled the next) or to closed.
      if (this.state.name !== 'closed') this.diagnose('connect_failed', errorMessage(error), error);
    }
  }

  private send(message: WorkerMessage): boolean {
    const socket = socketOf(this.state);
    if (!socket || !this.connected) {
      this.diagnose('send_failed', `no registered socket for ${message.message.case ?? 'a message'}`);
      return false;
    }
    return this.sendOn(socket, message);
  }

  private sendOn(socket: WebSocket, message: WorkerMessage): boolean {
    if (socket.readyState !== WebSocket.OPEN) return false;
    sendBatched(socket, message.toBinary(), (error) => {
      if (error) this.diagnose('send_failed', `could not send ${message.message.case ?? 'a message'}`, error);
    });
    return true;
  }

  private connectionError(reason: string, cause?: unknown): OpenRtcError {
    return new OpenRtcError('connection_error', `worker connection to ${this.opts.url} failed: ${reason}`, { cause });
  }

  private diagnose(kind: WorkerDiagnostic['kind'], message: string, error?: unknown): void {
    try {
      this.opts.onDiagnostic(error === undefined ? { kind, message } : { kind, message, error });
    } catch {
      // A throwing diagnostic sink must not break the connection it reports on.
    }
  }
}
