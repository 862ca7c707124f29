// One connection attempt on one socket, up to registration: send `register` once the
// socket opens, wait (bounded) for the server's answer, and turn every way this can fail
// into one rejection. After registration the socket's messages go to the connection.
import type { ServerInfo, ServerMessage, WorkerMessage } from '@livekit/protocol';
import type { WebSocket } from 'ws';
import type { OpenRtcError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { decodeServerMessage } from './protocol_codec.js';
import type { WorkerDiagnostic } from './worker_connection_options.js';

/** What the attempt asks of the connection it serves. */
export interface RegistrationHooks {
  clock: Clock;
  registerTimeoutMs: number;
  register: WorkerMessage;
  /** Sends on this socket if it is open. */
  sendOn(socket: WebSocket, message: WorkerMessage): boolean;
  /** The server registered the worker on `socket`; false when the connection no longer wants it. */
  registered(socket: WebSocket, workerId: string, serverInfo: ServerInfo | undefined): boolean;
  /** The attempt failed before registration: the connection moves on (waits or closes). */
  failed(socket: WebSocket): void;
  /** A registered socket closed. */
  lost(socket: WebSocket, code: number, reason: string): void;
  /** Anything the server sent (message, ping, pong) on this socket. */
  heard(socket: WebSocket): void;
  /** A server message after registration on this socket. */
  message(socket: WebSocket, message: ServerMessage): void;
  diagnose(kind: WorkerDiagnostic['kind'], message: string, error?: unknown): void;
  connectionError(reason: string, cause?: unknown): OpenRtcError;
}

/** Resolves once registered on `socket`; rejects on any failure before that. */
export function awaitRegistration(socket: WebSocket, hooks: RegistrationHooks): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      timeout.cancel();
      socket.terminate();
      hooks.failed(socket);
      reject(hooks.connectionError(reason, cause));
    };
    const timeout = hooks.clock.setTimer(() => fail(`no register response within ${hooks.registerTimeoutMs} ms`), hooks.registerTimeoutMs);
    socket.on('unexpected-response', (_request, response) => {
      fail(`server answered the upgrade with HTTP ${response.statusCode ?? 'unknown'}`);
    });
    socket.on('error', (error) => {
      if (!settled) fail(error.message, error);
      else hooks.diagnose('socket_error', error.message, error);
    });
    socket.on('open', () => hooks.sendOn(socket, hooks.register));
    socket.on('ping', () => hooks.heard(socket));
    socket.on('pong', () => hooks.heard(socket));
    socket.on('message', (data, isBinary) => {
      hooks.heard(socket);
      let message: ServerMessage;
      try {
        message = decodeServerMessage(data, isBinary);
      } catch (error) {
        hooks.diagnose('protocol_error', 'could not decode a server message', error);
        return;
      }
      if (settled) return hooks.message(socket, message);
      if (message.message.case !== 'register') {
        fail(`expected register as the first server message; got ${message.message.case ?? 'an empty message'}`);
        return;
      }
      settled = true;
      timeout.cancel();
      const { workerId, serverInfo } = message.message.value;
      if (!hooks.registered(socket, workerId, serverInfo)) {
        socket.terminate();
        reject(hooks.connectionError('the connection was closed'));
        return;
      }
      resolve();
    });
    socket.on('close', (code, reason) => {
      if (!settled) fail(`socket closed before registration (code ${code})`);
      else hooks.lost(socket, code, reason.toString());
    });
  });
}
