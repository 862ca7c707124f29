import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Job, JobState, JobStatus, JobType, Room, ServerMessage } from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import { type WebSocket, WebSocketServer } from 'ws';
import { invalidOption } from '../errors.js';
import { systemClock } from '../util/clock.js';
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
import { ServerAuth, refuseUpgrade } from './server_auth.js';
import { ServerWorker } from './server_worker.js';
import { SimulatedCall } from './simulated_call.js';
import { SIM_ROOM_PATH } from './sim_room_protocol.js';
import { Waiters } from './waiters.js';

let jobSeq = 0;
const newId = (prefix: string): string => `${prefix}_${(++jobSeq).toString(36)}${Math.random().toString(36).slice(2, 10)}`;

/**
 * A stand-in for the LiveKit server's agent dispatch, on a real WebSocket: workers register
 * at `/agent` exactly as with LiveKit, tests dispatch jobs and watch the answers, and a
 * simulated room at `/sim/room` lets a session run a scripted call without an SFU.
 */
export class DispatchServer {
  /** Every availability answer, in arrival order (server verdicts included). */
  readonly answers: AvailabilityRecord[] = [];
  /** Every updateJob message, in arrival order. */
  readonly jobUpdates: JobUpdateRecord[] = [];
  /** Upgrades refused for a bad or missing token. */
  rejectedConnections = 0;

  private readonly workerSessions: ServerWorker[] = [];
  private readonly calls = new Map<string, { call: DispatchedCall; worker: ServerWorker | undefined }>();
  private readonly sockets = new Set<WebSocket>();
  /** Jobs offered to a worker whose availability answer has not come yet. */
  private readonly pendingAnswers = new Map<string, { worker: ServerWorker; withhold: boolean }>();
  private readonly waiters = new Waiters();
  private readonly auth: ServerAuth;
  private readonly wss = new WebSocketServer({ noServer: true });
  private closed = false;

