import { unlink } from 'node:fs/promises';
import net from 'node:net';
import { OpenRtcError } from '../errors.js';
import { INSPECT_PROTOCOL_VERSION, type InspectMethod, type InspectResponse, type InspectorState } from './protocol.js';
import { checkSocketDir, listSocketFiles, processAlive, socketPid } from './socket_dir.js';

const DEFAULT_TIMEOUT_MS = 3_000;
/** An answer larger than this is cut off: a client must not buffer without bound either. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Sends one request and reads one answer line. */
export function inspectRequest(socketPath: string, method: InspectMethod, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<InspectResponse> {
  return sendRaw(socketPath, JSON.stringify({ v: INSPECT_PROTOCOL_VERSION, id: 1, method }), timeoutMs).then((line) => JSON.parse(line) as InspectResponse);
}

/** Writes raw text (one line) and returns the first answer line; for the protocol's own tests too. */
export function sendRaw(socketPath: string, text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let received = '';
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => fail(new OpenRtcError('connection_error', `inspector at ${socketPath} did not answer within ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('connect', () => socket.write(`${text}\n`));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline >= 0) {
        socket.destroy();
        resolve(received.slice(0, newline));
      } else if (received.length > MAX_RESPONSE_BYTES) {
        fail(new OpenRtcError('connection_error', `inspector at ${socketPath} answered more than ${MAX_RESPONSE_BYTES} bytes`));
      }
    });
    socket.on('end', () => {
      if (!received.includes('\n')) fail(new OpenRtcError('connection_error', `inspector at ${socketPath} closed without an answer`));
    });
  });
}

export async function readWorkerState(socketPath: string, timeoutMs?: number): Promise<InspectorState> {
  const response = await inspectRequest(socketPath, 'state', timeoutMs);
  if (!response.ok) throw new OpenRtcError('connection_error', `inspector at ${socketPath}: ${response.error.code}: ${response.error.message}`);
  return response.result as InspectorState;
}

export interface HostWorkers {
  workers: InspectorState[];
  /** Sockets left by workers that were killed; removed when their process is gone. */
  stale: string[];
  /** Sockets that exist but did not answer in time (a busy or stuck worker). */
  unreachable: { socket: string; reason: string }[];
}

/** Every worker of this user on this host, read through its inspector socket. */
export async function listHostWorkers(dir: string, timeoutMs?: number): Promise<HostWorkers> {
  const result: HostWorkers = { workers: [], stale: [], unreachable: [] };
  if (!(await checkSocketDir(dir))) return result;
  const files = await listSocketFiles(dir);
  await Promise.all(files.map(async (socket) => {
    try {
      result.workers.push(await readWorkerState(socket, timeoutMs));
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException).code;
      const pid = socketPid(socket);
      if ((code === 'ECONNREFUSED' || code === 'ENOENT') && (pid === undefined || !processAlive(pid))) {
        result.stale.push(socket);
        await unlink(socket).catch(() => undefined);
      } else {
        result.unreachable.push({ socket, reason: error instanceof Error ? error.message : String(code) });
      }
    }
  }));
  result.workers.sort((a, b) => a.worker.socket.localeCompare(b.worker.socket));
  return result;
}
