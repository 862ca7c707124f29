import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { OpenRtcError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { tenantValue } from '../flag_values.js';
import { type LogFilter, formatRecord, matchesFilter, parseLogLine } from '../pretty_log.js';
import type { CommandResult } from '../context.js';

interface LogsOptions {
  tenant?: string;
  session?: string;
  follow?: boolean;
  raw?: boolean;
  color?: boolean;
}

const FOLLOW_POLL_MS = 250;

export function registerLogs(program: Command, ctx: CliContext, result: CommandResult): void {
  program
    .command('logs')
    .description('filter and pretty-print the worker\'s pino JSON logs')
    .argument('[file]', 'a log file, or - for stdin (the default)', '-')
    .option('--tenant <tenant>', 'only records of this tenant')
    .option('--session <id>', 'only records of this session (session id or job id)')
    .option('-f, --follow', 'keep reading as the file grows (a file, not stdin)')
    .option('--raw', 'print the matching JSON lines unchanged')
    .option('--no-color', 'no terminal colours')
    .action(async (file: string, opts: LogsOptions) => {
      const filter: LogFilter = {};
      if (opts.tenant !== undefined) filter.tenant = tenantValue(opts.tenant, '--tenant');
      if (opts.session !== undefined) filter.session = opts.session;
      if (opts.follow && file === '-') throw new OpenRtcError('invalid_option', '--follow needs a file: stdin is read to its end anyway');
      const colour = opts.color !== false && ctx.stdout.isTTY === true && !opts.raw;
      const print = (line: string) => {
        const record = parseLogLine(line);
        if (!record) {
          // Lines that are not records (a crash banner) only pass unfiltered.
          if (filter.tenant === undefined && filter.session === undefined && line !== '') ctx.stdout.write(`${line}\n`);
          return;
        }
        if (matchesFilter(record, filter)) ctx.stdout.write(`${opts.raw ? line : formatRecord(record, colour)}\n`);
      };
      if (file === '-') await readLines(ctx.stdin, print);
      else if (opts.follow) await followFile(path.resolve(ctx.cwd, file), print, ctx);
      else await readLines(createReadStream(path.resolve(ctx.cwd, file), { encoding: 'utf8' }), print);
      result.code = 0;
    });
}

async function readLines(input: Readable, onLine: (line: string) => void): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) onLine(line);
  } catch (error: unknown) {
    throw new OpenRtcError('invalid_option', `logs: cannot read the log: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`, { cause: error });
  }
}

/** Prints what is there, then what is appended, until the context's signal aborts. */
async function followFile(file: string, onLine: (line: string) => void, ctx: CliContext): Promise<void> {
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw new OpenRtcError('invalid_option', `logs: cannot open ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { cause: error });
  });
  let position = 0;
  let partial = '';
  const buffer = Buffer.alloc(64 * 1024);
  try {
    while (!ctx.signal?.aborted) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        const lines = (partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
        continue;
      }
      // A rotated (truncated) file starts over.
      if ((await handle.stat()).size < position) position = 0;
      await waitOrAbort(FOLLOW_POLL_MS, ctx.signal);
    }
  } finally {
    await handle.close();
  }
}

function waitOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
