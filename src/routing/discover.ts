import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OpenRtcError, errorMessage } from '../errors.js';
import { type AgentClass, defaultAgentName, isAgentClass } from './agent_registry.js';

const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.ts', '.mts']);

export interface DiscoveredAgent {
  name: string;
  agentClass: AgentClass;
  file: string;
}

/**
 * Loads one agent per module from a folder. A module exports its Agent subclass as the
 * default export (or as `agent`), and may export `name` to override the file's name.
 */
export async function discoverAgents(dir: string): Promise<DiscoveredAgent[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error: unknown) {
    throw new OpenRtcError('invalid_agent', `discover(dir) cannot read folder "${dir}"`, { cause: error });
  }
  const files = entries
    .filter((file) => MODULE_EXTENSIONS.has(path.extname(file)))
    .filter((file) => !/\.(test|spec|d)\.[mc]?[jt]s$/.test(file) && !file.startsWith('_'))
    .sort();

  const found: DiscoveredAgent[] = [];
  for (const file of files) {
    const full = path.resolve(dir, file);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
    } catch (error: unknown) {
      throw new OpenRtcError(
        'invalid_agent',
        `discover(dir) could not load "${file}": ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const candidate = mod.default ?? mod.agent;
    if (!isAgentClass(candidate)) {
      throw new OpenRtcError(
        'invalid_agent',
        `discover(dir): "${file}" must export a voice.Agent subclass as its default export (or as \`agent\`)`,
      );
    }
    const name =
      typeof mod.name === 'string' ? mod.name : path.basename(file, path.extname(file)) || defaultAgentName(candidate);
    found.push({ name, agentClass: candidate, file: full });
  }
  return found;
}
