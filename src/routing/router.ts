import { describeValue, errorMessage } from '../errors.js';
import type { MetadataRecord } from '../tenancy/metadata.js';

/** What a custom router sees when it picks an agent for a call. */
export interface RouteRequest {
  tenant: string;
  jobMetadata: MetadataRecord;
  roomMetadata: MetadataRecord;
  roomName: string;
  /** Registered agent names, in registration order. */
  agentNames: readonly string[];
}

/**
 * Picks the agent for a call by name. Return undefined (or null) to let the built-in
 * chain decide: `agent` key in the metadata, then room-name prefix, then the first agent.
 */
export type AgentRouter = (request: RouteRequest) => string | null | undefined | Promise<string | null | undefined>;

export const AGENT_METADATA_KEY = 'agent';

export type RouteSource = 'router' | 'job_metadata' | 'room_metadata' | 'room_prefix' | 'first_registered';

export type RouteResult =
  | { ok: true; agentName: string; source: RouteSource }
  | { ok: false; message: string };

/** Runs the routing chain. A throwing router refuses only the call it threw for. */
export async function routeCall(
  request: RouteRequest,
  router: AgentRouter | undefined,
  isKnown: (name: string) => boolean,
): Promise<RouteResult> {
  const known = (name: string, source: RouteSource): RouteResult =>
    isKnown(name)
      ? { ok: true, agentName: name, source }
      : { ok: false, message: `${source.replace('_', ' ')} names agent "${name}", which is not registered (registered: ${request.agentNames.join(', ') || 'none'})` };

  if (router) {
    let picked: unknown;
    try {
      picked = await router(request);
    } catch (error: unknown) {
      return { ok: false, message: `router threw: ${errorMessage(error)}` };
    }
    if (typeof picked === 'string') return known(picked, 'router');
    if (picked !== undefined && picked !== null) {
      return { ok: false, message: `router must return an agent name or undefined; got ${describeValue(picked)}` };
    }
  }

  for (const [source, metadata] of [
    ['job_metadata', request.jobMetadata],
    ['room_metadata', request.roomMetadata],
  ] as const) {
    const value = metadata[AGENT_METADATA_KEY];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      return { ok: false, message: `agent in ${source.replace('_', ' ')} must be a string; got ${describeValue(value)}` };
    }
    return known(value, source);
  }

  // Room names such as "support-1234" route to agent "support"; the longest match wins
  // so "support-vip" beats "support" for "support-vip-77".
  const byPrefix = request.agentNames
    .filter((name) => request.roomName.startsWith(name))
    .filter((name) => request.roomName.length === name.length || /^[-_:.]/.test(request.roomName.slice(name.length)))
    .sort((a, b) => b.length - a.length)[0];
  if (byPrefix) return { ok: true, agentName: byPrefix, source: 'room_prefix' };

  const first = request.agentNames[0];
  if (first === undefined) return { ok: false, message: 'no agents are registered in the pool' };
  return { ok: true, agentName: first, source: 'first_registered' };
}
