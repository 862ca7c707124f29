// "Cost (voicegateway)": what the tenant's calls cost, from the rows openrtc's voicegateway
// exporter sends, read from voicegateway's PostgreSQL through a provisioned datasource. The
// SQL lives beside the exporter (src/voicegateway/cost_queries.ts) and is tested there
// against a real PostgreSQL with these macros expanded.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { TextBoxVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { costByTenantSql, costRowsByTraceSql } from '../../../src/voicegateway/cost_queries.js';

/** voicegateway's database, provisioned with this fixed uid like the Loki and Tempo ones. */
export const VOICEGATEWAY: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'openrtc-voicegateway' };

/** The text box a trace id is pasted into (from a Tempo trace, or a log line's trace_id). */
export const TRACE_VARIABLE = 'trace_id';

/** A raw SQL target: the foundation SDK has no builder for SQL datasources. */
function sqlTarget(refId: string, rawSql: string): Builder<Dataquery> {
  const query = { refId, datasource: VOICEGATEWAY, editorMode: 'code', format: 'table', rawQuery: true, rawSql };
  return { build: () => query as unknown as Dataquery };
}

export function traceIdVariable(): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder(TRACE_VARIABLE)
    .label('Trace id')
    .description('A call\'s trace id (32 hex digits): the "Cost rows of a trace" panel lists that call\'s cost rows.');
}

const unitOf = (column: string, unit: string, decimals?: number) => ({
  matcher: { id: 'byName', options: column },
  properties: [{ id: 'unit', value: unit }, ...(decimals === undefined ? [] : [{ id: 'decimals', value: decimals }])],
});

export function costPanels(): Builder<Panel>[] {
  return [
    new TablePanel()
      .title('Cost by tenant')
      .description('USD per tenant over the time range, summed from voicegateway\'s rows (one per provider request), and how many requests. '
        + 'A row\'s tenant is metadata.tenant_id, else the tenant of the key it was sent with. Rows without a price count 0.')
      .datasource(VOICEGATEWAY)
      .withTarget(sqlTarget('A', costByTenantSql({ tenantVariable: 'tenant' })))
      .unit('currencyUSD')
      .decimals(4)
      .overrides([unitOf('requests', 'short', 0), unitOf('tenant', 'string')])
      .span(12).height(8),
    new TablePanel()
      .title('Cost rows of a trace')
      .description('Every cost row of the call whose trace id is in the Trace id box: one row per STT, LLM and TTS request, with units and cost.')
      .datasource(VOICEGATEWAY)
      .withTarget(sqlTarget('A', costRowsByTraceSql({ traceVariable: TRACE_VARIABLE })))
      .unit('short')
      .overrides([unitOf('cost_usd', 'currencyUSD')])
      .span(12).height(8),
  ];
}
