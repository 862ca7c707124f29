/**
 * The JSON text frames of the simulated room socket. Both the stand-in server and the
 * client transport parse through here, so the protocol is written down once.
 */
export interface SimParticipant {
  identity: string;
  metadata: string;
  attributes: Record<string, string>;
}

export type SimServerFrame =
  | { type: 'joined'; room: string; participants: SimParticipant[] }
  | { type: 'user_text'; text: string }
  | { type: 'hangup' }
  /** The room removed the agent (the caller stays): the agent lost its room, the call did not end. */
  | { type: 'removed' };

export type SimClientFrame = { type: 'agent_text'; text: string } | { type: 'leave' };

export const SIM_ROOM_PATH = 'sim/room';

function parseObject(raw: string): Record<string, unknown> {
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('a simulated room frame must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function parseServerFrame(raw: string): SimServerFrame {
  const frame = parseObject(raw);
  switch (frame.type) {
    case 'joined':
      if (typeof frame.room !== 'string' || !Array.isArray(frame.participants)) break;
      return { type: 'joined', room: frame.room, participants: frame.participants as SimParticipant[] };
    case 'user_text':
      if (typeof frame.text !== 'string') break;
      return { type: 'user_text', text: frame.text };
    case 'hangup':
      return { type: 'hangup' };
    case 'removed':
      return { type: 'removed' };
  }
  throw new Error(`unknown or malformed simulated room frame of type ${JSON.stringify(frame.type)}`);
}

export function parseClientFrame(raw: string): SimClientFrame {
  const frame = parseObject(raw);
  if (frame.type === 'agent_text' && typeof frame.text === 'string') return { type: 'agent_text', text: frame.text };
  if (frame.type === 'leave') return { type: 'leave' };
  throw new Error(`unknown or malformed simulated room frame of type ${JSON.stringify(frame.type)}`);
}
