import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ServerMessage } from '@livekit/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { invalidOption } from '../errors.js';
import { listenHttp, matches, resolveServerSettings, validateOptions } from './dispatch_options.js';
import type { Clock } from '../util/clock.js';
import { assignmentMessage, pendingJob } from './dispatch_job.js';
import { DispatchedCall } from './dispatched_call.js';
import type {
  AvailabilityRecord,
  DispatchBehaviour,
  DispatchRequest,
  DispatchServerOptions,
  JobUpdateRecord,
  WorkerRecord,
} from './dispatch_types.js';
import { DispatchApi } from './dispatch_api.js';
import { JobRequest, type JobRequestSettings } from './job_request.js';
import { ServerAuth, refuseUpgrade } from './server_auth.js';
import { ServerWorker, type ServerWorkerTimers } from './server_worker.js';
import { SimulatedCall } from './simulated_call.js';
import { SIM_ROOM_PATH } from './sim_room_protocol.js';
import { Waiters } from './waiters.js';

interface CallEntry {
  call: DispatchedCall;
  /** The worker connection the job runs on, once assigned. */
  owner: ServerWorker | undefined;
  request: JobRequest | undefined;
  /** An accepted job whose assignment the test withheld, until `sendWithheldAssignment`. */
  withheld?: { worker: ServerWorker; record: AvailabilityRecord };
}

/**
 * A stand-in for the LiveKit server's agent dispatch, on a real WebSocket: workers register
 * at `/agent` exactly as with LiveKit, tests dispatch jobs and watch the answers, and a
 * simulated room at `/sim/room` lets a session run a scripted call without an SFU. Its
 * defaults follow LiveKit's own dispatch (see docs/architecture.md): target load, weighted
 * random choice, one deadline per job request, retry after a refusal or a closed worker,
 * job ownership per connection, termination when the agent leaves its room, pings.
 */
export class DispatchServer {
  /** Every availability answer that arrived in time, in arrival order, and the server's verdicts. */
  readonly answers: AvailabilityRecord[] = [];
  /** Answers that came after the request's deadline (or for a job nobody asked about): ignored. */
  readonly lateAnswers: AvailabilityRecord[] = [];
  /** Every updateJob message, in arrival order; `accepted` false when the server ignored it. */
  readonly jobUpdates: JobUpdateRecord[] = [];
  /** Upgrades refused for a bad or missing token. */
  rejectedConnections = 0;

