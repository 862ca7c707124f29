import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { sendBatched } from '../../src/worker/tick_writes.js';

let server: WebSocketServer | undefined;
let client: WebSocket | undefined;

afterEach(async () => {
  client?.terminate();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
  client = undefined;
});

/** A connected client, the frames its server receives, and a count of the writes that reach its TCP socket. */
async function connected() {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const received: string[] = [];
  server.on('connection', (socket) => socket.on('message', (data) => received.push(Buffer.from(data as Buffer).toString())));
  client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await once(client, 'open');
  // Every write that leaves the stream's buffer for the TCP handle goes through one of these.
  const raw = (client as unknown as { _socket: Record<'_write' | '_writev', (...args: unknown[]) => unknown> })._socket;
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = raw[name].bind(raw);
    raw[name] = (...args: unknown[]) => {
      writes += 1;
      return original(...args);
    };
  }
  const writeCount = () => writes;
  const send = (text: string) => new Promise<void>((resolve, reject) => {
    sendBatched(client!, Buffer.from(text), (error) => (error ? reject(error) : resolve()));
  });
  const receivedAll = async (n: number) => {
    for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    return received;
  };
  return { send, writeCount, receivedAll };
}

describe('sendBatched', () => {
  it('writes the frames sent within one tick, promise jobs included, in one write, each still its own message', async () => {
    const { send, writeCount, receivedAll } = await connected();
    const sent = [send('one'), send('two')];
    await Promise.resolve();
    sent.push(send('three'));
    await Promise.all(sent);
    expect(writeCount()).toBe(1);
    expect(await receivedAll(3)).toEqual(['one', 'two', 'three']);
  });

  it('writes frames of different ticks separately', async () => {
    const { send, writeCount, receivedAll } = await connected();
    await send('first');
    await new Promise((r) => setImmediate(r));
    await send('second');
    expect(writeCount()).toBe(2);
    expect(await receivedAll(2)).toEqual(['first', 'second']);
  });
});
