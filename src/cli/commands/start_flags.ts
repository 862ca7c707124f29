import type { LoggerOptions } from '../../telemetry/logger.js';
import type { TelemetryOptions } from '../../telemetry/setup.js';
import type { RunOptions } from '../../worker/run_options.js';
import { type EnvFlag, envFlag, readEnvFlag } from '../env_flags.js';
import {
  hostValue, logLevelValue, millisValue, nonEmptyValue, portValue, positiveIntegerValue, tenantCapsValue,
} from '../flag_values.js';
import type { PoolOverrides } from '../load_pool.js';

/** Every deploy-time flag of `start` (and `dev`), each with its variable. */
export const START_FLAGS = {
  url: envFlag({ flag: '--url <url>', key: 'url', env: 'LIVEKIT_URL', help: 'LiveKit server url', parse: nonEmptyValue }),
  apiKey: envFlag({ flag: '--api-key <key>', key: 'apiKey', env: 'LIVEKIT_API_KEY', help: 'LiveKit API key', parse: nonEmptyValue, secret: true }),
  apiSecret: envFlag({ flag: '--api-secret <secret>', key: 'apiSecret', env: 'LIVEKIT_API_SECRET', help: 'LiveKit API secret', parse: nonEmptyValue, secret: true }),
  agentName: envFlag({ flag: '--agent-name <name>', key: 'agentName', env: 'LIVEKIT_AGENT_NAME', help: 'explicit-dispatch agent name', parse: nonEmptyValue }),
  maxSessions: envFlag({ flag: '--max-sessions <n>', key: 'maxSessions', env: 'OPENRTC_MAX_SESSIONS', help: 'global cap on sessions in this worker', parse: positiveIntegerValue }),
  tenantCap: envFlag({ flag: '--tenant-cap <tenant=n>', key: 'tenantCap', env: 'OPENRTC_TENANT_CAPS', help: 'a tenant\'s session cap; repeat, or comma-separate', parse: tenantCapsValue, repeatable: true }),
  defaultTenantCap: envFlag({ flag: '--default-tenant-cap <n>', key: 'defaultTenantCap', env: 'OPENRTC_DEFAULT_TENANT_CAP', help: 'cap for tenants without their own', parse: positiveIntegerValue }),
  metricsHost: envFlag({ flag: '--metrics-host <host>', key: 'metricsHost', env: 'OPENRTC_METRICS_HOST', help: 'interface /metrics binds, default 0.0.0.0', parse: hostValue }),
  metricsPort: envFlag({ flag: '--metrics-port <port>', key: 'metricsPort', env: 'OPENRTC_METRICS_PORT', help: 'Prometheus /metrics port, default 9464, 0 for any free one', parse: portValue }),
  drainTimeoutMs: envFlag({ flag: '--drain-timeout-ms <ms>', key: 'drainTimeoutMs', env: 'OPENRTC_DRAIN_TIMEOUT_MS', help: 'how long SIGTERM lets live calls finish, default 1800000', parse: millisValue }),
  deploymentVersion: envFlag({ flag: '--deployment-version <version>', key: 'deploymentVersion', env: 'OPENRTC_DEPLOYMENT_VERSION', help: 'shown in the snapshot, metrics and top', parse: nonEmptyValue }),
  logLevel: envFlag({ flag: '--log-level <level>', key: 'logLevel', env: 'OPENRTC_LOG_LEVEL', help: 'fatal|error|warn|info|debug|trace|silent, default info', parse: logLevelValue }),
  inspectDir: envFlag({ flag: '--inspect-dir <dir>', key: 'inspectDir', env: 'OPENRTC_INSPECT_DIR', help: 'folder of inspector sockets, default per user under the temp dir', parse: nonEmptyValue }),
} as const;

export const START_FLAG_LIST: readonly EnvFlag<unknown>[] = Object.values(START_FLAGS);

export interface StartSettings {
  overrides: PoolOverrides;
  run: RunOptions;
  logLevel: LoggerOptions['level'];
  inspectDir: string | undefined;
}

/** Turns parsed flags and the environment into pool overrides and run options. */
export function resolveStartSettings(opts: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): StartSettings {
  const read = <T>(spec: EnvFlag<T>) => readEnvFlag(spec, opts, env);
  const overrides: PoolOverrides = { options: {}, sources: {} };
  const set = <K extends keyof PoolOverrides['options']>(key: K, found: { value: NonNullable<PoolOverrides['options'][K]>; source: string } | undefined) => {
    if (!found) return;
    overrides.options[key] = found.value;
    overrides.sources[key] = found.source;
  };
  set('maxConcurrentSessions', read(START_FLAGS.maxSessions));
  set('maxSessionsPerTenant', read(START_FLAGS.tenantCap));
  set('defaultMaxSessionsPerTenant', read(START_FLAGS.defaultTenantCap));
  set('deploymentVersion', read(START_FLAGS.deploymentVersion));

  const metricsOff = opts.metrics === false || env.OPENRTC_METRICS === 'off';
  const telemetry: TelemetryOptions = {};
  const host = read(START_FLAGS.metricsHost);
  const port = read(START_FLAGS.metricsPort);
  if (host) telemetry.host = host.value;
  if (port) telemetry.port = port.value;
  const logLevel = read(START_FLAGS.logLevel)?.value ?? logLevelValue(env.LOG_LEVEL ?? 'info', 'LOG_LEVEL');
  const run: RunOptions = {
    url: read(START_FLAGS.url)?.value,
    apiKey: read(START_FLAGS.apiKey)?.value,
    apiSecret: read(START_FLAGS.apiSecret)?.value,
    agentName: read(START_FLAGS.agentName)?.value,
    drainTimeoutMs: read(START_FLAGS.drainTimeoutMs)?.value,
    telemetry: metricsOff ? false : telemetry,
  };
  const inspectDir = read(START_FLAGS.inspectDir)?.value;
  if (opts.inspect === false || env.OPENRTC_INSPECT === 'off') run.inspect = false;
  else if (inspectDir !== undefined) run.inspect = { dir: inspectDir };
  return { overrides, run, logLevel, inspectDir };
}