  private readonly workerSessions: ServerWorker[] = [];
  private readonly calls = new Map<string, CallEntry>();
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters = new Waiters();
  private readonly auth: ServerAuth;
  // autoPong off: a silenced worker socket must be able to stop answering pings.
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false });
  private readonly clock: Clock;
  private readonly requestSettings: JobRequestSettings;
  private readonly workerTimers: ServerWorkerTimers;
  private closed = false;

  private constructor(
    private readonly options: DispatchServerOptions,
    private readonly http: Server,
    private readonly port: number,
    private readonly host: string,
  ) {
    this.auth = new ServerAuth(options.apiKey, options.apiSecret);
    ({ clock: this.clock, requestSettings: this.requestSettings, workerTimers: this.workerTimers } = resolveServerSettings(options));
    this.wss.on('connection', (socket: WebSocket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.waiters.check();
      });
    });
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onUpgrade(request, socket, head);
    });
  }

  static async start(options: DispatchServerOptions): Promise<DispatchServer> {
    validateOptions(options);
    const port = options.port ?? 0;
    const host = options.host ?? '127.0.0.1';
    // The API needs the server, and the server needs the listening http server first.
    const routes: { api?: DispatchApi } = {};
    const http = await listenHttp(host, port, (request, response) => {
      if (routes.api?.handle(request, response)) return;
      response.statusCode = 404;
      response.end();
    });
    const server = new DispatchServer(options, http, (http.address() as AddressInfo).port, host);
    routes.api = new DispatchApi(new ServerAuth(options.apiKey, options.apiSecret), (request) => server.dispatch(request), options.apiCaller);
    return server;
  }

  /** `http://host:port`: what a worker is given as its LiveKit url. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://${this.host}:${this.port}`;
  }

  /** Every worker that registered, in order, with its latest status. */
  get workers(): WorkerRecord[] {
    return this.workerSessions.flatMap((w) => (w.record ? [{ ...w.record }] : []));
  }

  /** Sockets still open (workers and simulated rooms). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** How many app-level pings workers sent. */
  get pings(): number {
    return this.workerSessions.reduce((sum, w) => sum + w.pings, 0);
  }

  /** Resolves with the first registered, connected worker matching `filter` (now or later). */
  waitForWorker(filter: { agentName?: string; exclude?: string[] } = {}, timeoutMs = 10_000): Promise<WorkerRecord> {
    return this.waitFor(
      () =>
        this.workers.find(
          (w) =>
            w.connected &&
            (filter.agentName === undefined || w.agentName === filter.agentName) &&
            !(filter.exclude ?? []).includes(w.workerId),
        ),
      `a worker matching ${JSON.stringify(filter)}`,
      timeoutMs,
    );
  }

  /** Resolves with `check()`'s first truthy value, re-checked after every protocol event. */
  waitFor<T>(check: () => T | undefined | false | null, what = 'a condition', timeoutMs = 10_000): Promise<T> {
    return this.waiters.add(check, what, timeoutMs);
  }

  /** Sends a job request as LiveKit's dispatch would; the handle reports what became of it. */
  dispatch(request: DispatchRequest & DispatchBehaviour, behaviour: DispatchBehaviour = {}): DispatchedCall {
    if (typeof request?.roomName !== 'string' || request.roomName === '') throw invalidOption('roomName', 'must be a non-empty string', request?.roomName);
    const options = { ...request, ...behaviour };
    const job = pendingJob(options);
    if (this.calls.has(job.id)) throw invalidOption('jobId', 'must be unique on this server', job.id);
    const simulation = options.simulated ? new SimulatedCall(options.roomName, options.simulated, this.clock) : undefined;
    const call = new DispatchedCall(job, (c) => this.terminateJob(c, 'requested'), simulation);
    const jobRequest = new JobRequest(call, this.requestSettings, {
      candidates: () => this.workerSessions.filter((w) => w.isOpen && matches(w.record, job)),
      pinnedWorkerId: options.workerId,
      ignoreWorkerStatus: options.ignoreWorkerStatus === true,
    });
    const entry: CallEntry = { call, owner: undefined, request: jobRequest };
    this.calls.set(job.id, entry);
    // `Room` asks for a termination when the agent participant leaves (`AGENT_LEFT_ROOM`);
    // that travels as an RPC, after the room has seen the participant go.
    void simulation?.ended.then((end) => {
      if (end.reason === 'agent_left') setImmediate(() => this.terminateJob(call, 'agent_left_room'));
    });
    void this.runJobRequest(entry, jobRequest, options.withholdAssignment === true);
    return call;
  }

  /**
   * Sends the assignment of a job dispatched with `withholdAssignment` now, as a server
   * that is slow to assign would: the worker may have given the slot up by then.
   */
  async sendWithheldAssignment(jobId: string): Promise<void> {
    const entry = this.calls.get(jobId);
    if (!entry?.withheld) throw new Error(`sendWithheldAssignment: job ${jobId} has no withheld assignment`);
    const { worker, record } = entry.withheld;
    entry.withheld = undefined;
    await this.sendAssignment(entry, worker, record).catch((error: unknown) => entry.call.assignedDeferred.reject(error));
  }

  /** Cuts a worker's socket without a close frame (the latest connected one by default). */
  dropWorker(workerId?: string): string {
    const worker = this.connectedWorker('dropWorker', workerId);
    worker.socket.terminate();
    return worker.workerId;
  }

  /**
   * Makes a worker's connection go silent without closing it (the latest connected one by
   * default): the server stops reading, writing and answering pings, as over a half-open
   * TCP connection. The worker must notice by itself.
   */
  silenceWorker(workerId?: string): string {
    const worker = this.connectedWorker('silenceWorker', workerId);
    worker.silence();
    return worker.workerId;
  }

  /** Stops listening and terminates every socket still open; returns how many were. */
  async close(): Promise<{ openSockets: number }> {
    if (this.closed) return { openSockets: 0 };
    this.closed = true;
    const openSockets = this.sockets.size;
    for (const { call } of this.calls.values()) call.simulation?.end('server_closed', false);
    for (const socket of this.sockets) socket.terminate();
    this.waiters.cancelAll('the dispatch server closed');
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    return { openSockets };
  }

  private connectedWorker(method: string, workerId: string | undefined): ServerWorker {
    const worker = [...this.workerSessions]
      .reverse()
      .find((w) => w.record?.connected && (workerId === undefined || w.workerId === workerId));
    if (!worker?.record) throw new Error(`${method}: no connected worker${workerId ? ` with id ${workerId}` : ''}`);
    return worker;
  }

  private async runJobRequest(entry: CallEntry, jobRequest: JobRequest, withhold: boolean): Promise<void> {
    const { call } = entry;
    const result = await jobRequest.run();
    entry.request = undefined;
    if (result.kind === 'settled') {
      if (result.verdict) this.answers.push(result.record);
      call.availabilityDeferred.resolve(result.record);
      const why = result.verdict ? result.record.reason : `refused by worker ${result.record.workerId ?? ''}`;
      call.assignedDeferred.reject(new Error(`job ${call.jobId} was not assigned: ${why}`));
      this.waiters.check();
      return;
    }
    const { worker, record } = result;
    call.availabilityDeferred.resolve(record);
    if (result.terminate) {
      // The worker answered that the job is already done (`AvailabilityResponse.terminate`).
      call.state = { status: 'success', error: '', workerId: undefined };
      call.assignedDeferred.reject(new Error(`job ${call.jobId} was ended by worker ${record.workerId ?? ''} at availability`));
    } else if (withhold) {
      entry.withheld = { worker, record };
    } else {
      await this.sendAssignment(entry, worker, record).catch((error: unknown) => call.assignedDeferred.reject(error));
    }
    this.waiters.check();
  }

  private async sendAssignment(entry: CallEntry, worker: ServerWorker, record: AvailabilityRecord): Promise<void> {
    const { call } = entry;
    if (!worker.send(await assignmentMessage(this.options, call, worker, record))) {
      throw new Error(`job ${call.jobId} was not assigned: worker ${worker.workerId} closed before its assignment`);
    }
    entry.owner = worker;
    worker.runningJobs.add(call.jobId);
    call.state = { status: 'running', error: '', workerId: worker.workerId };
    call.assignedDeferred.resolve();
  }

  /**
   * `Worker.TerminateJob`: only a job still running on a live connection is terminated; a
   * requested termination ends it as success, an agent leaving its room as failed.
   */
  private terminateJob(call: DispatchedCall, reason: 'requested' | 'agent_left_room'): void {
    const owner = this.calls.get(call.jobId)?.owner;
    if (!owner?.runningJobs.has(call.jobId)) return;
    owner.send(new ServerMessage({ message: { case: 'termination', value: { jobId: call.jobId } } }));
    owner.runningJobs.delete(call.jobId);
    call.state = reason === 'agent_left_room'
      ? { status: 'failed', error: 'agent worker left the room', workerId: owner.workerId }
      : { status: 'success', error: '', workerId: owner.workerId };
    this.waiters.check();
  }

  private onAnswer(worker: ServerWorker, record: AvailabilityRecord & { terminate: boolean }): void {
    const { terminate, ...plain } = record;
    const request = this.calls.get(record.jobId)?.request;
    if (!request?.answer(worker, plain, terminate)) {
      // `Worker.HandleAvailability`: an answer nobody waits for is logged and dropped.
      this.lateAnswers.push(plain);
      this.waiters.check();
      return;
    }
    this.answers.push(plain);
  }

  private onJobUpdate(record: JobUpdateRecord): void {
    this.jobUpdates.push(record);
    const call = this.calls.get(record.jobId)?.call;
    if (record.accepted && call) call.state = { status: record.status, error: record.error, workerId: record.workerId };
  }

  private onWorkerClosed(worker: ServerWorker): void {
    for (const entry of this.calls.values()) {
      entry.request?.workerClosed(worker);
      // `deregisterWorker`: the connection's jobs are forgotten; nothing reaches them any more.
      if (entry.owner === worker && entry.call.state && worker.runningJobs.has(entry.call.jobId)) {
        entry.call.state = { ...entry.call.state, workerId: undefined };
      }
    }
  }

  private async onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/agent') {
      if (!(await this.auth.verifyWorker(request))) return this.refuse(socket, 401);
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        this.wss.emit('connection', ws, request);
        this.acceptWorker(ws, url.searchParams.get('worker_token') ?? undefined);
      });
      return;
    }
    if (path === `/${SIM_ROOM_PATH}`) {
      const grants = await this.auth.verifyRoom(url.searchParams.get('access_token'));
      if (!grants) return this.refuse(socket, 401);
      const room = grants.video?.room;
      const call = [...this.calls.values()]
        .map((e) => e.call)
        .find((c) => c.roomName === room && c.simulation && !c.simulation.isJoined && !c.simulation.isEnded);
      if (!call?.simulation) return refuseUpgrade(socket, 404, 'Not Found');
      const simulation = call.simulation;
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        this.wss.emit('connection', ws, request);
        simulation.attach(ws);
        this.waiters.check();
      });
      return;
    }
    refuseUpgrade(socket, 404, 'Not Found');
  }

  private refuse(socket: Duplex, status: 401): void {
    this.rejectedConnections++;
    refuseUpgrade(socket, status, 'Unauthorized');
    this.waiters.check();
  }

  private acceptWorker(socket: WebSocket, workerToken: string | undefined): void {
    new ServerWorker(socket, workerToken, {
      registered: (w) => this.workerSessions.push(w),
      changed: () => this.waiters.check(),
      answer: (w, record) => this.onAnswer(w, record),
      jobUpdate: (_w, record) => this.onJobUpdate(record),
      closed: (w) => this.onWorkerClosed(w),
    }, this.workerTimers);
  }
}
