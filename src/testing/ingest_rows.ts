import type { StoredRequest } from './requests_table.js';

const MODALITIES = new Set(['stt', 'llm', 'tts']);
const NUMBER_FIELDS = ['input_units', 'output_units', 'cached_input_units', 'cost_usd', 'ttfb_ms', 'total_latency_ms'] as const;
const STRING_FIELDS = ['project', 'pricing_source', 'status', 'error_message', 'session_id', 'agent_id', 'revision'] as const;

/**
 * Checks one ingest record against voicegateway's schema and turns it into a stored row:
 * required `id`, `timestamp` (epoch seconds), `modality`, `model_id`, `provider`; typed
 * optional fields; unknown keys dropped; `tenant_id` from the key. Returns the problem
 * as text when the record is invalid.
 */
export function validateIngestRow(raw: unknown, tenant: string): StoredRequest | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'record must be an object';
  const row = raw as Record<string, unknown>;
  for (const field of ['id', 'model_id', 'provider'] as const) {
    if (typeof row[field] !== 'string' || row[field] === '') return `${field} is required and must be a non-empty string`;
  }
  if (typeof row.timestamp !== 'number' || !Number.isFinite(row.timestamp) || row.timestamp <= 0) {
    return 'timestamp is required and must be epoch seconds';
  }
  if (typeof row.modality !== 'string' || !MODALITIES.has(row.modality)) return 'modality must be stt, llm or tts';
  for (const field of NUMBER_FIELDS) {
    const value = row[field];
    if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      return `${field} must be a number, 0 or more`;
    }
  }
  for (const field of STRING_FIELDS) {
    const value = row[field];
    if (value !== undefined && value !== null && typeof value !== 'string') return `${field} must be a string`;
  }
  if (row.turn_index !== undefined && row.turn_index !== null && !Number.isInteger(row.turn_index)) return 'turn_index must be an integer';
  const metadata = row.metadata;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    return 'metadata must be an object';
  }
  const num = (field: (typeof NUMBER_FIELDS)[number]) => (typeof row[field] === 'number' ? row[field] : null);
  const str = (field: (typeof STRING_FIELDS)[number]) => (typeof row[field] === 'string' ? row[field] : null);
  return {
    id: row.id as string,
    tenant_id: tenant,
    timestamp: row.timestamp,
    modality: row.modality,
    model_id: row.model_id as string,
    provider: row.provider as string,
    project: str('project'),
    input_units: num('input_units'),
    output_units: num('output_units'),
    cached_input_units: num('cached_input_units'),
    cost_usd: num('cost_usd'),
    pricing_source: str('pricing_source'),
    ttfb_ms: num('ttfb_ms'),
    total_latency_ms: num('total_latency_ms'),
    status: str('status'),
    error_message: str('error_message'),
    metadata: metadata === undefined || metadata === null ? null : JSON.stringify(metadata),
    session_id: str('session_id'),
    agent_id: str('agent_id'),
    revision: str('revision'),
    turn_index: typeof row.turn_index === 'number' ? row.turn_index : null,
  };
}
