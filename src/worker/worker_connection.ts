import {
  type AvailabilityRequest,
  JobStatus,
  JobType,
  ParticipantPermission,
  type ServerInfo,
  type ServerMessage,
  WorkerMessage,
  WorkerStatus,
} from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import { WebSocket } from 'ws';
import { OpenRtcError, errorMessage } from '../errors.js';
import type { TimerHandle } from '../util/clock.js';
import { TypedEvents } from '../util/typed_events.js';
import { Backoff } from '../util/backoff.js';
import type { AvailabilityAnswer, JobEndStatus } from './job_handler.js';
import { decodeServerMessage, toJobRequest } from './protocol_codec.js';
import {
  type ResolvedWorkerConnectionOptions,
  type WorkerConnectionOptions,
  resolveWorkerConnectionOptions,
} from './worker_connection_options.js';

export interface WorkerConnectionEvents {
  registered: { workerId: string; serverInfo: ServerInfo | undefined; reconnected: boolean };
  disconnected: { code: number; reason: string };
  reconnecting: { attempt: number; delayMs: number };
}

/** How long `close()` waits for the server's close frame before cutting the socket. */
const CLOSE_GRACE_MS = 2000;
/** Job outcomes kept while disconnected, sent after registering again. */
const MAX_PENDING_JOB_UPDATES = 1000;

/**
 * The worker side of the LiveKit agent protocol: registers, answers availability through
 * the handler, forwards assignments and terminations, reports load, and reconnects on loss.
 * Hosting jobs is the handler's business: a lost socket never ends a job, since LiveKit
 * keeps the job's room alive and the worker re-registers under a new id.
 */
