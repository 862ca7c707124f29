import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, shutdownLogger } from '../../src/index.js';
import { BatchedDestination } from '../../src/telemetry/batched_destination.js';
import { ManualClock } from '../../src/testing/index.js';

const EXIT_PROBE = fileURLToPath(new URL('../fixtures/batched_log_exit.ts', import.meta.url));

function recordingSink() {
  const writes: string[] = [];
  return { writes, sink: { write: (chunk: string) => void writes.push(chunk) } };
}

describe('BatchedDestination', () => {
  it('holds lines until the delay has passed, then writes them in order in one write', () => {
    const clock = new ManualClock();
    const { writes, sink } = recordingSink();
    const out = new BatchedDestination(sink, { clock, maxDelayMs: 100 });
    out.write('a\n');
    clock.advance(60);
    out.write('b\n');
    expect(writes).toEqual([]);
    // The delay counts from the first waiting line, not the last.
    clock.advance(40);
    expect(writes).toEqual(['a\nb\n']);
    clock.advance(1_000);
    expect(writes).toEqual(['a\nb\n']);
  });

  it('writes at once when the waiting lines reach the size bound', () => {
    const clock = new ManualClock();
    const { writes, sink } = recordingSink();
    const out = new BatchedDestination(sink, { clock, maxPendingChars: 10 });
    out.write('12345\n');
    expect(writes).toEqual([]);
    out.write('6789\n');
    expect(writes).toEqual(['12345\n6789\n']);
    // The timer of the flushed batch does not write an empty one later.
    clock.advance(1_000);
    expect(writes).toHaveLength(1);
  });

  it('flush writes what waits and calls back; with nothing waiting it writes nothing', () => {
    const { writes, sink } = recordingSink();
    const out = new BatchedDestination(sink, { clock: new ManualClock() });
    const done = vi.fn();
    out.flush(done);
    expect(writes).toEqual([]);
    expect(done).toHaveBeenCalledTimes(1);
    out.write('x\n');
    out.flush();
    expect(writes).toEqual(['x\n']);
  });
});

describe('createLogger writing to stdout in batches', () => {
  afterEach(() => vi.restoreAllMocks());

  function stdoutWrites() {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    }));
    return writes;
  }

  it('holds info lines, writes an error line at once with the ones before it, and flushes at shutdown', async () => {
    const clock = new ManualClock();
    const writes = stdoutWrites();
    const logger = createLogger({ level: 'info', otlp: false, batch: { clock, maxDelayMs: 100 } });
    logger.info('first');
    logger.child({ component: 'livekit-agents' }).info('second');
    expect(writes).toEqual([]);
    logger.error('went wrong');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['first', 'second', 'went wrong']);

    logger.info('later');
    clock.advance(100);
    expect(writes).toHaveLength(2);
    logger.warn('last');
    await shutdownLogger(logger);
    expect(writes).toHaveLength(3);
    expect(writes[2]).toContain('"msg":"last"');
  });

  it('writes every line as it comes with batch: false', () => {
    const writes = stdoutWrites();
    const logger = createLogger({ level: 'info', otlp: false, batch: false });
    logger.info('one');
    logger.info('two');
    expect(writes).toHaveLength(2);
  });

  it('loses no waiting line when the process exits, by process.exit or an uncaught exception', () => {
    for (const ending of ['exit', 'throw']) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', EXIT_PROBE, ending], { encoding: 'utf8', timeout: 60_000 });
      const messages = run.stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages, `${ending}: ${run.stderr}`).toEqual(['held 1', 'held 2']);
      expect(run.status).toBe(ending === 'exit' ? 0 : 1);
    }
  });
});
