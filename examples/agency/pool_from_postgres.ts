// The runbook's dynamic roster: tenants load from PostgreSQL when their first call comes,
// are cached for `tenantConfigTtlMs` (so a rotated key is picked up without a redeploy),
// and a tenant with no row runs on the pool defaults.
import * as openai from '@livekit/agents-plugin-openai';
import type pg from 'pg';
import type { TenantConfigLoader, TenantProviders } from '../../src/index.js';

export interface TenantRow {
  tenant: string;
  llm_model: string;
  llm_api_key: string;
}

export const CREATE_TENANTS_TABLE = `
  CREATE TABLE IF NOT EXISTS openrtc_tenants (
    tenant      text PRIMARY KEY,
    llm_model   text NOT NULL,
    llm_api_key text NOT NULL
  )`;

/**
 * A `tenantConfig` loader reading one row per tenant. `makeLlm` builds the provider
 * object from the row (an OpenAI LLM by default); tests pass a fake.
 */
export function postgresTenantLoader(
  db: pg.Pool,
  makeLlm: (row: TenantRow) => NonNullable<TenantProviders['llm']> = (row) =>
    new openai.LLM({ model: row.llm_model, apiKey: row.llm_api_key }),
): TenantConfigLoader {
  return async (tenant) => {
    const { rows } = await db.query<TenantRow>(
      'SELECT tenant, llm_model, llm_api_key FROM openrtc_tenants WHERE tenant = $1',
      [tenant],
    );
    const row = rows[0];
    return row === undefined ? null : { llm: makeLlm(row) };
  };
}