export class WorkerConnection {
  private readonly opts: ResolvedWorkerConnectionOptions;
  private readonly events: TypedEvents<WorkerConnectionEvents>;
  private readonly backoff: Backoff;
  private socket: WebSocket | undefined;
  private registeredId: string | undefined;
  private lastWorkerId: string | undefined;
  private readonly pendingJobUpdates: WorkerMessage[] = [];
  private started = false;
  private closed = false;
  private draining = false;
  private lastSentStatus: WorkerStatus | undefined;
  private updateTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;

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
    return this.registeredId !== undefined;
  }

  on<K extends keyof WorkerConnectionEvents>(name: K, listener: (event: WorkerConnectionEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  /** Connects and registers; rejects with `connection_error` if that first attempt fails. */
  async start(): Promise<void> {
    if (this.started) throw new OpenRtcError('invalid_option', 'WorkerConnection.start() was already called');
    this.started = true;
    try {
      await this.attempt(false);
    } catch (error) {
      this.closed = true;
      throw error;
    }
  }

  /** Reports WS_FULL from now on; refusing requests stays the handler's decision. */
  setDraining(draining = true): void {
    this.draining = draining;
    this.sendStatus();
  }

  /** Sends an update now if the status (available/full) changed since the last one sent. */
  refreshStatus(): void {
    if (this.computeStatus().status !== this.lastSentStatus) this.sendStatus();
  }

  /**
   * Tells the server how a job ended. While the socket is down the update waits and goes
   * out once the worker has registered again (a session can end during a reconnect).
   * Returns true when it was sent now.
   */
  updateJobStatus(jobId: string, status: JobEndStatus, error?: string): boolean {
    const message = new WorkerMessage({
      message: {
        case: 'updateJob',
        value: { jobId, status: status === 'success' ? JobStatus.JS_SUCCESS : JobStatus.JS_FAILED, error: error ?? '' },
      },
    });
    if (!this.closed && (!this.socket || !this.connected)) {
      // Bounded, so a server that never comes back cannot grow this without end.
      if (this.pendingJobUpdates.length >= MAX_PENDING_JOB_UPDATES) this.pendingJobUpdates.shift();
      this.pendingJobUpdates.push(message);
      return false;
    }
    return this.send(message);
  }

  /** Stops reconnecting and closes the socket. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    this.stopUpdates();
    const socket = this.socket;
    this.socket = undefined;
    this.registeredId = undefined;
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

  private async token(): Promise<string> {
    const token = new AccessToken(this.opts.apiKey, this.opts.apiSecret);
    token.addGrant({ agent: true });
    return token.toJwt();
  }

  /** One connection attempt: resolves once registered, rejects on any failure before that. */
  private async attempt(reconnected: boolean): Promise<void> {
    const jwt = await this.token();
    if (this.closed) throw this.connectionError('the connection was closed');
    const socket = new WebSocket(this.opts.agentUrl, { headers: { authorization: `Bearer ${jwt}` } });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        timeout.cancel();
        if (this.socket === socket) this.socket = undefined;
        socket.terminate();
        reject(this.connectionError(reason, cause));
      };
      const timeout = this.opts.clock.setTimer(
        () => fail(`no register response within ${this.opts.registerTimeoutMs} ms`),
        this.opts.registerTimeoutMs,
      );
      socket.on('unexpected-response', (_request, response) => {
        fail(`server answered the upgrade with HTTP ${response.statusCode ?? 'unknown'}`);
      });
      socket.on('error', (error) => {
        if (!settled) fail(error.message, error);
        else this.diagnose('socket_error', error.message, error);
      });
      socket.on('open', () => {
        this.sendOn(socket, this.registerMessage());
      });
      socket.on('message', (data, isBinary) => {
        let message: ServerMessage;
        try {
          message = decodeServerMessage(data, isBinary);
        } catch (error) {
          this.diagnose('protocol_error', 'could not decode a server message', error);
          return;
        }
        if (settled) {
          if (this.socket === socket) this.onServerMessage(message);
          return;
        }
        if (message.message.case !== 'register') {
          fail(`expected register as the first server message; got ${message.message.case ?? 'an empty message'}`);
          return;
        }
        settled = true;
        timeout.cancel();
        this.onRegistered(socket, message.message.value.workerId, message.message.value.serverInfo, reconnected);
        resolve();
      });
      socket.on('close', (code, reason) => {
        if (!settled) fail(`socket closed before registration (code ${code})`);
        else this.onSocketLost(socket, code, reason.toString());
      });
    });
  }

  private registerMessage(): WorkerMessage {
    return new WorkerMessage({
      message: {
        case: 'register',
        value: {
          type: JobType.JT_ROOM,
          agentName: this.opts.agentName,
          version: this.opts.version,
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

  private onRegistered(socket: WebSocket, workerId: string, serverInfo: ServerInfo | undefined, reconnected: boolean): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    this.registeredId = workerId;
    this.lastWorkerId = workerId;
    this.backoff.reset();
    this.lastSentStatus = undefined;
    this.sendStatus();
    for (const update of this.pendingJobUpdates.splice(0)) this.sendOn(socket, update);
    this.scheduleUpdate();
    this.events.emit('registered', { workerId, serverInfo, reconnected });
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
        // The server answers our pings; ws-level ping/pong already keeps the socket alive.
        return;
    }
  }

  private async answerAvailability(request: AvailabilityRequest): Promise<void> {
    const job = request.job;
    if (!job) return this.diagnose('protocol_error', 'availability request without a job');
    let answer: AvailabilityAnswer;
    try {
      answer = await this.opts.handler.onAvailability(toJobRequest(job));
    } catch (error) {
      this.diagnose('handler_error', `onAvailability threw for job ${job.id}; answered as a reject`, error);
      answer = { accept: false, reason: 'handler_error' };
    }
    const value = answer.accept
      ? {
          jobId: job.id,
          available: true,
          participantIdentity: answer.participantIdentity,
          participantName: answer.participantName,
          participantMetadata: answer.participantMetadata,
          participantAttributes: answer.participantAttributes,
        }
      : { jobId: job.id, available: false };
    this.send(new WorkerMessage({ message: { case: 'availability', value } }));
  }

  private callHandler(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.diagnose('handler_error', `${name} threw`, error);
    }
  }

  private computeStatus(): { status: WorkerStatus; load: number; jobCount: number } {
    let load = { load: 0, jobCount: 0, full: false };
    try {
      load = this.opts.handler.load();
    } catch (error) {
      this.diagnose('handler_error', 'load() threw; reporting the worker as full', error);
      load = { load: 1, jobCount: 0, full: true };
    }
    const full = load.full || this.draining;
    return {
      status: full ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE,
      load: Math.min(1, Math.max(0, Number.isFinite(load.load) ? load.load : 1)),
      jobCount: Math.max(0, Math.trunc(load.jobCount)),
    };
  }

  private sendStatus(): void {
    if (!this.connected) return;
    const value = this.computeStatus();
    if (this.send(new WorkerMessage({ message: { case: 'updateWorker', value } }))) this.lastSentStatus = value.status;
  }

  private scheduleUpdate(): void {
    this.stopUpdates();
    this.updateTimer = this.opts.clock.setTimer(() => {
      this.updateTimer = undefined;
      if (!this.connected) return;
      this.sendStatus();
      this.scheduleUpdate();
    }, this.opts.updateIntervalMs);
  }

  private stopUpdates(): void {
    this.updateTimer?.cancel();
    this.updateTimer = undefined;
  }

  private onSocketLost(socket: WebSocket, code: number, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.registeredId = undefined;
    this.stopUpdates();
    this.events.emit('disconnected', { code, reason });
    if (!this.closed) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delayMs = this.backoff.next();
    this.events.emit('reconnecting', { attempt: this.backoff.attempts, delayMs });
    this.reconnectTimer = this.opts.clock.setTimer(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delayMs);
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.attempt(true);
    } catch (error) {
      if (this.closed) return;
      this.diagnose('connect_failed', errorMessage(error), error);
      this.scheduleReconnect();
    }
  }

  private send(message: WorkerMessage): boolean {
    const socket = this.socket;
    if (!socket || !this.connected) {
      this.diagnose('send_failed', `no registered socket for ${message.message.case ?? 'a message'}`);
      return false;
    }
    return this.sendOn(socket, message);
  }

  private sendOn(socket: WebSocket, message: WorkerMessage): boolean {
    if (socket.readyState !== WebSocket.OPEN) return false;
    socket.send(message.toBinary(), (error) => {
      if (error) this.diagnose('send_failed', `could not send ${message.message.case ?? 'a message'}`, error);
    });
    return true;
  }

  private connectionError(reason: string, cause?: unknown): OpenRtcError {
    return new OpenRtcError('connection_error', `worker connection to ${this.opts.url} failed: ${reason}`, { cause });
  }

  private diagnose(kind: Parameters<ResolvedWorkerConnectionOptions['onDiagnostic']>[0]['kind'], message: string, error?: unknown): void {
    try {
      this.opts.onDiagnostic(error === undefined ? { kind, message } : { kind, message, error });
    } catch {
      // A throwing diagnostic sink must not break the connection it reports on.
    }
  }
}
