import { JobType, ServerMessage, WorkerMessage } from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import { WebSocket } from 'ws';
import { API_KEY, API_SECRET } from './server_credentials.js';


/** A bare protobuf worker, so the server is tested without our own connection in the way. */
export class RawWorker {
  readonly received: ServerMessage[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = ServerMessage.fromBinary(new Uint8Array(data));
      this.received.push(message);
      this.seen.push(message);
    });
  }

  /** Every offer (availability request) this worker received, by job id. */
  offers(): string[] {
    return this.all('availability').flatMap((m) => (m.case === 'availability' && m.value.job ? [m.value.job.id] : []));
  }

  /** Every message of a kind received so far, without consuming them. */
  all(kind: NonNullable<ServerMessage['message']['case']>): ServerMessage['message'][] {
    return this.seen.filter((m) => m.message.case === kind).map((m) => m.message);
  }

  private readonly seen: ServerMessage[] = [];

  static async open(url: string, grant: { agent?: boolean; roomJoin?: boolean } = { agent: true }, query = ''): Promise<RawWorker> {
    const token = new AccessToken(API_KEY, API_SECRET);
    token.addGrant(grant);
    const socket = new WebSocket(`${url.replace('http', 'ws')}/agent${query}`, { headers: { authorization: `Bearer ${await token.toJwt()}` } });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new RawWorker(socket);
  }

  send(message: NonNullable<ConstructorParameters<typeof WorkerMessage>[0]>['message']): void {
    this.socket.send(new WorkerMessage({ message }).toBinary());
  }

  async next(kind: NonNullable<ServerMessage['message']['case']>): Promise<ServerMessage['message']> {
    for (;;) {
      const found = this.received.find((m) => m.message.case === kind);
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found.message;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async register(agentName: string, deployment = ''): Promise<string> {
    this.send({ case: 'register', value: { type: JobType.JT_ROOM, agentName, version: 'raw', deployment } });
    const message = await this.next('register');
    if (message.case !== 'register') throw new Error('unreachable');
    return message.value.workerId;
  }
}


export type RawAnswer = { available: false } | { available: true; participantIdentity: string } | undefined;

/** Answers every availability request with `decide(jobId)`; undefined leaves it unanswered. */
export function autoAnswer(raw: RawWorker, decide: (jobId: string) => RawAnswer): void {
  raw.socket.on('message', (data: Buffer) => {
    const message = ServerMessage.fromBinary(new Uint8Array(data)).message;
    if (message.case !== 'availability' || !message.value.job) return;
    const answer = decide(message.value.job.id);
    if (answer) raw.send({ case: 'availability', value: { jobId: message.value.job.id, ...answer } });
  });
}
