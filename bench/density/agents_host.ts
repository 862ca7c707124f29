// (b) The process-per-job host: the official agents-js 1.9 AgentServer, forked by the
// orchestrator. Each job runs in its own child process (plus agents-js's inference process).
import { fileURLToPath } from 'node:url';
import { AgentServer, ServerOptions, initializeLogger } from '@livekit/agents';
import { hostEnv, onStop, sendToOrchestrator } from './host_ipc.js';

const AGENT_MODULE = fileURLToPath(new URL('./agents_job.mjs', import.meta.url));

// Job processes are forked with this process's execArgv. This host runs under tsx only
// because it is TypeScript; the job module is plain JavaScript, and a compiled production
// worker would not load a TypeScript loader into every job process, so neither do we.
process.execArgv = withoutTsx(process.execArgv);

const env = hostEnv();
initializeLogger({ pretty: false, level: 'error' });

const server = new AgentServer(
  new ServerOptions({
    agent: AGENT_MODULE,
    wsURL: env.url,
    apiKey: env.apiKey,
    apiSecret: env.apiSecret,
    host: '127.0.0.1',
    port: 0,
    production: false,
    logLevel: 'error',
    // Warm processes kept ready (--idle; by default min(cores, 4), what agents-js keeps in
    // production mode; 0, its development default, forks one process per job).
    numIdleProcesses: env.idleProcesses,
    // Accept every job: the benchmark wants all N running, whatever the CPU load says.
    loadThreshold: Infinity,
    // No memory warnings or kills: the benchmark measures memory, it does not police it.
    jobMemoryWarnMB: 0,
    jobMemoryLimitMB: 0,
    // Forks are slow while dozens of VAD sessions share two cores; do not fail them at 10 s.
    initializeProcessTimeout: 120_000,
    shutdownProcessTimeout: 10_000,
  }),
);
const running = server.run();
sendToOrchestrator({ type: 'started', pid: process.pid });

onStop(async () => {
  await server.close();
  await running;
});

function withoutTsx(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((arg === '--import' || arg === '--require' || arg === '--loader') && argv[i + 1]?.includes('tsx')) {
      i++;
      continue;
    }
    if (/^--(import|require|loader)=.*tsx/.test(arg)) continue;
    out.push(arg);
  }
  return out;
}
