import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPool } from '../../src/index.js';
import { ManualClock, ScriptedLLM } from '../../src/testing/index.js';
import { CREATE_TENANTS_TABLE, postgresTenantLoader } from '../../examples/agency/pool_from_postgres.js';
import { SupportAgent } from '../helpers/test_agent.js';

const db = new pg.Pool({ connectionString: process.env.OPENRTC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
const TENANTS = ['pgtest-acme', 'pgtest-globex'];

beforeAll(async () => {
  await db.query(CREATE_TENANTS_TABLE);
  await db.query('DELETE FROM openrtc_tenants WHERE tenant = ANY($1)', [TENANTS]);
  await db.query("INSERT INTO openrtc_tenants VALUES ('pgtest-acme', 'gpt-4o', 'acme-key-1')");
});

afterAll(async () => {
  await db.query('DELETE FROM openrtc_tenants WHERE tenant = ANY($1)', [TENANTS]);
  await db.end();
});

describe('examples/agency: tenants loaded from PostgreSQL', () => {
  it('loads a tenant row, falls back to defaults without one, and picks up a rotated key after the TTL', async () => {
    const clock = new ManualClock();
    const built: { model: string; key: string; llm: ScriptedLLM }[] = [];
    const loader = postgresTenantLoader(db, (row) => {
      const llm = new ScriptedLLM({ model: row.llm_model, apiKey: row.llm_api_key });
      built.push({ model: row.llm_model, key: row.llm_api_key, llm });
      return llm;
    });
    const defaultLlm = new ScriptedLLM({ model: 'default' });
    const pool = new AgentPool({ agent: SupportAgent, llm: defaultLlm, tenantConfig: loader, tenantConfigTtlMs: 60_000, clock });
    const admitLlm = async (jobId: string, tenant: string) => {
      const decision = await pool.admit({ jobId, roomName: 'r', jobMetadata: JSON.stringify({ tenant }) });
      if (!decision.accepted) throw new Error(decision.message);
      const llm = decision.ticket.tenantProviders?.llm;
      await decision.ticket.finish('expired');
      return llm;
    };

    const first = await admitLlm('pg-1', 'pgtest-acme');
    expect(first).toBe(built[0]?.llm);
    expect(built[0]).toMatchObject({ model: 'gpt-4o', key: 'acme-key-1' });
    expect(await admitLlm('pg-2', 'pgtest-globex')).toBeUndefined();

    await db.query("UPDATE openrtc_tenants SET llm_api_key = 'acme-key-2' WHERE tenant = 'pgtest-acme'");
    expect(await admitLlm('pg-3', 'pgtest-acme')).toBe(first);
    clock.advance(60_001);
    const rotated = await admitLlm('pg-4', 'pgtest-acme');
    expect(rotated).not.toBe(first);
    expect(built.at(-1)).toMatchObject({ key: 'acme-key-2' });
  });
});
