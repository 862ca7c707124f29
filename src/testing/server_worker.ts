import { JobStatus, JobType, ServerInfo, ServerInfo_Edition, ServerMessage, type WorkerMessage, WorkerStatus } from '@livekit/protocol';
import type { WebSocket } from 'ws';
import { decodeWorkerMessage } from '../worker/protocol_codec.js';
import type { AvailabilityRecord, JobUpdateRecord, WorkerRecord } from './dispatch_types.js';

/** What a worker socket reports to the server, one callback per message kind. */
export interface ServerWorkerEvents {
  registered(worker: ServerWorker): void;
  changed(): void;
  answer(worker: ServerWorker, record: AvailabilityRecord): void;
  jobUpdate(record: JobUpdateRecord): void;
  closed(worker: ServerWorker): void;
}

const JOB_STATUS_NAMES: Record<JobStatus, JobUpdateRecord['status']> = {
  [JobStatus.JS_PENDING]: 'pending',
  [JobStatus.JS_RUNNING]: 'running',
  [JobStatus.JS_SUCCESS]: 'success',
  [JobStatus.JS_FAILED]: 'failed',
};

let workerSeq = 0;

/**
 * One worker's socket on the stand-in server. Like LiveKit, it insists on `register` as the
 * first message and answers it before anything else; protobuf frames only.
 */
export class ServerWorker {
  record: WorkerRecord | undefined;
  pings = 0;

  constructor(
    readonly socket: WebSocket,
    private readonly workerToken: string | undefined,
    private readonly events: ServerWorkerEvents,
  ) {
    socket.on('message', (data, isBinary) => {
      let message: WorkerMessage;
      try {
        message = decodeWorkerMessage(data, isBinary);
      } catch {
        socket.close(1003, 'worker messages must be binary protobuf');
        return;
      }
      this.onMessage(message);
    });
    socket.on('close', () => {
      if (this.record) this.record.connected = false;
      this.events.closed(this);
      this.events.changed();
    });
  }

  send(message: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(message.toBinary());
  }

  private onMessage(message: WorkerMessage): void {
    if (!this.record && message.message.case !== 'register') {
      this.socket.close(1008, 'register must be the first message');
      return;
    }
    switch (message.message.case) {
      case 'register': {
        if (this.record) return;
        const value = message.message.value;
        const workerId = `AW_${(++workerSeq).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
        this.record = {
          workerId,
          agentName: value.agentName,
          version: value.version,
          jobType: (JobType[value.type] ?? 'JT_ROOM').replace('JT_', '').toLowerCase(),
          workerToken: this.workerToken,
          connected: true,
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
        break;
      }
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
          workerId: this.record!.workerId,
          available: value.available,
          participantIdentity: value.participantIdentity,
          participantName: value.participantName,
          participantMetadata: value.participantMetadata,
          participantAttributes: { ...value.participantAttributes },
        });
        break;
      }
      case 'updateJob': {
        const value = message.message.value;
        this.events.jobUpdate({
          jobId: value.jobId,
          workerId: this.record!.workerId,
          status: JOB_STATUS_NAMES[value.status] ?? 'pending',
          error: value.error,
        });
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
}
