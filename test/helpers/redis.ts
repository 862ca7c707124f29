import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** The Redis every test shares (CI starts it): tests keep to a key prefix of their own. */
export const SHARED_REDIS_URL = process.env.OPENRTC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `openrtc-test:${label}:${randomUUID().slice(0, 8)}:`;
}

/** A client that fails fast while Redis is down, as the stores' own clients do. */
export function testClient(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
    connectTimeout: 1_000,
  }).on('error', () => undefined);
}

export async function connected(client: Redis): Promise<Redis> {
  if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return client;
}

/** Deletes every key under a prefix. */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A redis-server of the test's own, on its own port, without persistence: stopping it loses everything. */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  private port: number | undefined;

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis();
    await redis.resume();
    return redis;
  }

  get url(): string {
    if (this.port === undefined) throw new Error('the test redis-server was never started');
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and waits until it answers; does nothing while it runs. */
  async resume(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) return;
    this.port ??= await freePort();
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const probe = new Redis({ port: this.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 }).on('error', () => undefined);
    try {
      await until(async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping().catch(() => undefined)) === 'PONG';
      }, `redis-server on port ${this.port}`, 10_000);
    } finally {
      probe.disconnect();
    }
  }

  /** Kills the server (SIGKILL: nothing is saved) and waits for it to be gone. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    this.proc = undefined;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }
}

/** A redis-server for a describe block: started before its tests, running again after each, stopped after all. */
export function ownRedisPerSuite(): OwnRedis {
  const redis = new OwnRedis();
  beforeAll(() => redis.resume());
  afterEach(() => redis.resume());
  afterAll(() => redis.stop());
  return redis;
}

/** Polls an async check until it holds. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
