import { readFile } from 'node:fs/promises';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { errorMessage } from '../../errors.js';
import { listHostWorkers } from '../../inspect/inspector_client.js';
import type { InspectorState, SessionRow } from '../../inspect/protocol.js';
import { type LogRecord, parseLogLine } from '../pretty_log.js';
import { type VerifyRecorder, type VerifyReport, VerifyRecorder as Recorder } from './verify_report.js';

export interface LiveKitVerifyOptions {
  tenant: string;
  agent?: string;
  url: string;
  apiKey: string;
  apiSecret: string;
  /** The agent name workers registered with ('' for automatic dispatch). */
  agentName: string;
  inspectDir: string;
  /** The worker's JSON log, to check the records of the call. */
  logFile?: string;
  timeoutMs: number;
  pollMs?: number;
}

const USAGE_METRICS = ['openrtc_llm_tokens_total', 'openrtc_stt_audio_seconds_total', 'openrtc_tts_characters_total'];

/**
 * Runbook step 6 against a real LiveKit server: dispatches a test job for the tenant with
 * the server's agent dispatch API, then finds the session it became through the
 * inspector sockets of the workers on this host and checks each item there.
 */
export async function verifyLiveKit(options: LiveKitVerifyOptions): Promise<VerifyReport> {
  const { tenant } = options;
  const recorder = new Recorder();
  const before = await listHostWorkers(options.inspectDir);
  if (before.workers.length === 0) {
    recorder.fail('accepted', `no openrtc worker on this host answers in ${options.inspectDir}; run the check where a worker runs`);
    return recorder.report(tenant, 'livekit', 'no worker to observe');
  }
  const known = new Set(before.workers.flatMap((w) => w.sessions.map((s) => s.jobId)));
  const roomName = `openrtc-verify-${tenant}-${Date.now().toString(36)}`;
  const dispatch = new AgentDispatchClient(options.url, options.apiKey, options.apiSecret);
  await dispatch.createDispatch(roomName, options.agentName, { metadata: JSON.stringify({ tenant, ...(options.agent ? { agent: options.agent } : {}) }) });
  try {
    const found = await waitForSession(options, known);
    if (!found) {
      const after = await listHostWorkers(options.inspectDir);
      recorder.fail('accepted', `no worker on this host hosts the test call${refusalSince(before.workers, after.workers, tenant)}`);
      return recorder.report(tenant, 'livekit', 'the test call was not hosted here');
    }
    const { row, state } = found;
    if (!recorder.check('accepted', options.agent === undefined || row.agent === options.agent, `accepted by worker pid ${state.worker.pid}, agent "${row.agent}"`,
      `routed to agent "${row.agent}", expected "${options.agent}"`)) return recorder.report(tenant, 'livekit', 'the call reached another agent');
    recorder.check('inspector', row.tenant === tenant, `job ${row.jobId} listed under ${tenant}`, `job ${row.jobId} is listed under "${row.tenant}"`);
    const own = (['stt', 'llm', 'tts'] as const).filter((k) => row.providers[k] === 'tenant');
    recorder.check('providers', own.length > 0, `the session uses the tenant's own ${own.join(', ')}`, 'the session uses only shared provider objects');
    await checkLogs(recorder, options.logFile, tenant, row.jobId);
    const counted = state.snapshot.sessionsByTenant[tenant] ?? 0;
    recorder.check('snapshot', counted >= 1, `sessionsByTenant["${tenant}"] = ${counted}`, `sessionsByTenant has no session for "${tenant}"`);
    await checkMetricSeries(recorder, state, tenant);
    return recorder.report(tenant, 'livekit', 'see the items above');
  } finally {
    await new RoomServiceClient(options.url, options.apiKey, options.apiSecret).deleteRoom(roomName).catch(() => undefined);
  }
}

/**
 * Finds the session the test job became, then gives it until the timeout to answer a
 * first turn (usage exists only after one); the last reading is returned either way.
 */
async function waitForSession(options: LiveKitVerifyOptions, known: Set<string>): Promise<{ row: SessionRow; state: InspectorState } | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  let found: { row: SessionRow; state: InspectorState } | undefined;
  while (Date.now() < deadline) {
    for (const state of (await listHostWorkers(options.inspectDir)).workers) {
      const row = state.sessions.find((s) => s.tenant === options.tenant && !known.has(s.jobId) && (!found || s.jobId === found.row.jobId));
      if (row) found = { row, state };
    }
    if (found && found.row.lastLatencyMs !== null) return found;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
  return found;
}

/** Names the refusal reasons the tenant collected during the attempt, if any. */
function refusalSince(before: InspectorState[], after: InspectorState[], tenant: string): string {
  const total = (states: InspectorState[]) => {
    const sum: Record<string, number> = {};
    for (const s of states) for (const [reason, n] of Object.entries(s.snapshot.tenants[tenant]?.rejectionsByReason ?? {})) sum[reason] = (sum[reason] ?? 0) + (n ?? 0);
    return sum;
  };
  const a = total(before);
  const reasons = Object.entries(total(after)).filter(([reason, n]) => n > (a[reason] ?? 0)).map(([reason]) => reason);
  return reasons.length > 0 ? `: refused with ${reasons.join(', ')}` : ' (no refusal was counted either: is the worker registered under that agent name?)';
}

async function checkLogs(recorder: VerifyRecorder, logFile: string | undefined, tenant: string, jobId: string): Promise<void> {
  if (!logFile) {
    recorder.fail('logs', 'give the worker\'s JSON log with --log-file to check its records');
    return;
  }
  const text = await readFile(logFile, 'utf8').catch((error: unknown) => `!${errorMessage(error)}`);
  if (text.startsWith('!')) {
    recorder.fail('logs', `cannot read ${logFile}: ${text.slice(1)}`);
    return;
  }
  const records = text.split('\n').map(parseLogLine).filter((r): r is LogRecord => r !== undefined && r.jobId === jobId);
  const ok = records.some((r) => r.tenant === tenant && typeof r.trace_id === 'string') && records.every((r) => r.tenant === undefined || r.tenant === tenant);
  recorder.check('logs', ok, `${records.length} record(s) of job ${jobId} carry "${tenant}" and a trace id`, `the records of job ${jobId} do not carry "${tenant}" with a trace id`);
}

async function checkMetricSeries(recorder: VerifyRecorder, state: InspectorState, tenant: string): Promise<void> {
  const url = state.worker.metricsUrl?.replace('//0.0.0.0:', '//127.0.0.1:');
  if (!url) {
    recorder.fail('metrics', 'the worker serves no /metrics');
    recorder.fail('usage', 'the worker serves no /metrics to read usage from');
    return;
  }
  try {
    const lines = (await (await fetch(url)).text()).split('\n').filter((l) => !l.startsWith('#') && l.includes(`tenant="${tenant}"`));
    recorder.check('metrics', lines.length > 0, `${lines.length} series carry tenant="${tenant}"`, `no series on ${url} carries tenant="${tenant}"`);
    const usage = lines.filter((l) => USAGE_METRICS.some((m) => l.startsWith(m)));
    recorder.check('usage', usage.length > 0, `${usage.length} usage series for the tenant`,
      'no usage series for the tenant yet: the test job has no caller speaking, so place one real call and run this again');
  } catch (error: unknown) {
    recorder.fail('metrics', `reading ${url} failed: ${errorMessage(error)}`);
  }
}
