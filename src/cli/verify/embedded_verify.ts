import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AdmissionEvent, UsageEvent } from '../../telemetry/pool_events.js';
import type { AgentPool } from '../../pool/agent_pool.js';
import { readWorkerState } from '../../inspect/inspector_client.js';
import type { SessionRow } from '../../inspect/protocol.js';
import { createLogger } from '../../telemetry/logger.js';
import { TENANT_PROVIDER_KEYS } from '../../tenancy/providers.js';
import { DispatchServer } from '../../testing/dispatch_server.js';
import type { DispatchedCall } from '../../testing/dispatched_call.js';
import { SimulatedRoomTransport } from '../../testing/simulated_room.js';
import type { PoolWorker } from '../../worker/pool_worker.js';
import { PARTICIPANT_ATTR_AGENT } from '../../worker/pool_job_handler.js';
import { type LogRecord, parseLogLine } from '../pretty_log.js';
import { type VerifyRecorder, type VerifyReport, VerifyRecorder as Recorder } from './verify_report.js';

export interface EmbeddedVerifyOptions {
  tenant: string;
  /** The agent the call must reach; default: whichever the pool routes it to. */
  agent?: string;
  /** How long the test call may take to be answered, in ms. */
  timeoutMs: number;
}

const STANDIN_KEY = 'openrtc-verify';
const STANDIN_SECRET = 'openrtc-verify-standin-secret-long-enough-for-hs256';
const TEST_TURN = 'this is an openrtc verification call';

/** What the test call left behind, gathered while it is still live. */
interface Evidence {
  call: DispatchedCall;
  admission: AdmissionEvent | undefined;
  records: LogRecord[];
  usage: UsageEvent[];
}

/**
 * Runbook step 6 without a LiveKit server: hosts the pool here against the embedded
 * stand-in server, places one simulated call for the tenant, and checks every item
 * while the call is still on the line.
 */
export async function verifyEmbedded(pool: AgentPool, options: EmbeddedVerifyOptions): Promise<VerifyReport> {
  const { tenant } = options;
  const records: LogRecord[] = [];
  const logger = createLogger({ level: 'debug', otlp: false, destination: { write: (line: string) => void collect(records, line) } });
  const usage: UsageEvent[] = [];
  const admissions: AdmissionEvent[] = [];
  const offUsage = pool.on('usage', (e) => e.tenant === tenant && usage.push(e));
  const offAdmission = pool.on('admission', (e) => admissions.push(e));
  const inspectDir = await mkdtemp(path.join(os.tmpdir(), 'openrtc-verify-'));
  const server = await DispatchServer.start({ apiKey: STANDIN_KEY, apiSecret: STANDIN_SECRET });
  const recorder = new Recorder();
  try {
    const worker = await pool.start({
      url: server.url, apiKey: STANDIN_KEY, apiSecret: STANDIN_SECRET, transport: new SimulatedRoomTransport(),
      handleSignals: false, logger, telemetry: { host: '127.0.0.1', port: 0, otlpTraces: false }, inspect: { dir: inspectDir },
      drainTimeoutMs: 5_000,
    });
    const call = server.dispatch({
      roomName: `openrtc-verify-${tenant}`,
      jobId: `AJ_verify_${Date.now().toString(36)}`,
      jobMetadata: JSON.stringify({ tenant, ...(options.agent ? { agent: options.agent } : {}) }),
      simulated: { turns: [TEST_TURN], hangupAfterLastReply: false, turnTimeoutMs: options.timeoutMs },
    });
    const answer = await call.availability;
    const evidence: Evidence = { call, admission: admissions.find((a) => a.jobId === call.jobId), records, usage };
    const routedTo = answer.participantAttributes[PARTICIPANT_ATTR_AGENT];
    if (!answer.available) {
      const why = evidence.admission?.reason ? `refused with ${evidence.admission.reason}: ${evidence.admission.message ?? ''}` : 'refused';
      recorder.fail('accepted', why);
      return recorder.report(tenant, 'embedded', 'the test call was not accepted');
    }
    if (!recorder.check('accepted', options.agent === undefined || routedTo === options.agent,
      `accepted, agent "${routedTo}"`, `routed to agent "${routedTo}", expected "${options.agent}"`)) {
      return recorder.report(tenant, 'embedded', 'the call reached another agent');
    }
    const replied = await server
      .waitFor(() => call.transcript.some((e) => e.from === 'agent'), 'the agent\'s reply to the test call', options.timeoutMs)
      .then(() => true, () => false);
    await checkLiveCall(recorder, pool, worker, evidence, tenant, replied);
    call.hangup();
    return recorder.report(tenant, 'embedded', 'the session could not be read');
  } finally {
    offUsage();
    offAdmission();
    await pool.drain(5_000).catch(() => undefined);
    await server.close();
    await rm(inspectDir, { recursive: true, force: true });
  }
}

