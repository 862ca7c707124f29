import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Job } from '@livekit/protocol';
import { invalidOption } from '../errors.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { DispatchServerOptions, WorkerRecord } from './dispatch_types.js';
import type { JobRequestSettings } from './job_request.js';
import { seededRandom } from './seeded_random.js';
import type { ServerWorkerTimers } from './server_worker.js';

/** LiveKit's defaults: `agent.DefaultTargetLoad`, psrpc's `DefaultClientTimeout`, the signal ping and register deadline. */
export const DISPATCH_DEFAULTS = { targetLoad: 0.7, availabilityTimeoutMs: 3000, seed: 1, pingIntervalMs: 10_000, registerTimeoutMs: 10_000 };

/** The `workerKey` LiveKit matches a job on: agent name, namespace (always ''), job type, deployment. */
export function matches(record: WorkerRecord | undefined, job: Job): boolean {
  return record !== undefined && record.connected && record.agentName === job.agentName && record.jobType === 'room' && record.deployment === job.deployment;
}

export function validateOptions(options: DispatchServerOptions): void {
  if (typeof options?.apiKey !== 'string' || options.apiKey === '') throw invalidOption('apiKey', 'must be a non-empty string', typeof options?.apiKey);
  if (typeof options.apiSecret !== 'string' || options.apiSecret === '') throw invalidOption('apiSecret', 'must be a non-empty string', typeof options.apiSecret);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidOption('port', 'must be an integer from 0 to 65535', port);
  const target = options.targetLoad;
  if (target !== undefined && !(typeof target === 'number' && target > 0 && target <= 1)) throw invalidOption('targetLoad', 'must be a number above 0 and at most 1', target);
  for (const name of ['availabilityTimeoutMs', 'registerTimeoutMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw invalidOption(name, 'must be a positive number of ms', value);
  }
  const ping = options.pingIntervalMs;
  if (ping !== undefined && !(typeof ping === 'number' && Number.isFinite(ping) && ping >= 0)) throw invalidOption('pingIntervalMs', 'must be 0 or a positive number of ms', ping);
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw invalidOption('seed', 'must be an integer', options.seed);
}

/** The settings job requests and worker sockets run with: the options over LiveKit's defaults. */
export function resolveServerSettings(options: DispatchServerOptions): {
  clock: Clock; requestSettings: JobRequestSettings; workerTimers: ServerWorkerTimers;
} {
  const clock = options.clock ?? systemClock;
  return {
    clock,
    requestSettings: {
      clock,
      targetLoad: options.targetLoad ?? DISPATCH_DEFAULTS.targetLoad,
      availabilityTimeoutMs: options.availabilityTimeoutMs ?? DISPATCH_DEFAULTS.availabilityTimeoutMs,
      random: seededRandom(options.seed ?? DISPATCH_DEFAULTS.seed),
    },
    workerTimers: {
      clock,
      pingIntervalMs: options.pingIntervalMs ?? DISPATCH_DEFAULTS.pingIntervalMs,
      registerTimeoutMs: options.registerTimeoutMs ?? DISPATCH_DEFAULTS.registerTimeoutMs,
    },
  };
}

/** Listens on host:port; the server does not hold the process open. */
export async function listenHttp(
  host: string, port: number, handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<Server> {
  const http = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.unref();
  return http;
}
