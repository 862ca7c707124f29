import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OpenRtcError } from '../errors.js';
import { AgentPool } from '../pool/agent_pool.js';

/**
 * What `openrtc start <target>` hosts: a folder of agent modules (one agent each, shared
 * defaults), or a module whose default export is an AgentPool or a function returning one.
 */
export async function loadPool(target: string): Promise<AgentPool> {
  const full = path.resolve(target);
  const info = await stat(full).catch(() => undefined);
  if (!info) throw new OpenRtcError('invalid_option', `start: "${target}" is neither a folder of agents nor a pool module`);
  if (info.isDirectory()) {
    const pool = new AgentPool();
    const names = await pool.discover(full);
    if (names.length === 0) throw new OpenRtcError('invalid_agent', `start: folder "${target}" holds no agent modules`);
    return pool;
  }
  const mod = (await import(pathToFileURL(full).href)) as { default?: unknown; pool?: unknown };
  let candidate = mod.default ?? mod.pool;
  if (typeof candidate === 'function' && !(candidate.prototype instanceof AgentPool)) {
    candidate = await (candidate as () => unknown)();
  }
  if (!isPool(candidate)) {
    throw new OpenRtcError(
      'invalid_option',
      `start: "${target}" must default-export an AgentPool (or a function returning one)`,
    );
  }
  return candidate;
}

function isPool(value: unknown): value is AgentPool {
  return value instanceof AgentPool || (typeof value === 'object' && value !== null && typeof (value as AgentPool).run === 'function' && typeof (value as AgentPool).runtimeSnapshot === 'function');
}
