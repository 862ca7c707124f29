/**
 * voicegateway's `requests` table in PostgreSQL, for the local collector. The columns are
 * the collector's: every ingest field, `tenant_id` (stamped from the key, never from the
 * row) and `metadata` as JSON text. `id` is the primary key, so a resent row is a
 * duplicate, not a second row.
 */

/** The part of a `pg` Pool or Client the table needs (openrtc does not depend on `pg`). */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** One row as the collector stores it. */
export interface StoredRequest {
  id: string;
  tenant_id: string;
  timestamp: number;
  modality: string;
  model_id: string;
  provider: string;
  project: string | null;
  input_units: number | null;
  output_units: number | null;
  cached_input_units: number | null;
  cost_usd: number | null;
  pricing_source: string | null;
  ttfb_ms: number | null;
  total_latency_ms: number | null;
  status: string | null;
  error_message: string | null;
  /** JSON text. */
  metadata: string | null;
  session_id: string | null;
  agent_id: string | null;
  revision: string | null;
  turn_index: number | null;
}

export const REQUEST_COLUMNS = [
  'id', 'tenant_id', 'timestamp', 'modality', 'model_id', 'provider', 'project', 'input_units', 'output_units',
  'cached_input_units', 'cost_usd', 'pricing_source', 'ttfb_ms', 'total_latency_ms', 'status', 'error_message',
  'metadata', 'session_id', 'agent_id', 'revision', 'turn_index',
] as const satisfies readonly (keyof StoredRequest)[];

const COLUMN_TYPES: Record<(typeof REQUEST_COLUMNS)[number], string> = {
  id: 'TEXT PRIMARY KEY',
  tenant_id: 'TEXT NOT NULL',
  timestamp: 'DOUBLE PRECISION NOT NULL',
  modality: 'TEXT NOT NULL',
  model_id: 'TEXT NOT NULL',
  provider: 'TEXT NOT NULL',
  project: 'TEXT',
  input_units: 'DOUBLE PRECISION',
  output_units: 'DOUBLE PRECISION',
  cached_input_units: 'DOUBLE PRECISION',
  cost_usd: 'DOUBLE PRECISION',
  pricing_source: 'TEXT',
  ttfb_ms: 'DOUBLE PRECISION',
  total_latency_ms: 'DOUBLE PRECISION',
  status: 'TEXT',
  error_message: 'TEXT',
  metadata: 'TEXT',
  session_id: 'TEXT',
  agent_id: 'TEXT',
  revision: 'TEXT',
  turn_index: 'INTEGER',
};

/** Where the collector puts rows; `insert` reports how many were new. */
export interface RequestStore {
  insert(rows: readonly StoredRequest[]): Promise<{ accepted: number; duplicates: number }>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

export class PostgresRequestsTable implements RequestStore {
  /** `requests`, or `schema.requests` to keep a test run's rows apart. */
  readonly table: string;

  constructor(
    private readonly db: SqlClient,
    table = 'requests',
  ) {
    if (!IDENTIFIER.test(table)) throw new Error('table must be a lower-case identifier, optionally schema-qualified');
    this.table = table;
  }

  /** Creates the table (and its schema) if missing. */
  async create(): Promise<void> {
    const [schema] = this.table.includes('.') ? this.table.split('.') : [];
    if (schema) await this.db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const columns = REQUEST_COLUMNS.map((c) => `"${c}" ${COLUMN_TYPES[c]}`).join(', ');
    await this.db.query(`CREATE TABLE IF NOT EXISTS ${this.table} (${columns})`);
  }

  async insert(rows: readonly StoredRequest[]): Promise<{ accepted: number; duplicates: number }> {
    if (rows.length === 0) return { accepted: 0, duplicates: 0 };
    const values: unknown[] = [];
    const tuples = rows.map((row) => {
      const placeholders = REQUEST_COLUMNS.map((column) => {
        values.push(row[column]);
        return `$${values.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const columns = REQUEST_COLUMNS.map((c) => `"${c}"`).join(', ');
    const result = await this.db.query(
      `INSERT INTO ${this.table} (${columns}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`,
      values,
    );
    const accepted = result.rowCount ?? 0;
    return { accepted, duplicates: rows.length - accepted };
  }
}
