// What both hosts share: their settings from the environment and the orchestrator's IPC channel.

export interface HostEnv {
  url: string;
  apiKey: string;
  apiSecret: string;
  /** agents-js only: warm idle job processes. */
  idleProcesses: number;
}

export type HostMessage = { type: 'started'; pid: number } | { type: 'stopped' };
export type OrchestratorMessage = { type: 'stop' };

export const HOST_ENV = {
  url: 'OPENRTC_BENCH_URL',
  apiKey: 'OPENRTC_BENCH_API_KEY',
  apiSecret: 'OPENRTC_BENCH_API_SECRET',
  idleProcesses: 'OPENRTC_BENCH_IDLE_PROCESSES',
} as const;

/** openrtc only: worker processes (`openrtc start --workers N`); 1 runs the pool in the host process itself. */
export const BENCH_WORKERS_ENV = 'OPENRTC_BENCH_WORKERS';

export function hostEnv(): HostEnv {
  const read = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the host through bench/density/run.ts`);
    return value;
  };
  return {
    url: read(HOST_ENV.url),
    apiKey: read(HOST_ENV.apiKey),
    apiSecret: read(HOST_ENV.apiSecret),
    idleProcesses: Number(process.env[HOST_ENV.idleProcesses] ?? '0'),
  };
}

export function sendToOrchestrator(message: HostMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * Runs `stop` when the orchestrator asks (or goes away), then exits. A stop that hangs is
 * cut short after `timeoutMs`, so a host never outlives its benchmark run.
 */
export function onStop(stop: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  const run = (): void => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(2), timeoutMs);
    timer.unref();
    stop()
      .catch((error: unknown) => process.stderr.write(`host stop failed: ${error instanceof Error ? error.message : String(error)}\n`))
      .finally(() => {
        sendToOrchestrator({ type: 'stopped' });
        process.exit(0);
      });
  };
  process.on('message', (message: OrchestratorMessage) => {
    if (message.type === 'stop') run();
  });
  process.on('disconnect', run);
}
