import { describeValue } from '../errors.js';
import type { MetadataRecord } from './metadata.js';

/** The tenant of a call whose metadata names none. */
export const DEFAULT_TENANT = 'default';

/** Metadata key the dispatch layer sets (job metadata first, then room metadata). */
export const TENANT_METADATA_KEY = 'tenant';

export const TENANT_ID_MAX_LENGTH = 128;
const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]+$/;

export const TENANT_ID_RULE = `must be 1-${TENANT_ID_MAX_LENGTH} characters of letters, digits, '-' or '_'`;

/** Why a value is not a tenant id, or undefined when it is one. */
export function tenantIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${describeValue(value)}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > TENANT_ID_MAX_LENGTH) {
    return `must be at most ${TENANT_ID_MAX_LENGTH} characters, got ${value.length}`;
  }
  if (!TENANT_ID_PATTERN.test(value)) {
    return `${TENANT_ID_RULE}, got ${describeValue(value)}`;
  }
  return undefined;
}

export function isValidTenantId(value: unknown): value is string {
  return tenantIdProblem(value) === undefined;
}

export type TenantSource = 'job_metadata' | 'room_metadata' | 'default';

export type TenantResolution =
  | { ok: true; tenant: string; source: TenantSource }
  | { ok: false; source: Exclude<TenantSource, 'default'>; message: string };

/**
 * Reads the tenant of a call. A key that is present but malformed refuses the call:
 * running it under `default` would mislabel its metrics and spend another plan's budget.
 */
export function resolveTenant(jobMetadata: MetadataRecord, roomMetadata: MetadataRecord): TenantResolution {
  for (const [source, metadata] of [
    ['job_metadata', jobMetadata],
    ['room_metadata', roomMetadata],
  ] as const) {
    if (!Object.prototype.hasOwnProperty.call(metadata, TENANT_METADATA_KEY)) continue;
    const value = metadata[TENANT_METADATA_KEY];
    const problem = tenantIdProblem(value);
    if (problem) {
      const where = source === 'job_metadata' ? 'job metadata' : 'room metadata';
      return { ok: false, source, message: `tenant in ${where} ${problem}` };
    }
    return { ok: true, tenant: value as string, source };
  }
  return { ok: true, tenant: DEFAULT_TENANT, source: 'default' };
}
