import {
  JobStatus,
  JobType,
  type ParticipantPermission,
  ServerInfo,
  ServerInfo_Edition,
  ServerMessage,
  type WorkerMessage,
  WorkerStatus,
} from '@livekit/protocol';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../util/clock.js';
import { decodeWorkerMessage } from '../worker/protocol_codec.js';
import type { AvailabilityRecord, JobStatusName, JobUpdateRecord, WorkerRecord } from './dispatch_types.js';

/** What a worker socket reports to the server, one callback per message kind. */
export interface ServerWorkerEvents {
  registered(worker: ServerWorker): void;
  changed(): void;
  answer(worker: ServerWorker, record: AvailabilityRecord & { terminate: boolean }): void;
  jobUpdate(worker: ServerWorker, record: JobUpdateRecord): void;
  closed(worker: ServerWorker): void;
}

export interface ServerWorkerTimers {
  clock: Clock;
  pingIntervalMs: number;
  registerTimeoutMs: number;
}

const JOB_STATUS_NAMES: Record<JobStatus, JobStatusName> = {
  [JobStatus.JS_PENDING]: 'pending',
  [JobStatus.JS_RUNNING]: 'running',
  [JobStatus.JS_SUCCESS]: 'success',
  [JobStatus.JS_FAILED]: 'failed',
};

let workerSeq = 0;

/**
 * One worker's socket on the stand-in server, as LiveKit's `AgentHandler.HandleConnection`
 * treats it: `register` first within the register deadline, WebSocket pings on an interval,
 * and a set of running jobs that belongs to this connection alone (`Worker.runningJobs`):
 * job updates for any other job are ignored, and the set is forgotten when the socket closes.
 */
export class ServerWorker {
  record: WorkerRecord | undefined;
  permissions: ParticipantPermission | undefined;
  pings = 0;
  /** Jobs assigned on this connection and not ended yet. */
  readonly runningJobs = new Set<string>();
  private silenced = false;
  private registerTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly workerToken: string | undefined,
    private readonly events: ServerWorkerEvents,
    private readonly timers: ServerWorkerTimers,
  ) {
    // LiveKit sets a read deadline for the handshake; a socket that has not registered by then is dropped.
    this.registerTimer = timers.clock.setTimer(() => {
      if (!this.record) socket.close(1008, 'register deadline passed');
    }, timers.registerTimeoutMs);
    socket.on('message', (data, isBinary) => {
      if (this.silenced) return;
      let message: WorkerMessage;
      try {
        message = decodeWorkerMessage(data, isBinary);
      } catch {
        socket.close(1003, 'worker messages must be binary protobuf');
        return;
      }
      this.onMessage(message);
    });
    // The server is built with autoPong off, so a silenced socket can stop answering.
    socket.on('ping', (data) => {
      if (!this.silenced) socket.pong(data);
    });
    socket.on('close', () => {
      this.registerTimer?.cancel();
      this.pingTimer?.cancel();
      if (this.record) this.record.connected = false;
      this.events.closed(this);
      this.runningJobs.clear();
      this.events.changed();
    });
    this.schedulePing();
  }

  get workerId(): string {
    return this.record?.workerId ?? '';
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /**
   * From now on the server neither reads from nor writes to this socket, nor answers or
   * sends pings, and keeps it open: a half-open connection as the worker sees it.
   */
  silence(): void {
    this.silenced = true;
    this.pingTimer?.cancel();
  }

  send(message: ServerMessage): boolean {
    if (this.silenced || !this.isOpen) return false;
    this.socket.send(message.toBinary());
    return true;
  }

  private schedulePing(): void {
    const { pingIntervalMs, clock } = this.timers;
    if (pingIntervalMs <= 0) return;
    this.pingTimer = clock.setTimer(() => {
      if (this.silenced || !this.isOpen) return;
      this.socket.ping();
      this.schedulePing();
    }, pingIntervalMs);
  }

  private onMessage(message: WorkerMessage): void {
    if (!this.record && message.message.case !== 'register') {
      this.socket.close(1008, 'register must be the first message');
      return;
    }
    switch (message.message.case) {
      case 'register':
        if (this.record) return;
        this.register(message.message.value);
        break;
      case 'updateWorker': {
        const value = message.message.value;
        const record = this.record!;
        // status is optional on the wire: an update without it keeps the last status.
        if (value.status !== undefined) record.status = value.status === WorkerStatus.WS_FULL ? 'full' : 'available';
        record.load = value.load;
        record.jobCount = value.jobCount;
        record.updates++;
        break;
      }
      case 'availability': {
        const value = message.message.value;
        this.events.answer(this, {
          jobId: value.jobId,
          workerId: this.workerId,
          available: value.available,
          participantIdentity: value.participantIdentity,
          participantName: value.participantName,
          participantMetadata: value.participantMetadata,
          participantAttributes: { ...value.participantAttributes },
          terminate: value.terminate,
        });
        break;
      }
      case 'updateJob': {
        const value = message.message.value;
        const status = JOB_STATUS_NAMES[value.status] ?? 'pending';
        // `Worker.UpdateJobStatus`: only a job running on this connection can be updated.
        const accepted = this.runningJobs.has(value.jobId);
        if (accepted && (status === 'success' || status === 'failed')) this.runningJobs.delete(value.jobId);
        this.events.jobUpdate(this, { jobId: value.jobId, workerId: this.workerId, status, error: value.error, accepted });
        break;
      }
      case 'ping': {
        this.pings++;
        const lastTimestamp = message.message.value.timestamp;
        this.send(new ServerMessage({ message: { case: 'pong', value: { lastTimestamp, timestamp: BigInt(Date.now()) } } }));
        break;
      }
      default:
        return;
    }
    this.events.changed();
  }

  private register(value: Extract<WorkerMessage['message'], { case: 'register' }>['value']): void {
    this.registerTimer?.cancel();
    const workerId = `AW_${(++workerSeq).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    this.permissions = value.allowedPermissions;
    this.record = {
      workerId,
      agentName: value.agentName,
      version: value.version,
      jobType: (JobType[value.type] ?? 'JT_ROOM').replace('JT_', '').toLowerCase(),
      workerToken: this.workerToken,
      deployment: value.deployment ?? '',
      connected: true,
      // LiveKit's Worker starts with the zero status, WS_AVAILABLE, and load 0.
      status: 'available',
      load: 0,
      jobCount: 0,
      updates: 0,
    };
    const serverInfo = new ServerInfo({
      edition: ServerInfo_Edition.Standard,
      version: '0.0.0-openrtc-standin',
      protocol: 16,
      nodeId: 'openrtc-dispatch-standin',
      agentProtocol: 1,
    });
    this.send(new ServerMessage({ message: { case: 'register', value: { workerId, serverInfo } } }));
    this.events.registered(this);
  }
}
