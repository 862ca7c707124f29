import { type ChildProcess, fork } from 'node:child_process';
import { CHILD_INDEX_ENV, CHILD_STORES_ENV, type StoreAnswer, isStoreCall } from '../../fleet/ipc_protocol.js';
import { StoreHost } from '../../fleet/store_host.js';

/** What the primary of `openrtc start --workers N` needs. */
export interface WorkerProcessesOptions {
  count: number;
  /** The module and arguments each child runs: the same `openrtc start …` command line. */
  module: string;
  args: string[];
  execArgv: string[];
  env: Readonly<Record<string, string | undefined>>;
  /** True: the children decide through the primary's stores; false: they share Redis and the primary holds nothing. */
  holdStores: boolean;
  log(message: string): void;
  /** The first restart delay, in ms (doubled per fast crash, up to 30 s). Default 500. */
  firstBackoffMs?: number;
  /** Any other message a child sends (the benchmark's hosts report their start this way). */
  onMessage?(index: number, message: unknown): void;
}

/** A child that dies sooner than this after it started counts as a fast crash. */
const STEADY_AFTER_MS = 10_000;
/** After this many fast crashes in a row a child is not started again: its configuration is broken. */
const MAX_FAST_CRASHES = 5;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  startedAt: number;
  fastCrashes: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * The primary process of `openrtc start --workers N`: it forks N children, each running
 * the same pool with its own connection to the LiveKit server (N agent workers to the
 * server), and holds the stores they share (StoreHost) unless they share Redis.
 *
 * - A child that dies is restarted with backoff (0.5 s, doubling with each crash within 10 s of
 *   its start, up to 30 s), unless the primary is draining; the slots it held are freed first. After 5
 *   fast crashes in a row the primary gives up: it drains the others and exits 1.
 * - Every SIGTERM/SIGINT is passed to each child, so the children count them as in
 *   `shutdown_signals.ts` (first drains, second is logged, third cancels the live calls);
 *   the primary exits when every child has, 0 if all did with 0.
 * - The children run in their own process group, so a Ctrl-C in a terminal reaches them
 *   once (through the primary), not twice. A child whose primary died loses its IPC
 *   channel and drains itself.
 */
export class WorkerProcesses {
  private readonly host: StoreHost | undefined;
  private readonly slots: Slot[];
  private draining = false;
  private failed = false;
  private signals = 0;
  private readonly done: Promise<number>;
  private finish: (code: number) => void = () => {};

  constructor(private readonly options: WorkerProcessesOptions) {
    this.host = options.holdStores ? new StoreHost() : undefined;
    this.slots = Array.from({ length: options.count }, (_, index) => ({ index, child: undefined, startedAt: 0, fastCrashes: 0, restart: undefined }));
    this.done = new Promise<number>((resolve) => (this.finish = resolve));
  }

  /** Starts every child; resolves with the exit code once all have exited after a drain. */
  run(): Promise<number> {
    const onSignal = (signal: NodeJS.Signals) => this.onSignal(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    for (const slot of this.slots) this.spawn(slot);
    this.options.log(`primary ${process.pid}: started ${this.slots.length} worker processes (stores: ${this.host ? 'held by the primary' : 'Redis'})`);
    return this.done.finally(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }

  private spawn(slot: Slot): void {
    slot.restart = undefined;
    const child = fork(this.options.module, this.options.args, {
      execArgv: this.options.execArgv,
      env: { ...this.options.env, [CHILD_INDEX_ENV]: String(slot.index), [CHILD_STORES_ENV]: this.host ? 'primary' : 'redis' },
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.startedAt = Date.now();
    child.on('message', (message) => {
      if (isStoreCall(message)) {
        if (this.host) void this.answer(slot.index, child, message.seq, message.request);
      } else {
        this.options.onMessage?.(slot.index, message);
      }
    });
    child.once('exit', (code, signal) => void this.onExit(slot, child, code, signal));
  }

  private async answer(index: number, child: ChildProcess, seq: number, request: Parameters<StoreHost['handle']>[1]): Promise<void> {
    let reply: StoreAnswer;
    try {
      reply = { kind: 'openrtc-store-reply', seq, ok: true, value: await this.host!.handle(index, request) };
    } catch (error: unknown) {
      reply = { kind: 'openrtc-store-reply', seq, ok: false, message: error instanceof Error ? error.message : 'unknown error' };
    }
    // A child that died meanwhile gets no answer; its leases are released on exit.
    if (child.connected) child.send(reply, (error) => void error);
  }

  private async onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (slot.child !== child) return;
    slot.child = undefined;
    const freed = this.host ? await this.host.releaseHeldBy(slot.index) : 0;
    const how = signal ? `signal ${signal}` : `code ${code ?? '?'}`;
    const clean = code === 0 && signal === null;
    this.options.log(`worker ${slot.index} (pid ${child.pid}) exited with ${how}${freed ? `; freed the ${freed} session slots it held` : ''}`);
    if (!this.draining) {
      this.scheduleRestart(slot);
      return;
    }
    if (!clean) this.failed = true;
    if (this.slots.every((s) => s.child === undefined)) this.finish(this.failed ? 1 : 0);
  }

  private scheduleRestart(slot: Slot): void {
    const ranFor = Date.now() - slot.startedAt;
    slot.fastCrashes = ranFor < STEADY_AFTER_MS ? slot.fastCrashes + 1 : 0;
    if (slot.fastCrashes >= MAX_FAST_CRASHES) {
      this.options.log(`worker ${slot.index} crashed ${slot.fastCrashes} times within ${STEADY_AFTER_MS / 1000} s of starting: giving up, draining the others`);
      this.failed = true;
      this.drainAll('SIGTERM');
      if (this.slots.every((s) => s.child === undefined)) this.finish(1);
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, (this.options.firstBackoffMs ?? FIRST_BACKOFF_MS) * 2 ** slot.fastCrashes);
    this.options.log(`restarting worker ${slot.index} in ${delay} ms`);
    slot.restart = setTimeout(() => this.spawn(slot), delay);
  }

  private onSignal(signal: NodeJS.Signals): void {
    this.signals++;
    this.options.log(`${signal} received (${this.signals}): passing it to ${this.slots.filter((s) => s.child).length} worker processes`);
    this.drainAll(signal);
    if (this.slots.every((s) => s.child === undefined)) this.finish(this.failed ? 1 : 0);
  }

  private drainAll(signal: NodeJS.Signals): void {
    this.draining = true;
    for (const slot of this.slots) {
      if (slot.restart) clearTimeout(slot.restart);
      slot.restart = undefined;
      slot.child?.kill(signal);
    }
  }
}
