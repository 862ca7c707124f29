// Reading a process tree's memory from /proc (Linux). /proc/<pid>/task/*/children is not
// available on every kernel (it needs CONFIG_PROC_CHILDREN; this machine's lacks it), so
// the tree is built the way `ps --ppid` does it: every /proc/<pid>/stat gives a parent pid.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessSample {
  pid: number;
  ppid: number;
  /** The command name from /proc/<pid>/stat (at most 15 characters). */
  comm: string;
  /** VmRSS from /proc/<pid>/status, in bytes. */
  rssBytes: number;
  /**
   * Pss from /proc/<pid>/smaps_rollup, in bytes: each shared page counted once in all,
   * split between the processes sharing it. Summed over a tree, shared libraries and
   * copy-on-write pages of forked children count once, which RSS counts once per process.
   */
  pssBytes: number;
  /** User + system CPU time so far, in clock ticks (USER_HZ, 100 per second on Linux). */
  cpuTicks: number;
  /** `main` for the root; agents-js children by their entry script (`job`, `inference`); else comm. */
  role: string;
}

function roleOf(pid: number, rootPid: number, comm: string): string {
  if (pid === rootPid) return 'main';
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return comm;
  }
  if (cmdline.includes('job_proc_lazy_main')) return 'job';
  if (cmdline.includes('inference_proc_lazy_main')) return 'inference';
  return comm;
}

/** RSS and process count per role. */
export function byRole(processes: ProcessSample[]): Record<string, { processes: number; rssBytes: number }> {
  const out: Record<string, { processes: number; rssBytes: number }> = {};
  for (const p of processes) {
    const entry = (out[p.role] ??= { processes: 0, rssBytes: 0 });
    entry.processes++;
    entry.rssBytes += p.rssBytes;
  }
  return out;
}

export interface TreeSample {
  at: number;
  rootPid: number;
  /** RSS summed over `processes`. */
  totalRssBytes: number;
  /** PSS summed over `processes`. */
  totalPssBytes: number;
  processes: ProcessSample[];
  /** Helper processes of the TypeScript loader, left out of the sum (see NOT_HOST). */
  excluded: ProcessSample[];
}

/**
 * tsx compiles TypeScript through an esbuild service process that it starts on demand
 * under whichever process needs it (and not at all when its cache is warm). It belongs
 * to running TypeScript sources, not to either host, so it is left out of both sums.
 */
const NOT_HOST = new Set(['esbuild']);

function readStat(pid: number): { ppid: number; comm: string; cpuTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: it runs to the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  // utime and stime, fields 14 and 15 of stat (11 and 12 after the command name).
  const cpuTicks = Number(rest[11]) + Number(rest[12]);
  return Number.isInteger(ppid) ? { ppid, comm: text.slice(open + 1, close), cpuTicks } : undefined;
}

/** CPU ticks (user + system, TICKS_PER_SECOND to the second) one process has used; undefined once it has exited. */
export function processCpuTicks(pid: number): number | undefined {
  return readStat(pid)?.cpuTicks;
}

/** VmRSS of one process in bytes; undefined once it has exited (or for a zombie). */
export function rssBytes(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Pss of one process in bytes (smaps_rollup); 0 when unreadable (exited, or a kernel without it). */
export function pssBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids of `rootPid` and all its descendants still alive. */
export function treePids(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** RSS of every process of the tree rooted at `rootPid`, summed. */
export function sampleTree(rootPid: number): TreeSample {
  const processes: ProcessSample[] = [];
  const excluded: ProcessSample[] = [];
  for (const pid of treePids(rootPid)) {
    const stat = readStat(pid);
    const rss = rssBytes(pid);
    if (!stat || rss === undefined) continue;
    const sample = { pid, ppid: stat.ppid, comm: stat.comm, rssBytes: rss, pssBytes: pssBytes(pid), cpuTicks: stat.cpuTicks, role: roleOf(pid, rootPid, stat.comm) };
    (NOT_HOST.has(stat.comm) ? excluded : processes).push(sample);
  }
  return { at: Date.now(), rootPid, totalRssBytes: processes.reduce((sum, p) => sum + p.rssBytes, 0), totalPssBytes: processes.reduce((sum, p) => sum + p.pssBytes, 0), processes, excluded };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie answers signal 0 but has no memory left; count it as gone.
  const state = (() => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
    } catch {
      return 'X';
    }
  })();
  return state !== 'Z' && state !== 'X';
}

/** Clock ticks per second of /proc/<pid>/stat and /proc/stat (USER_HZ; 100 on Linux). */
export const TICKS_PER_SECOND = 100;

/** Busy and total CPU time of the whole machine so far, in ticks, from /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, v) => sum + v, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}
