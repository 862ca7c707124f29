import { chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { OPENRTC_VERSION } from '../version.js';
import {
  type HelloResult, INSPECT_PROTOCOL_VERSION, type InspectResponse, type InspectorState, MAX_REQUEST_BYTES,
  errorResponse, isResponse, parseRequest,
} from './protocol.js';
import { prepareSocketDir, removeDeadSockets, socketName } from './socket_dir.js';

export interface InspectorServerOptions {
  /** Folder of the sockets. Default: `defaultInspectDir()`. */
  dir: string;
  /** Reads the worker's live state; called per request, off the call path. */
  state: () => InspectorState;
  /** Reports inspector trouble; nothing here ever throws into the worker. */
  onDiagnostic?: (message: string) => void;
}

const IDLE_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 32;
let serial = 0;

/**
 * Serves one worker's live state on a local Unix socket (mode 0600 in a 0700 folder).
 * Each connection may send request lines; a line over the size bound, or any fault while
 * answering, ends in an error answer on that connection and nothing else.
 */
export class InspectorServer {
  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  static async start(options: InspectorServerOptions): Promise<InspectorServer> {
    await prepareSocketDir(options.dir);
    await removeDeadSockets(options.dir);
    const socketPath = path.join(options.dir, socketName(process.pid, ++serial));
    await unlink(socketPath).catch(() => undefined);
    const server = net.createServer((socket) => serveConnection(socket, options));
    server.maxConnections = MAX_CONNECTIONS;
    server.on('error', (error) => options.onDiagnostic?.(`inspector: ${errorMessage(error)}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The folder already keeps other users out; the file mode says the same on its own.
    await chmod(socketPath, 0o600);
    // An inspector must never keep a finished worker alive.
    server.unref();
    return new InspectorServer(server, socketPath);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await unlink(this.socketPath).catch(() => undefined);
  }
}

function serveConnection(socket: net.Socket, options: InspectorServerOptions): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => undefined);
  const reply = (response: InspectResponse) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
  };
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return refuseTooLarge(socket, reply);
      if (line.trim() !== '') reply(answer(line, options));
    }
    if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) refuseTooLarge(socket, reply);
  });
}

function refuseTooLarge(socket: net.Socket, reply: (response: InspectResponse) => void): void {
  reply(errorResponse(null, 'request_too_large', `a request line may hold at most ${MAX_REQUEST_BYTES} bytes`));
  socket.end();
  socket.removeAllListeners('data');
}

function answer(line: string, options: InspectorServerOptions): InspectResponse {
  const request = parseRequest(line);
  if (isResponse(request)) return request;
  const id = request.id ?? null;
  try {
    if (request.method === 'hello') {
      const hello: HelloResult = { protocol: INSPECT_PROTOCOL_VERSION, pid: process.pid, openrtcVersion: OPENRTC_VERSION };
      return { v: INSPECT_PROTOCOL_VERSION, id, ok: true, result: hello };
    }
    return { v: INSPECT_PROTOCOL_VERSION, id, ok: true, result: options.state() };
  } catch (error: unknown) {
    options.onDiagnostic?.(`inspector: answering "${request.method}" failed: ${errorMessage(error)}`);
    return errorResponse(id, 'internal_error', 'the worker could not read its state');
  }
}
