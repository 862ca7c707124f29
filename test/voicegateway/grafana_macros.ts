// Expands the Grafana PostgreSQL macros and variable formats our panel queries use, the
// way Grafana does before it sends a query, so the SQL can run against a real database.

export interface MacroContext {
  /** Dashboard time range, epoch ms. */
  fromMs: number;
  toMs: number;
  /** Variable values: one string, or several for a multi-value variable. */
  variables?: Record<string, string | string[]>;
  /** Variables whose current value is `All` with a custom all value (used as is). */
  allValues?: Record<string, string>;
}

const escapeRegex = (value: string) => value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function expandGrafanaSql(sql: string, ctx: MacroContext): string {
  const from = Math.floor(ctx.fromMs / 1000);
  const to = Math.floor(ctx.toMs / 1000);
  const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  let out = sql
    .replace(/\$__unixEpochFilter\(([^)]+)\)/g, (_, col: string) => `${col} >= ${from} AND ${col} <= ${to}`)
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col} BETWEEN '${iso(ctx.fromMs)}' AND '${iso(ctx.toMs)}'`)
    .replace(/\$\{(\w+):(\w+)\}/g, (_, name: string, format: string) => {
      const all = ctx.allValues?.[name];
      const value = ctx.variables?.[name];
      if (format === 'regex') {
        if (all !== undefined) return all;
        const values = Array.isArray(value) ? value : [value ?? ''];
        return values.length === 1 ? escapeRegex(values[0]!) : `(${values.map(escapeRegex).join('|')})`;
      }
      if (format === 'sqlstring') {
        const values = Array.isArray(value) ? value : [value ?? ''];
        return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
      }
      throw new Error(`format ${format} is not expanded by this helper`);
    });
  if (/\$__|\$\{|\[\[/.test(out)) throw new Error(`unexpanded Grafana syntax left in:\n${out}`);
  out = out.trim();
  return out;
}
