import { lstat, mkdir, chmod, readdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpenRtcError } from '../errors.js';

/**
 * The inspector's sockets live in one folder per user: mode 0700 and owned by that user,
 * so the kernel refuses every other user's process at `connect()` (Linux checks write
 * permission on the socket file and search permission on the folders above it). Node
 * cannot read a Unix socket peer's credentials, so the folder is the access check:
 * both the worker and the CLI refuse a folder that another user owns or can enter.
 */
export function defaultInspectDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env.OPENRTC_INSPECT_DIR;
  if (override) return path.resolve(override);
  return path.join(os.tmpdir(), `openrtc-${currentUid()}`);
}

export function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** Creates (or checks) the folder for this worker's socket. */
export async function prepareSocketDir(dir: string): Promise<void> {
  const existing = await lstat(dir).catch(() => undefined);
  if (!existing) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; set it exactly.
    await chmod(dir, 0o700);
  }
  await checkSocketDir(dir);
}

/** True when the folder exists and is safe to use; throws when it exists but is not. */
export async function checkSocketDir(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info) return false;
  if (!info.isDirectory()) throw new OpenRtcError('invalid_option', `inspector folder ${dir} is not a folder (a link or file there is refused)`);
  if (info.uid !== currentUid()) {
    throw new OpenRtcError('invalid_option', `inspector folder ${dir} belongs to uid ${info.uid}, not to this user (uid ${currentUid()}): refused`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new OpenRtcError('invalid_option', `inspector folder ${dir} has mode ${(info.mode & 0o777).toString(8)}; it must be 700 so no other user can reach the sockets`);
  }
  return true;
}

const SOCKET_NAME = /^worker-(\d+)-(\d+)\.sock$/;

export function socketName(pid: number, serial: number): string {
  return `worker-${pid}-${serial}.sock`;
}

export async function listSocketFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => SOCKET_NAME.test(name)).sort().map((name) => path.join(dir, name));
}

/** The pid a socket's name carries. */
export function socketPid(file: string): number | undefined {
  const match = SOCKET_NAME.exec(path.basename(file));
  return match ? Number(match[1]) : undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes sockets whose worker process is gone (killed workers cannot unlink their own). */
export async function removeDeadSockets(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const file of await listSocketFiles(dir)) {
    const pid = socketPid(file);
    if (pid !== undefined && !processAlive(pid)) {
      await unlink(file).then(() => removed.push(file), () => undefined);
    }
  }
  return removed;
}
