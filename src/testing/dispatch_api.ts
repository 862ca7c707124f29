import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DispatchedCall } from './dispatched_call.js';
import type { DispatchRequest, SimulatedCallScript } from './dispatch_types.js';
import type { ServerAuth } from './server_auth.js';

/** What a job dispatched through the API meets in its simulated room, unless told otherwise. */
export const DEFAULT_API_CALLER: SimulatedCallScript = { turns: ['hello, this is a test call'], hangupAfterLastReply: false };

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The two server API calls `openrtc tenant verify` makes, as LiveKit's Twirp endpoints
 * answer them in JSON: `AgentDispatchService/CreateDispatch` offers a job for the room
 * (whose simulated caller follows `caller`), `RoomService/DeleteRoom` ends the room's calls.
 */
export class DispatchApi {
  private readonly byRoom = new Map<string, DispatchedCall[]>();

  constructor(
    private readonly auth: ServerAuth,
    private readonly dispatch: (request: DispatchRequest) => DispatchedCall,
    private readonly caller: SimulatedCallScript = DEFAULT_API_CALLER,
  ) {}

  /** Answers a request under `/twirp/`; false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const path = request.url ?? '';
    if (!path.startsWith('/twirp/livekit.')) return false;
    void this.answer(path, request, response).catch(() => reply(response, 500, { code: 'internal', msg: 'stand-in server error' }));
    return true;
  }

  private async answer(path: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const grants = await this.auth.verifyApi(request);
    if (!grants?.video?.roomAdmin) return reply(response, 401, { code: 'unauthenticated', msg: 'a token with roomAdmin is required' });
    const body = await readJson(request);
    if (body === undefined) return reply(response, 400, { code: 'malformed', msg: 'the body must be JSON' });
    const room = typeof body.room === 'string' ? body.room : '';
    if (path === '/twirp/livekit.AgentDispatchService/CreateDispatch') {
      if (!room) return reply(response, 400, { code: 'invalid_argument', msg: 'room is required' });
      const agentName = typeof body.agentName === 'string' ? body.agentName : '';
      const metadata = typeof body.metadata === 'string' ? body.metadata : '';
      const call = this.dispatch({ roomName: room, agentName, jobMetadata: metadata, simulated: this.caller });
      this.byRoom.set(room, [...(this.byRoom.get(room) ?? []), call]);
      return reply(response, 200, { id: `AD_${call.jobId}`, agentName, room, metadata });
    }
    if (path === '/twirp/livekit.RoomService/DeleteRoom') {
      for (const call of this.byRoom.get(room) ?? []) call.hangup();
      this.byRoom.delete(room);
      return reply(response, 200, {});
    }
    return reply(response, 404, { code: 'bad_route', msg: 'the stand-in server serves CreateDispatch and DeleteRoom only' });
  }
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > MAX_BODY_BYTES) return undefined;
  }
  try {
    const value: unknown = JSON.parse(text || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
