import { stat } from 'node:fs/promises';
import path from 'node:path';
import { OpenRtcError } from '../errors.js';
import { AgentPool } from '../pool/agent_pool.js';
import type { AgentPoolOptions } from '../pool/options.js';
import { importUserModule } from './load_module.js';

/** Pool options an operator sets at deploy time; each names the flag that set it. */
export interface PoolOverrides {
  options: Pick<AgentPoolOptions, 'maxSessionsPerTenant' | 'defaultMaxSessionsPerTenant' | 'maxConcurrentSessions' | 'deploymentVersion'>;
  /** Option -> the flag or variable it came from, for error messages. */
  sources: Partial<Record<keyof PoolOverrides['options'], string>>;
}

export const NO_OVERRIDES: PoolOverrides = { options: {}, sources: {} };

/**
 * What `openrtc start <target>` hosts: a folder of agent modules (one agent each, shared
 * defaults), or a module whose default export is an AgentPool or a function returning
 * one. A function receives the deploy-time options (caps, deployment version) to spread
 * into its `new AgentPool({...})`; a ready-made pool cannot take them, so giving them
 * then is refused rather than silently ignored.
 */
export async function loadPool(target: string, cwd: string, overrides: PoolOverrides = NO_OVERRIDES): Promise<AgentPool> {
  const full = path.resolve(cwd, target);
  const info = await stat(full).catch(() => undefined);
  if (!info) throw new OpenRtcError('invalid_option', `start: "${target}" is neither a folder of agents nor a pool module`);
  if (info.isDirectory()) {
    const pool = new AgentPool({ ...overrides.options });
    const names = await pool.discover(full);
    if (names.length === 0) throw new OpenRtcError('invalid_agent', `start: folder "${target}" holds no agent modules`);
    return pool;
  }
  const mod = await importUserModule(full, `start: "${target}"`);
  let candidate = mod.default ?? mod.pool;
  const factory = typeof candidate === 'function' && !(candidate.prototype instanceof AgentPool);
  if (factory) candidate = await (candidate as (options: PoolOverrides['options']) => unknown)({ ...overrides.options });
  if (!isPool(candidate)) {
    throw new OpenRtcError('invalid_option', `start: "${target}" must default-export an AgentPool (or a function returning one)`);
  }
  checkOverridesApplied(candidate, overrides, factory);
  return candidate;
}

function checkOverridesApplied(pool: AgentPool, overrides: PoolOverrides, factory: boolean): void {
  const { options, sources } = overrides;
  const missed: string[] = [];
  if (options.maxConcurrentSessions !== undefined && pool.maxConcurrentSessions !== options.maxConcurrentSessions) missed.push(sources.maxConcurrentSessions ?? 'maxConcurrentSessions');
  if (options.deploymentVersion !== undefined && pool.deploymentVersion !== options.deploymentVersion) missed.push(sources.deploymentVersion ?? 'deploymentVersion');
  for (const [tenant, cap] of Object.entries(options.maxSessionsPerTenant ?? {})) {
    if (pool.capFor(tenant) !== cap) missed.push(`${sources.maxSessionsPerTenant ?? 'maxSessionsPerTenant'} (${tenant})`);
  }
  if (options.defaultMaxSessionsPerTenant !== undefined && pool.capFor('\u0000unlisted') !== options.defaultMaxSessionsPerTenant) {
    missed.push(sources.defaultMaxSessionsPerTenant ?? 'defaultMaxSessionsPerTenant');
  }
  if (missed.length === 0) return;
  const how = factory
    ? 'the module\'s function ignored them: spread the options it receives into `new AgentPool({ ...yours, ...options })`'
    : 'the module exports a ready-made pool: export a function `(options) => new AgentPool({ ...yours, ...options })` instead';
  throw new OpenRtcError('invalid_option', `start: ${missed.join(', ')} could not be applied; ${how}`);
}

function isPool(value: unknown): value is AgentPool {
  return value instanceof AgentPool || (typeof value === 'object' && value !== null && typeof (value as AgentPool).run === 'function' && typeof (value as AgentPool).runtimeSnapshot === 'function');
}
