import type { Command } from 'commander';
import { OpenRtcError } from '../../errors.js';
import { listHostWorkers } from '../../inspect/inspector_client.js';
import { defaultInspectDir } from '../../inspect/socket_dir.js';
import type { CliContext } from '../context.js';
import { tenantValue, positiveIntegerValue } from '../flag_values.js';
import { jsonDocument } from '../json_output.js';
import type { CommandResult } from '../context.js';
import type { TopSource } from '../top/top_app.js';
import { SORT_KEYS, type SortKey, type TopFilter, buildTopView } from '../top/top_model.js';

interface TopOptions {
  tenant?: string;
  agent?: string;
  sort: string;
  once?: boolean;
  json?: boolean;
  intervalMs: string;
  inspectDir?: string;
}

export function registerTop(program: Command, ctx: CliContext, result: CommandResult): void {
  program
    .command('top')
    .description('live sessions of every openrtc worker on this host, per tenant')
    .option('--tenant <tenant>', 'only this tenant\'s sessions and summary')
    .option('--agent <agent>', 'only this agent\'s sessions')
    .option('--sort <key>', `order of the session rows: ${SORT_KEYS.join('|')}`, 'duration')
    .option('--once', 'print one screen and exit')
    .option('--json', 'print the view as JSON (with a schema version) and exit')
    .option('--interval-ms <ms>', 'refresh period', '1000')
    .option('--inspect-dir <dir>', 'folder of inspector sockets (OPENRTC_INSPECT_DIR)')
    .action(async (opts: TopOptions) => {
      result.code = await topCommand(opts, ctx);
    });
}

function readFilter(opts: TopOptions): TopFilter {
  if (!(SORT_KEYS as readonly string[]).includes(opts.sort)) throw new OpenRtcError('invalid_option', `--sort must be one of ${SORT_KEYS.join(', ')}`);
  const filter: TopFilter = { sort: opts.sort as SortKey };
  if (opts.tenant !== undefined) filter.tenant = tenantValue(opts.tenant, '--tenant');
  if (opts.agent !== undefined) filter.agent = opts.agent;
  return filter;
}

async function topCommand(opts: TopOptions, ctx: CliContext): Promise<number> {
  // Ink and React load only when `top` runs (top_render.tsx).
  const { renderLive, renderScreen } = await import('../top/top_render.js');
  const filter = readFilter(opts);
  const intervalMs = positiveIntegerValue(opts.intervalMs, '--interval-ms');
  const dir = opts.inspectDir ?? defaultInspectDir(ctx.env);
  const source: TopSource = {
    read: async () => {
      const host = await listHostWorkers(dir);
      const skipped = host.unreachable.length > 0 ? `${host.unreachable.length} worker(s) did not answer` : undefined;
      return { states: host.workers, notice: host.workers.length === 0 ? `no inspector socket answers in ${dir}` : skipped };
    },
  };
  const columns = ctx.stdout.columns ?? 100;
  if (opts.json || opts.once || ctx.stdout.isTTY !== true) {
    const { states, notice } = await source.read();
    const view = buildTopView(states, filter);
    if (opts.json) ctx.stdout.write(`${JSON.stringify(jsonDocument('openrtc.top', view), null, 2)}\n`);
    else ctx.stdout.write(`${renderScreen(view, columns, notice)}\n`);
    return 0;
  }
  await renderLive(ctx, source, filter, intervalMs, columns);
  return 0;
}
