import type { Job } from '@livekit/protocol';
import { invalidOption } from '../errors.js';
import type { DispatchServerOptions, WorkerRecord } from './dispatch_types.js';

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
