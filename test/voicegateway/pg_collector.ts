// A local voicegateway collector writing into its own PostgreSQL schema, for one test file.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresRequestsTable, type StoredRequest, VoiceGatewayCollector, type VoiceGatewayCollectorOptions } from '../../src/testing/index.js';

export interface PgCollector {
  db: pg.Pool;
  table: PostgresRequestsTable;
  collector: VoiceGatewayCollector;
  /** Every stored row, ordered by id. */
  rows(): Promise<StoredRequest[]>;
  close(): Promise<void>;
}

/** A virtual key of the right shape, different on every call. */
export function virtualKey(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return `vk_${[...randomBytes(32)].map((b) => alphabet[b % 32]).join('')}`;
}

export async function startPgCollector(options: Omit<VoiceGatewayCollectorOptions, 'store'>): Promise<PgCollector> {
  const db = new pg.Pool({ connectionString: process.env.OPENRTC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test', max: 3 });
  // A schema per run: parallel runs and leftovers of earlier ones never meet.
  const schema = `vg_${process.pid}_${randomBytes(4).toString('hex')}`;
  const table = new PostgresRequestsTable(db, `${schema}.requests`);
  await table.create();
  const collector = await VoiceGatewayCollector.start({ ...options, store: table });
  return {
    db,
    table,
    collector,
    async rows() {
      const result = await db.query<StoredRequest>(`SELECT * FROM ${table.table} ORDER BY id`);
      return result.rows;
    },
    async close() {
      await collector.close();
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.end();
    },
  };
}
