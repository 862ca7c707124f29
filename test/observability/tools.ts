// Finds the Prometheus tools the observability tests run: Debian's packages (installed by
// .ci/run) put them on PATH; PROMETHEUS_BIN_DIR points elsewhere.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function tool(name: 'prometheus' | 'promtool' | 'prometheus-alertmanager' | 'amtool' | 'docker-compose'): string {
  const dirs = [process.env.PROMETHEUS_BIN_DIR, ...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not installed: run .ci/run, or apt-get install prometheus prometheus-alertmanager docker-compose`);
}

/** Runs a tool and returns its output; a non-zero exit rejects with that output in the message. */
export async function runTool(name: Parameters<typeof tool>[0], args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(tool(name), args, { cwd, timeout: 60_000 });
    return stdout + stderr;
  } catch (error: unknown) {
    const e = error as { stdout?: string; stderr?: string; message?: string };
    throw new Error(`${name} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message ?? ''}`);
  }
}
