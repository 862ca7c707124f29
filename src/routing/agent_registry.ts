import { voice } from '@livekit/agents';
import { OpenRtcError, describeValue } from '../errors.js';

/** A `voice.Agent` subclass with a no-argument constructor: one instance per session. */
export type AgentClass = new () => voice.Agent;

export const AGENT_NAME_RULE = "must be 1-64 characters of letters, digits, '-' or '_'";
const AGENT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isAgentClass(value: unknown): value is AgentClass {
  if (typeof value !== 'function' || typeof value.prototype !== 'object' || value.prototype === null) return false;
  // Prefer the prototype chain; fall back to the Agent surface when a second copy of
  // @livekit/agents is loaded and the chain points at another Agent class.
  if (Object.prototype.isPrototypeOf.call(voice.Agent.prototype, value.prototype as object)) return true;
  const proto = value.prototype as Record<string, unknown>;
  return typeof proto.llmNode === 'function' && typeof proto.onEnter === 'function';
}

/** The agents a pool hosts, by name, in registration order. */
export class AgentRegistry {
  private readonly agents = new Map<string, AgentClass>();

  add(name: string, agentClass: unknown, origin = 'agent'): void {
    if (typeof name !== 'string' || !AGENT_NAME_PATTERN.test(name)) {
      throw new OpenRtcError('invalid_agent', `${origin} name ${AGENT_NAME_RULE}; got ${describeValue(name)}`);
    }
    if (!isAgentClass(agentClass)) {
      throw new OpenRtcError(
        'invalid_agent',
        `${origin} "${name}" must be a voice.Agent subclass (a class, not an instance); got ${describeValue(agentClass)}`,
      );
    }
    const existing = this.agents.get(name);
    if (existing && existing !== agentClass) {
      throw new OpenRtcError('invalid_agent', `${origin} "${name}" is already registered with another class`);
    }
    this.agents.set(name, agentClass);
  }

  get(name: string): AgentClass | undefined {
    return this.agents.get(name);
  }

  has(name: string): boolean {
    return this.agents.has(name);
  }

  names(): string[] {
    return [...this.agents.keys()];
  }

}

/** Default name for an agent class: `SupportAgent` -> `support`. */
export function defaultAgentName(agentClass: AgentClass): string {
  const base = agentClass.name.replace(/Agent$/, '') || agentClass.name || 'agent';
  return base
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .toLowerCase()
    .slice(0, 64);
}
