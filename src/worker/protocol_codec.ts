import { type Job, ServerMessage, WorkerMessage } from '@livekit/protocol';
import type { RawData } from 'ws';
import type { JobRequest } from '../session/job_assignment.js';

/**
 * The wire format of the worker protocol: binary protobuf frames, one message per frame.
 * Both ends (our worker connection and the stand-in server) decode through here, so a
 * text frame or a truncated buffer is reported the same way on either side.
 */

/** Joins the shapes `ws` may deliver a binary frame in into one byte array. */
export function frameBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function decodeServerMessage(data: RawData, isBinary: boolean): ServerMessage {
  if (!isBinary) throw new Error('worker protocol frames must be binary protobuf; got a text frame');
  return ServerMessage.fromBinary(frameBytes(data));
}

export function decodeWorkerMessage(data: RawData, isBinary: boolean): WorkerMessage {
  if (!isBinary) throw new Error('worker protocol frames must be binary protobuf; got a text frame');
  return WorkerMessage.fromBinary(frameBytes(data));
}

/** The handler-facing view of a protobuf `Job`: plain strings, no optional nesting. */
export function toJobRequest(job: Job): JobRequest {
  return {
    jobId: job.id,
    dispatchId: job.dispatchId,
    agentName: job.agentName,
    roomName: job.room?.name ?? '',
    roomSid: job.room?.sid ?? '',
    jobMetadata: job.metadata,
    roomMetadata: job.room?.metadata ?? '',
    attributes: { ...job.attributes },
  };
}

/** `http(s)://host` -> `ws(s)://host`; ws urls pass through. Throws naming the input otherwise. */
export function toWebSocketBase(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`url ${JSON.stringify(url)} is not a valid URL`);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new Error(`url ${JSON.stringify(url)} must use http, https, ws or wss`);
  }
  return parsed;
}

/** Appends `segment` to the url's path, keeping any path prefix the server is mounted under. */
export function withPath(base: URL, segment: string): URL {
  const out = new URL(base.toString());
  out.pathname = `${out.pathname.replace(/\/+$/, '')}/${segment.replace(/^\/+/, '')}`;
  out.search = '';
  out.hash = '';
  return out;
}

/** The text of a text frame, whatever shape `ws` delivered it in. */
export function frameText(data: RawData): string {
  return Buffer.from(frameBytes(data)).toString('utf8');
}