async function checkLiveCall(recorder: VerifyRecorder, pool: AgentPool, worker: PoolWorker, evidence: Evidence, tenant: string, replied: boolean): Promise<void> {
  const jobId = evidence.call.jobId;
  let row: SessionRow | undefined;
  try {
    const state = await readWorkerState(worker.inspectSocket ?? '');
    row = state.sessions.find((s) => s.jobId === jobId);
    recorder.check('inspector', row?.tenant === tenant, `job ${jobId} listed under ${tenant} (state ${row?.state}, ${row?.turns} turn(s))`,
      row ? `job ${jobId} is listed under "${row.tenant}"` : `job ${jobId} is not among the worker's live sessions`);
  } catch (error: unknown) {
    recorder.fail('inspector', `the inspector did not answer: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  checkProviders(recorder, pool, jobId, row);
  const traced = evidence.records.filter((r) => r.tenant === tenant && r.jobId === jobId && typeof r.trace_id === 'string');
  const mislabelled = evidence.records.filter((r) => r.jobId === jobId && r.tenant !== undefined && r.tenant !== tenant);
  recorder.check('logs', traced.length > 0 && mislabelled.length === 0, `${traced.length} record(s) with tenant "${tenant}" and a trace id`,
    mislabelled.length > 0 ? `${mislabelled.length} record(s) of the call carry another tenant` : 'no record of the call carries the tenant and a trace id');
  const counted = pool.runtimeSnapshot().sessionsByTenant[tenant] ?? 0;
  recorder.check('snapshot', counted >= 1, `sessionsByTenant["${tenant}"] = ${counted}`, `sessionsByTenant has no session for "${tenant}"`);
  await checkMetrics(recorder, worker.metricsUrl, tenant);
  recorder.check('usage', evidence.usage.length > 0, `${evidence.usage.length} usage record(s): ${[...new Set(evidence.usage.map((u) => `${u.kind} ${u.provider}/${u.model}`))].join(', ')}`,
    replied ? 'the call was answered but no usage was recorded for the tenant' : 'the agent did not answer the test call in time, so no usage was recorded');
}

function checkProviders(recorder: VerifyRecorder, pool: AgentPool, jobId: string, row: SessionRow | undefined): void {
  const own = pool.runtime.ticket(jobId)?.tenantProviders;
  if (!row) {
    recorder.fail('providers', 'the session could not be read from the inspector');
    return;
  }
  const configured = TENANT_PROVIDER_KEYS.filter((kind) => own?.[kind] !== undefined);
  if (configured.length === 0) {
    recorder.pass('providers', 'the tenant configures no providers of its own; the shared ones serve it');
    return;
  }
  const wrong = configured.filter((kind) => row.providers[kind] !== 'tenant');
  recorder.check('providers', wrong.length === 0, `the session uses the tenant's own ${configured.join(', ')}`,
    `the session does not use the tenant's own ${wrong.join(', ')}`);
}

async function checkMetrics(recorder: VerifyRecorder, url: string | undefined, tenant: string): Promise<void> {
  if (!url) {
    recorder.fail('metrics', 'the worker serves no /metrics');
    return;
  }
  try {
    const text = await (await fetch(url)).text();
    const names = new Set(text.split('\n').filter((l) => l.includes(`tenant="${tenant}"`) && !l.startsWith('#')).map((l) => l.split(/[{ ]/, 1)[0]));
    recorder.check('metrics', names.size > 0, `${names.size} metric(s) carry tenant="${tenant}"`, `no series on ${url} carries tenant="${tenant}"`);
  } catch (error: unknown) {
    recorder.fail('metrics', `reading ${url} failed: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
}

function collect(records: LogRecord[], chunk: string): void {
  for (const line of chunk.split('\n')) {
    const record = parseLogLine(line);
    if (record) records.push(record);
  }
}
