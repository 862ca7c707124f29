#!/usr/bin/env node
import { OpenRtcError } from '../errors.js';
import { OPENRTC_VERSION } from '../version.js';
import { numberFlag, parseArgs } from './args.js';
import { loadPool } from './load_pool.js';

const USAGE = `openrtc ${OPENRTC_VERSION}

usage:
  openrtc start <agents-folder | pool-module> [options]   host the pool as a LiveKit worker
  openrtc --version

start options (each also read from the environment):
  --url <url>                 LiveKit server (LIVEKIT_URL)
  --api-key <key>             (LIVEKIT_API_KEY)
  --api-secret <secret>       (LIVEKIT_API_SECRET)
  --agent-name <name>         explicit dispatch name (LIVEKIT_AGENT_NAME)
  --metrics-port <port>       Prometheus /metrics port, default 9464 (OPENRTC_METRICS_PORT)
  --drain-timeout-ms <ms>     how long SIGTERM lets live calls finish, default 1800000
  --no-metrics                serve no /metrics
`;

const VALUE_FLAGS = new Set(['url', 'api-key', 'api-secret', 'agent-name', 'metrics-port', 'drain-timeout-ms']);

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, VALUE_FLAGS);
  if (args.flags.version) {
    console.log(OPENRTC_VERSION);
    return 0;
  }
  if (args.command !== 'start' || args.positionals.length !== 1 || args.flags.help) {
    console.error(USAGE);
    return args.flags.help ? 0 : 2;
  }
  const pool = await loadPool(args.positionals[0]!);
  const metricsPort = numberFlag(args.flags, 'metrics-port');
  const str = (name: string): string | undefined => {
    const value = args.flags[name];
    return typeof value === 'string' ? value : undefined;
  };
  // run() drains on SIGTERM/SIGINT and exits 0 once live calls are done.
  await pool.run({
    url: str('url'),
    apiKey: str('api-key'),
    apiSecret: str('api-secret'),
    agentName: str('agent-name'),
    drainTimeoutMs: numberFlag(args.flags, 'drain-timeout-ms'),
    telemetry: args.flags['no-metrics'] ? false : metricsPort === undefined ? undefined : { port: metricsPort },
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof OpenRtcError ? `openrtc: ${error.message}` : error);
    process.exit(1);
  },
);
