import type { Command } from 'commander';
import { OpenRtcError } from '../../errors.js';
import { defaultInspectDir } from '../../inspect/socket_dir.js';
import type { CliContext } from '../context.js';
import { positiveIntegerValue, tenantValue } from '../flag_values.js';
import { jsonDocument } from '../json_output.js';
import type { CommandResult } from '../context.js';
import { type VerifyReport, formatReport } from '../verify/verify_report.js';

interface VerifyOptions {
  pool?: string;
  agent?: string;
  timeoutMs: string;
  json?: boolean;
  logFile?: string;
  inspectDir?: string;
  agentName?: string;
}

export function registerTenant(program: Command, ctx: CliContext, result: CommandResult): void {
  const tenant = program.command('tenant').description('tenant operations');
  tenant
    .command('verify')
    .description('place a test call for a tenant and check it end to end (runbook step 6)')
    .argument('<tenant>', 'the tenant id')
    .option('--pool <target>', 'the pool module or agents folder to host (needed without LIVEKIT_URL)')
    .option('--agent <name>', 'the agent the call must reach')
    .option('--timeout-ms <ms>', 'how long the test call may take', '20000')
    .option('--log-file <file>', 'with LIVEKIT_URL: the worker\'s JSON log, to check its records')
    .option('--inspect-dir <dir>', 'with LIVEKIT_URL: folder of inspector sockets (OPENRTC_INSPECT_DIR)')
    .option('--agent-name <name>', 'with LIVEKIT_URL: the dispatch agent name workers registered with (LIVEKIT_AGENT_NAME)')
    .option('--json', 'print the report as JSON (with a schema version)')
    .action(async (id: string, opts: VerifyOptions) => {
      const report = await runVerify(tenantValue(id, '<tenant>'), opts, ctx);
      ctx.stdout.write(opts.json ? `${JSON.stringify(jsonDocument('openrtc.tenant-verify', report), null, 2)}\n` : formatReport(report));
      if (!report.passed && !opts.json) ctx.stderr.write(`openrtc: tenant verify failed: ${report.reason}\n`);
      result.code = report.passed ? 0 : 1;
    });
}

async function runVerify(tenant: string, opts: VerifyOptions, ctx: CliContext): Promise<VerifyReport> {
  const timeoutMs = positiveIntegerValue(opts.timeoutMs, '--timeout-ms');
  const url = ctx.env.LIVEKIT_URL;
  if (url) {
    const apiKey = ctx.env.LIVEKIT_API_KEY;
    const apiSecret = ctx.env.LIVEKIT_API_SECRET;
    if (!apiKey || !apiSecret) throw new OpenRtcError('invalid_option', 'tenant verify with LIVEKIT_URL needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET set');
    const { verifyLiveKit } = await import('../verify/livekit_verify.js');
    return verifyLiveKit({
      tenant, agent: opts.agent, url, apiKey, apiSecret, timeoutMs, logFile: opts.logFile,
      agentName: opts.agentName ?? ctx.env.LIVEKIT_AGENT_NAME ?? '',
      inspectDir: opts.inspectDir ?? defaultInspectDir(ctx.env),
    });
  }
  if (!opts.pool) {
    throw new OpenRtcError('invalid_option', 'tenant verify without LIVEKIT_URL hosts the pool itself: give it with --pool <module or agents folder>');
  }
  // Loaded on use: the CLI's other commands, and the primary of `start --workers`, never need it.
  const [{ loadPool }, { verifyEmbedded }] = await Promise.all([import('../load_pool.js'), import('../verify/embedded_verify.js')]);
  const pool = await loadPool(opts.pool, ctx.cwd);
  return verifyEmbedded(pool, { tenant, agent: opts.agent, timeoutMs });
}
