import type { Readable } from 'node:stream';

/** Where a command writes: a process stream, or a buffer in tests. */
export interface CliOutput {
  write(text: string): unknown;
  /** True for a terminal: `top` draws live, `logs` pretty-prints with colour. */
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * Everything a command touches outside its arguments. The binary passes the process's
 * own; tests pass buffers and a plain env object, so most commands run in-process.
 */
export interface CliContext {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Read by `logs -` and by `top` for keys. */
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Ends long-running commands (`logs --follow`, `top`) when aborted; the binary leaves it to signals. */
  signal?: AbortSignal;
  /** Ends the process; the binary calls it once a command's promise settles. */
  exit(code: number): void;
}

export function processContext(): CliContext {
  let stop: AbortController | undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    exit: (code) => process.exit(code),
    // Only long-running commands read the signal; handlers installed for a short command
    // would keep Ctrl-C from ending it, so they are installed on first use.
    get signal() {
      if (!stop) {
        const controller = new AbortController();
        stop = controller;
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }
      return stop.signal;
    },
  };
}

/** Lets an action report its exit code to `runCli`. */
export interface CommandResult {
  code: number;
}