  private constructor(
    private readonly options: DispatchServerOptions,
    private readonly http: Server,
    private readonly port: number,
    private readonly host: string,
  ) {
    this.auth = new ServerAuth(options.apiKey, options.apiSecret);
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
    if (typeof options?.apiKey !== 'string' || options.apiKey === '') throw invalidOption('apiKey', 'must be a non-empty string', typeof options?.apiKey);
    if (typeof options.apiSecret !== 'string' || options.apiSecret === '') throw invalidOption('apiSecret', 'must be a non-empty string', typeof options.apiSecret);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidOption('port', 'must be an integer from 0 to 65535', port);
    const host = options.host ?? '127.0.0.1';
    // The API needs the server, and the server needs the listening http server first.
    const routes: { api?: DispatchApi } = {};
    const http = createServer((request, response) => {
      if (routes.api?.handle(request, response)) return;
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.unref();
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

  /** Offers a job to an eligible worker, as LiveKit's dispatch would. */
  dispatch(request: DispatchRequest & DispatchBehaviour, behaviour: DispatchBehaviour = {}): DispatchedCall {
    if (typeof request?.roomName !== 'string' || request.roomName === '') throw invalidOption('roomName', 'must be a non-empty string', request?.roomName);
    const options = { ...request, ...behaviour };
    const job = new Job({
      id: options.jobId ?? newId('AJ'),
      dispatchId: newId('AD'),
      type: JobType.JT_ROOM,
      room: new Room({ name: options.roomName, sid: newId('RM'), metadata: options.roomMetadata ?? '' }),
      namespace: '',
      metadata: options.jobMetadata ?? '',
      agentName: options.agentName ?? '',
      state: new JobState({ status: JobStatus.JS_PENDING, updatedAt: BigInt(Date.now()) }),
      attributes: { ...options.attributes },
    });
    if (this.calls.has(job.id)) throw invalidOption('jobId', 'must be unique on this server', job.id);
    const simulation = options.simulated
      ? new SimulatedCall(options.roomName, options.simulated, this.options.clock ?? systemClock)
      : undefined;
    const call = new DispatchedCall(job, (c) => this.sendTermination(c), simulation);
    const worker = this.pickWorker(job.agentName, options);
    this.calls.set(job.id, { call, worker });
    if (!worker) {
      this.settleWithoutWorker(call, undefined, 'no_worker');
      return call;
    }
    const entry = { worker, withhold: options.withholdAssignment === true };
    this.pendingAnswers.set(job.id, entry);
    worker.send(new ServerMessage({ message: { case: 'availability', value: { job, resuming: false } } }));
    return call;
  }

  /** Cuts a worker's socket without a close frame (the latest connected one by default). */
  dropWorker(workerId?: string): string {
    const worker = [...this.workerSessions]
      .reverse()
      .find((w) => w.record?.connected && (workerId === undefined || w.record.workerId === workerId));
    if (!worker?.record) throw new Error(`dropWorker: no connected worker${workerId ? ` with id ${workerId}` : ''}`);
    worker.socket.terminate();
    return worker.record.workerId;
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

  private pickWorker(agentName: string, behaviour: DispatchBehaviour): ServerWorker | undefined {
    const eligible = this.workerSessions.filter((w) => {
      const r = w.record;
      if (!r?.connected) return false;
      if (behaviour.workerId !== undefined) return r.workerId === behaviour.workerId;
      return r.agentName === agentName && (behaviour.ignoreWorkerStatus === true || r.status !== 'full');
    });
    return eligible.sort((a, b) => a.record!.load - b.record!.load)[0];
  }

  private settleWithoutWorker(call: DispatchedCall, workerId: string | undefined, reason: 'no_worker' | 'worker_disconnected'): void {
    const record: AvailabilityRecord = {
      jobId: call.jobId,
      workerId,
      available: false,
      reason,
      participantIdentity: '',
      participantName: '',
      participantMetadata: '',
      participantAttributes: {},
    };
    this.answers.push(record);
    call.availabilityDeferred.resolve(record);
    call.assignedDeferred.reject(new Error(`job ${call.jobId} was not assigned: ${reason}`));
    this.waiters.check();
  }

  private onAnswer(worker: ServerWorker, record: AvailabilityRecord): void {
    const pending = this.pendingAnswers.get(record.jobId);
    const entry = this.calls.get(record.jobId);
    if (!pending || pending.worker !== worker || !entry) return;
    this.pendingAnswers.delete(record.jobId);
    this.answers.push(record);
    const { call } = entry;
    call.availabilityDeferred.resolve(record);
    if (!record.available) {
      call.assignedDeferred.reject(new Error(`job ${call.jobId} was refused by worker ${record.workerId ?? ''}`));
      return;
    }
    if (pending.withhold) return;
    this.sendAssignment(worker, call, record).catch((error: unknown) => call.assignedDeferred.reject(error));
  }

  private async sendAssignment(worker: ServerWorker, call: DispatchedCall, record: AvailabilityRecord): Promise<void> {
    const token = new AccessToken(this.options.apiKey, this.options.apiSecret, {
      // LiveKit names the agent participant itself when the worker gives no identity.
      identity: record.participantIdentity || `agent-${call.jobId}`,
      name: record.participantName,
      metadata: record.participantMetadata,
      attributes: record.participantAttributes,
      ttl: '1h',
    });
    token.kind = 'agent';
    token.addGrant({
      room: call.roomName,
      roomJoin: true,
      agent: true,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      canUpdateOwnMetadata: true,
    });
    const job = call.job.clone();
    job.state = new JobState({
      status: JobStatus.JS_RUNNING,
      participantIdentity: record.participantIdentity,
      workerId: record.workerId ?? '',
      startedAt: BigInt(Date.now()),
      updatedAt: BigInt(Date.now()),
    });
    const url = this.options.assignmentUrl ?? this.url;
    worker.send(new ServerMessage({ message: { case: 'assignment', value: { job, url, token: await token.toJwt() } } }));
    call.assignedDeferred.resolve();
    this.waiters.check();
  }

  private sendTermination(call: DispatchedCall): void {
    const worker = this.calls.get(call.jobId)?.worker;
    worker?.send(new ServerMessage({ message: { case: 'termination', value: { jobId: call.jobId } } }));
  }

  private onWorkerClosed(worker: ServerWorker): void {
    for (const [jobId, pending] of this.pendingAnswers) {
      if (pending.worker !== worker) continue;
      this.pendingAnswers.delete(jobId);
      const call = this.calls.get(jobId)?.call;
      if (call) this.settleWithoutWorker(call, worker.record?.workerId, 'worker_disconnected');
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
      jobUpdate: (record) => this.jobUpdates.push(record),
      closed: (w) => this.onWorkerClosed(w),
    });
  }
}
