import { AccessToken } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallConnection } from '../../src/session/room_transport.js';
import { DispatchServer } from '../../src/testing/dispatch_server.js';
import { ManualClock } from '../../src/testing/manual_clock.js';
import { SimulatedRoomTransport } from '../../src/testing/simulated_room.js';
import { WorkerConnection } from '../../src/worker/worker_connection.js';
import { eventually } from '../helpers/eventually.js';
import { RecordingHandler } from '../helpers/recording_handler.js';
import { API_KEY, API_SECRET } from '../helpers/server_credentials.js';


/** The tiniest agent: echoes every user turn back. */
function echo(connection: CallConnection): void {
  connection.onUserText((text) => connection.sendAgentText(`echo: ${text}`));
}

describe('SimulatedRoomTransport with the stand-in simulated room', () => {
  let server: DispatchServer;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    server = await DispatchServer.start({ apiKey: API_KEY, apiSecret: API_SECRET, clock });
  });

  afterEach(async () => {
    await server.waitFor(() => server.openSockets === 0, 'every socket to close');
    await server.close();
  });

  it('plays a three-turn script against an echoing agent and hangs up after the last reply', async () => {
    const handler = new RecordingHandler();
    const worker = new WorkerConnection({ url: server.url, apiKey: API_KEY, apiSecret: API_SECRET, version: 't', handler, clock });
    await worker.start();
    const call = server.dispatch({ roomName: 'sim-1', simulated: { turns: ['hello', 'what are your hours?', 'thanks, bye'] } });
    await call.assigned;
    const assignment = await eventually(() => handler.assignments[0], 'the assignment');

    const connection = await new SimulatedRoomTransport().connect({
      // LiveKit OSS assigns with no url and the stand-in now follows it: join where the worker connected, as the runner does.
      url: assignment.url || server.url,
      token: assignment.token,
      roomName: assignment.job.roomName,
      jobId: assignment.job.jobId,
    });
    expect(connection.kind).toBe('simulated');
    expect(connection.room).toBeUndefined();
    const reasons: string[] = [];
    connection.onDisconnected((reason) => reasons.push(reason));
    echo(connection);

    await call.joined;
    await expect(call.ended).resolves.toEqual({ reason: 'hangup' });
    expect(call.transcript).toEqual([
      { from: 'user', text: 'hello' },
      { from: 'agent', text: 'echo: hello' },
      { from: 'user', text: 'what are your hours?' },
      { from: 'agent', text: 'echo: what are your hours?' },
      { from: 'user', text: 'thanks, bye' },
      { from: 'agent', text: 'echo: thanks, bye' },
    ]);
    await eventually(() => reasons.length > 0, 'onDisconnected');
    expect(reasons).toEqual(['hangup']);
    await connection.disconnect();
    await connection.disconnect();
    expect(reasons).toEqual(['hangup']);
    await worker.close();
  });

  it('refuses a bad token and names the url', async () => {
    const forged = new AccessToken(API_KEY, 'wrong-secret-wrong-secret-wrong-00', { identity: 'agent' });
    forged.addGrant({ roomJoin: true, room: 'sim-2' });
    server.dispatch({ roomName: 'sim-2', simulated: { turns: ['hi'] } });
    const transport = new SimulatedRoomTransport();
    await expect(transport.connect({ url: server.url, token: await forged.toJwt(), roomName: 'sim-2', jobId: 'j' })).rejects.toThrow(
      new RegExp(`simulated room at ${server.wsUrl}/sim/room .*refused with HTTP 401`),
    );
    await expect(transport.connect({ url: server.url, token: 'not-a-jwt', roomName: 'sim-2', jobId: 'j' })).rejects.toThrow(/HTTP 401/);
    expect(server.rejectedConnections).toBe(2);
  });

  it('refuses a valid token for a room with no simulated call, and an unreachable url', async () => {
    const token = new AccessToken(API_KEY, API_SECRET, { identity: 'agent' });
    token.addGrant({ roomJoin: true, room: 'nowhere' });
    const transport = new SimulatedRoomTransport();
    await expect(transport.connect({ url: server.url, token: await token.toJwt(), roomName: 'nowhere', jobId: 'j' })).rejects.toThrow(/HTTP 404/);
    await expect(transport.connect({ url: 'http://127.0.0.1:1', token: 'x', roomName: 'r', jobId: 'j' })).rejects.toThrow(
      /simulated room at ws:\/\/127\.0\.0\.1:1\/sim\/room/,
    );
  });

  async function join(roomName: string, turns: string[], extra: { turnTimeoutMs?: number; hangupAfterLastReply?: boolean } = {}) {
    const call = server.dispatch({ roomName, simulated: { turns, ...extra } }, { workerId: 'none' });
    const token = new AccessToken(API_KEY, API_SECRET, { identity: 'agent-sim' });
    token.addGrant({ roomJoin: true, room: roomName, agent: true });
    const connection = await new SimulatedRoomTransport().connect({ url: server.url, token: await token.toJwt(), roomName, jobId: call.jobId });
    return { call, connection };
  }

  it('buffers turns that arrive before a listener and ends with agent_left when the agent leaves', async () => {
    const { call, connection } = await join('sim-3', ['first', 'second'], { hangupAfterLastReply: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const heard: string[] = [];
    connection.onUserText((text) => heard.push(text));
    expect(heard).toEqual(['first']);
    connection.sendAgentText('reply');
    await eventually(() => heard.length === 2, 'the second turn');
    call.say('unscripted');
    await eventually(() => heard.length === 3, 'the unscripted turn');
    await connection.disconnect();
    await expect(call.ended).resolves.toEqual({ reason: 'agent_left' });
    const late: string[] = [];
    connection.onDisconnected((reason) => late.push(reason));
    await eventually(() => late.length === 1, 'a late onDisconnected');
    expect(late).toEqual(['agent_left']);
  });

  it('hangs up with turn_timeout when the agent does not answer in time, on the injected clock', async () => {
    const { call, connection } = await join('sim-4', ['anyone there?'], { turnTimeoutMs: 3000 });
    const reasons: string[] = [];
    connection.onDisconnected((reason) => reasons.push(reason));
    clock.advance(2999);
    expect(reasons).toEqual([]);
    clock.advance(1);
    await expect(call.ended).resolves.toEqual({ reason: 'turn_timeout' });
    await eventually(() => reasons.length === 1, 'the disconnect');
    expect(reasons).toEqual(['hangup']);
  });

  it('ends the room side on terminate() and on hangup()', async () => {
    const first = await join('sim-5', ['x']);
    const reasons: string[] = [];
    first.connection.onDisconnected((reason) => reasons.push(reason));
    first.call.terminate();
    await expect(first.call.ended).resolves.toEqual({ reason: 'terminated' });
    await eventually(() => reasons.length === 1, 'the disconnect');
    expect(reasons).toEqual(['terminated']);

    const second = await join('sim-6', ['y']);
    second.call.hangup();
    await expect(second.call.ended).resolves.toEqual({ reason: 'hangup' });
    expect(() => second.call.say('too late')).toThrow(/not live/);
  });
});
