// (a) The openrtc host: one AgentPool worker in this one process, against the stand-in
// dispatch server, sessions in simulated rooms. Silero VAD is loaded once, in prewarm, and
// every session's agent streams its own audio through its own VADStream of that one model.
// With OPENRTC_BENCH_WORKERS=N (N > 1) this process is instead the primary of N such
// workers, as `openrtc start --workers N` runs them (the same WorkerProcesses), holding
// the stores they share; the orchestrator measures the whole tree.
import { fileURLToPath } from 'node:url';
import { WorkerProcesses } from '../../src/cli/commands/worker_processes.js';
import { CHILD_INDEX_ENV } from '../../src/fleet/ipc_protocol.js';
import { BENCH_WORKERS_ENV, type HostMessage, hostEnv, onStop, sendToOrchestrator } from './host_ipc.js';

const env = hostEnv();
const workers = Number(process.env[BENCH_WORKERS_ENV] ?? '1');
const childIndex = process.env[CHILD_INDEX_ENV];
if (workers > 1 && childIndex === undefined) await runPrimary();
else await (await import('./openrtc_worker.js')).runWorker(env, childIndex);

async function runPrimary(): Promise<void> {
  const started = new Set<number>();
  const children = new WorkerProcesses({
    count: workers,
    module: fileURLToPath(import.meta.url),
    args: [],
    execArgv: process.execArgv,
    env: process.env,
    holdStores: true,
    log: (message) => process.stderr.write(`openrtc primary: ${message}\n`),
    onMessage: (index, message) => {
      if ((message as HostMessage).type !== 'started') return;
      started.add(index);
      if (started.size === workers) sendToOrchestrator({ type: 'started', pid: process.pid });
    },
  });
  const done = children.run();
  // A stop drains every child as SIGTERM does at `openrtc start --workers`.
  onStop(async () => {
    process.kill(process.pid, 'SIGTERM');
    await done;
  });
  await done;
}
