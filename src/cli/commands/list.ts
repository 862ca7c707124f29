import type { Command } from 'commander';
import type { BreakerPolicy } from '../../admission/breaker_policy.js';
import { listHostWorkers } from '../../inspect/inspector_client.js';
import { defaultInspectDir } from '../../inspect/socket_dir.js';
import type { RuntimeSnapshot } from '../../telemetry/runtime_snapshot.js';
import type { CliContext } from '../context.js';
import { jsonDocument } from '../json_output.js';
import type { CommandResult } from '../context.js';

/** What `list` prints for one pool: names, caps and policy; never provider objects or keys. */
export interface PoolListing {
  source: string;
  deploymentVersion: string;
  agents: string[];
  maxConcurrentSessions: number | null;
  tenants: { tenant: string; cap: number | null }[];
  breakerPolicy: BreakerPolicy | null;
}

export function registerList(program: Command, ctx: CliContext, result: CommandResult): void {
  program
    .command('list')
    .description('agents, tenants known to the config, caps and breaker policy: of a pool module, or of every live worker on this host')
    .argument('[target]', 'a folder of agents or a pool module; without it, the live workers')
    .option('--inspect-dir <dir>', 'folder of inspector sockets (OPENRTC_INSPECT_DIR)')
    .option('--json', 'print JSON (with a schema version)')
    .action(async (target: string | undefined, opts: { json?: boolean; inspectDir?: string }) => {
      const listings = target === undefined ? await liveListings(opts.inspectDir, ctx) : [await moduleListing(target, ctx)];
      if (opts.json) ctx.stdout.write(`${JSON.stringify(jsonDocument('openrtc.list', { pools: listings }), null, 2)}\n`);
      else ctx.stdout.write(listings.length === 0 ? 'no openrtc worker is running on this host\n' : listings.map(formatListing).join('\n'));
      result.code = 0;
    });
}

function listing(source: string, snapshot: RuntimeSnapshot, breakerPolicy: BreakerPolicy | null): PoolListing {
  return {
    source,
    deploymentVersion: snapshot.deploymentVersion,
    agents: snapshot.agents,
    maxConcurrentSessions: snapshot.maxConcurrentSessions,
    tenants: Object.entries(snapshot.tenants).map(([tenant, t]) => ({ tenant, cap: t.cap })),
    breakerPolicy,
  };
}

async function moduleListing(target: string, ctx: CliContext): Promise<PoolListing> {
  const { loadPool } = await import('../load_pool.js');
  const pool = await loadPool(target, ctx.cwd);
  return listing(target, pool.runtimeSnapshot(), pool.breakerPolicy ? { ...pool.breakerPolicy } : null);
}

async function liveListings(dir: string | undefined, ctx: CliContext): Promise<PoolListing[]> {
  const host = await listHostWorkers(dir ?? defaultInspectDir(ctx.env));
  return host.workers.map((state) => listing(`worker pid ${state.worker.pid}`, state.snapshot, state.breakerPolicy));
}

export function formatListing(pool: PoolListing): string {
  const lines = [`${pool.source} (deployment ${pool.deploymentVersion})`];
  lines.push(`  agents: ${pool.agents.join(', ') || '(none)'}`);
  lines.push(`  worker cap: ${pool.maxConcurrentSessions ?? 'none'}`);
  const policy = pool.breakerPolicy;
  lines.push(policy
    ? `  breaker: opens above ${policy.failureRatio * 100}% failed of >= ${policy.minSamples} in ${policy.windowMs} ms; cooldown ${policy.cooldownMs} ms; ${policy.halfOpenProbes} probe(s)`
    : '  breaker: off');
  lines.push(pool.tenants.length === 0 ? '  tenants: (none configured)' : '  tenants:');
  const width = Math.max(6, ...pool.tenants.map((t) => t.tenant.length));
  for (const t of pool.tenants) lines.push(`    ${t.tenant.padEnd(width)}  cap ${t.cap ?? 'none'}`);
  return `${lines.join('\n')}\n`;
}
