import type { ParticipantPermission } from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import type { AvailabilityRecord } from './dispatch_types.js';

/** The attribute LiveKit adds to the agent participant (`AgentNameAttributeKey`). */
export const AGENT_NAME_ATTRIBUTE = 'lk.agent_name';

/**
 * The agent participant's token as LiveKit builds it (`Worker.AssignJob` calling
 * `BuildAgentToken`): the room, the identity, name, metadata and attributes the worker
 * answered with plus `lk.agent_name`, kind agent, valid for one hour, and the grants the
 * worker registered as `allowedPermissions` (LiveKit's defaults when it sent none).
 */
export async function buildAgentToken(options: {
  apiKey: string;
  apiSecret: string;
  roomName: string;
  jobId: string;
  agentName: string;
  answer: AvailabilityRecord;
  permissions: ParticipantPermission | undefined;
}): Promise<string> {
  const { answer, permissions } = options;
  const token = new AccessToken(options.apiKey, options.apiSecret, {
    // LiveKit signs whatever identity the worker gave; an empty one fails only when the
    // agent joins. livekit-server-sdk refuses to sign a join token without one, so the
    // stand-in names the participant as agents-js would (every SDK sends an identity).
    identity: answer.participantIdentity || `agent-${options.jobId}`,
    name: answer.participantName,
    metadata: answer.participantMetadata,
    attributes: { ...answer.participantAttributes, [AGENT_NAME_ATTRIBUTE]: options.agentName },
    ttl: '1h',
  });
  token.kind = 'agent';
  token.addGrant({
    room: options.roomName,
    roomJoin: true,
    agent: true,
    canPublish: permissions ? permissions.canPublish : true,
    canSubscribe: permissions ? permissions.canSubscribe : true,
    canPublishData: permissions ? permissions.canPublishData : true,
    canUpdateOwnMetadata: permissions ? permissions.canUpdateMetadata : true,
    hidden: permissions ? permissions.hidden : false,
  });
  return token.toJwt();
}
