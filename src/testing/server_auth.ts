import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ClaimGrants, TokenVerifier } from 'livekit-server-sdk';

/**
 * Token checks as LiveKit makes them: a JWT signed with the API secret, carrying the grant
 * the endpoint needs. A failed check answers the upgrade with a plain HTTP status, which is
 * what a worker sees from a real server (`Unexpected server response: 401`).
 */
export class ServerAuth {
  private readonly verifier: TokenVerifier;

  constructor(apiKey: string, apiSecret: string) {
    this.verifier = new TokenVerifier(apiKey, apiSecret);
  }

  /** The worker endpoint: `authorization: Bearer <jwt>` with `video.agent === true`. */
  async verifyWorker(request: IncomingMessage): Promise<ClaimGrants | undefined> {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1]) return undefined;
    const grants = await this.verify(match[1]);
    return grants?.video?.agent === true ? grants : undefined;
  }

  /** The server API (Twirp): `authorization: Bearer <jwt>`; the caller checks the grant. */
  async verifyApi(request: IncomingMessage): Promise<ClaimGrants | undefined> {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    return match?.[1] ? this.verify(match[1]) : undefined;
  }

  /** The simulated room endpoint: `?access_token=<jwt>` with `roomJoin` for a named room. */
  async verifyRoom(token: string | null): Promise<ClaimGrants | undefined> {
    if (!token) return undefined;
    const grants = await this.verify(token);
    return grants?.video?.roomJoin === true && grants.video.room ? grants : undefined;
  }

  private async verify(token: string): Promise<ClaimGrants | undefined> {
    try {
      return await this.verifier.verify(token);
    } catch {
      return undefined;
    }
  }
}

/** Refuses an upgrade with a bare HTTP response and drops the socket. */
export function refuseUpgrade(socket: Duplex, status: 401 | 404 | 400, text: string): void {
  // As ws does it: destroy only after the response is flushed, or the client sees a reset.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
