import { Readable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';

export interface TestContext extends CliContext {
  out(): string;
  err(): string;
}

/** A CLI context over strings: output collected, stdin from a string, env given. */
export function testContext(options: { env?: Record<string, string | undefined>; stdin?: string; signal?: AbortSignal; columns?: number; cwd?: string } = {}): TestContext {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text), isTTY: false, columns: options.columns ?? 100 },
    stderr: { write: (text: string) => (err += text), isTTY: false },
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal,
    exit: () => undefined,
    out: () => out,
    err: () => err,
  };
}

export async function cli(argv: string[], options: Parameters<typeof testContext>[0] = {}): Promise<{ code: number; out: string; err: string }> {
  const ctx = testContext(options);
  const code = await runCli(argv, ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}
