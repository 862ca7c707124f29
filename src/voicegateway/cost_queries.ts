/**
 * The SQL behind the "Cost by tenant" panel and the trace-to-cost lookup, for Grafana's
 * PostgreSQL datasource over voicegateway's `requests` table. Kept here, next to the
 * exporter that writes the rows, so the dashboard, the runbook and the tests use the
 * same text.
 *
 * A row's tenant is `metadata.tenant_id` (set by openrtc on every row) and otherwise the
 * `tenant_id` voicegateway stamped from the key: rows sent under the fallback key carry
 * the key's tenant in `tenant_id` and the call's tenant in the metadata. `metadata` is
 * JSON text, hence the `::jsonb` casts. `timestamp` is epoch seconds, so the time range
 * applies through `$__unixEpochFilter`, not `$__timeFilter` (which wants a timestamp
 * column).
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

function checkedTable(table: string): string {
  if (!IDENTIFIER.test(table)) throw new Error('table must be a lower-case identifier, optionally schema-qualified');
  return table;
}

/** The tenant of a row, as SQL. */
export const ROW_TENANT_SQL = "COALESCE(NULLIF(metadata::jsonb ->> 'tenant_id', ''), tenant_id)";

export interface CostByTenantQueryOptions {
  /** Default `requests`. */
  table?: string;
  /**
   * A Grafana multi-value variable holding tenant ids to keep, interpolated with the
   * `regex` format (so `All` with a custom all value of `.+` keeps every tenant).
   */
  tenantVariable?: string;
}

/** Cost in USD and request count per tenant over the dashboard's time range (table format). */
export function costByTenantSql(options: CostByTenantQueryOptions = {}): string {
  const table = checkedTable(options.table ?? 'requests');
  const filter = options.tenantVariable === undefined
    ? ''
    : `\n  AND ${ROW_TENANT_SQL} ~ '^(\${${options.tenantVariable}:regex})$'`;
  return `SELECT
  ${ROW_TENANT_SQL} AS tenant,
  COALESCE(SUM(cost_usd), 0) AS cost_usd,
  COUNT(*) AS requests
FROM ${table}
WHERE $__unixEpochFilter("timestamp")${filter}
GROUP BY 1
ORDER BY cost_usd DESC, tenant`;
}

export interface CostRowsByTraceQueryOptions {
  /** Default `requests`. */
  table?: string;
  /** The Grafana text variable holding the trace id. Default `trace_id`. */
  traceVariable?: string;
}

/**
 * Every cost row of the call a trace id belongs to: the trace id finds the call's session,
 * and the join returns all of that session's rows, one per provider request. No time
 * filter: a trace picked from an older search must still find its rows. An expression
 * index on `(metadata::jsonb ->> 'trace_id')` keeps it fast on a large table.
 */
export function costRowsByTraceSql(options: CostRowsByTraceQueryOptions = {}): string {
  const table = checkedTable(options.table ?? 'requests');
  const variable = options.traceVariable ?? 'trace_id';
  return `SELECT
  to_timestamp(r."timestamp") AS "time",
  ${ROW_TENANT_SQL.replace(/metadata|tenant_id/g, (m) => `r.${m}`)} AS tenant,
  r.modality,
  r.model_id,
  r.input_units,
  r.output_units,
  r.cached_input_units,
  r.cost_usd,
  r.pricing_source,
  r.session_id,
  r.metadata::jsonb ->> 'room' AS room,
  r.id
FROM ${table} r
JOIN (
  SELECT DISTINCT session_id
  FROM ${table}
  WHERE metadata::jsonb ->> 'trace_id' = \${${variable}:sqlstring}
) call ON call.session_id = r.session_id
ORDER BY r."timestamp", r.id`;
}
