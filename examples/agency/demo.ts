// `npm run demo`: the example agency pool, end to end, on one machine with nothing else
// running. Without LIVEKIT_URL it starts the stand-in LiveKit dispatch server from
// openrtc/testing and places scripted text calls through the real admission, session,
// breaker and telemetry paths. With LIVEKIT_URL set, the same pool serves a real server.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type RuntimeSnapshot, createLogger } from '../../src/index.js';
import { DispatchServer, type DispatchedCall, SimulatedRoomTransport } from '../../src/testing/index.js';
import { DEMO_TENANTS, createDemoPool } from './demo_pool.js';

const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'openrtc-demo-')), 'worker.log');
const logger = createLogger({ destination: pino.destination({ dest: logFile, sync: true }), level: 'info' });
const say = (tenant: string, text: string) => console.log(`  [${tenant.padEnd(10)}] ${text}`);

if (process.env.LIVEKIT_URL) {
  console.log(`openrtc demo: serving the example agency on ${process.env.LIVEKIT_URL} (Ctrl-C drains and exits)`);
  const pool = createDemoPool();
  await pool.run({ logger });
  process.exit(0);
}

const apiKey = 'demo-key';
const apiSecret = 'demo-secret-that-is-long-enough-for-hs256';
const server = await DispatchServer.start({ apiKey, apiSecret });
const pool = createDemoPool();

pool.on('admission', (e) => {
  if (e.accepted) say(e.tenant ?? '?', `accepted call ${e.jobId} -> agent "${e.agent}"${e.probe ? ' (breaker probe)' : ''}`);
  else say(e.tenant ?? '~invalid', `refused call ${e.jobId}: ${e.reason} (${e.message})`);
});
pool.on('sessionEnded', (e) => say(e.tenant, `call ${e.jobId} ended: ${e.outcome}${e.outcome === 'success' ? '' : ` (${e.detail})`}`));
pool.on('breakerTransition', (e) => say(e.tenant, `circuit breaker ${e.from} -> ${e.to} (${e.reason})`));

const runOptions = {
  url: server.url,
  apiKey,
  apiSecret,
  transport: new SimulatedRoomTransport(),
  handleSignals: false,
  logger,
  drainTimeoutMs: 10_000,
};
// Serve /metrics on the usual port (or OPENRTC_METRICS_PORT); if it is taken, on any free one.
const worker = await pool.start(runOptions).catch((error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  return pool.start({ ...runOptions, telemetry: { port: 0 } });
});
console.log(`openrtc demo: no LIVEKIT_URL set, so the pool runs against the embedded stand-in server at ${server.url}`);
console.log(`  metrics: ${worker.metricsUrl ?? 'off'}   worker log (JSON): ${logFile}\n`);

let callNumber = 0;
function call(tenant: string | undefined, turns: string[], extra: Record<string, unknown> = {}): DispatchedCall {
  callNumber += 1;
  const metadata = tenant === undefined ? {} : { tenant, ...extra };
  return server.dispatch({
    roomName: `call-${callNumber}`,
    jobId: `AJ_demo_${String(callNumber).padStart(3, '0')}`,
    jobMetadata: JSON.stringify(metadata),
    simulated: { turns, turnTimeoutMs: 5_000 },
  });
}
// A call is settled once the pool has torn its session down and recorded the outcome.
const sessionEnded = new Map<string, () => void>();
pool.on('sessionEnded', (e) => sessionEnded.get(e.jobId)?.());
const settle = (calls: DispatchedCall[]) =>
  Promise.all(
    calls.map(async (c) => {
      const ended = new Promise<void>((resolve) => sessionEnded.set(c.jobId, resolve));
      if ((await c.availability).available) await ended;
    }),
  );

console.log('1. Healthy and premium tenants, a call with no tenant, and one with a malformed tenant id');
await settle([
  call(DEMO_TENANTS.healthy, ['I need to reset my password', 'thanks']),
  call(DEMO_TENANTS.healthy, ['Where is my order?']),
  call(DEMO_TENANTS.premium, ['Book a table for two at eight']),
  call(undefined, ['hello?']),
  call('acme corp', ['this id has a space']),
]);

console.log(`\n2. Five simultaneous calls for ${DEMO_TENANTS.capped}, whose plan allows 2 at a time`);
await settle(Array.from({ length: 5 }, (_, i) => call(DEMO_TENANTS.capped, [`ticket ${i + 1} please`, 'ok'])));

console.log(`\n3. ${DEMO_TENANTS.failing}'s provider key was revoked: its calls fail until the breaker confines it`);
for (let i = 0; i < 4; i++) await settle([call(DEMO_TENANTS.failing, ['are you there?'])]);
await settle([call(DEMO_TENANTS.healthy, ['meanwhile, acme is unaffected'])]);

console.log('\n4. After the cooldown the breaker lets one probe through; the key is still revoked');
await new Promise((resolve) => setTimeout(resolve, 1_600));
await settle([call(DEMO_TENANTS.failing, ['trying again'])]);

const snapshot = pool.runtimeSnapshot();
const report = await pool.drain();
await server.close();

console.log('\nPer-tenant summary (from pool.runtimeSnapshot())');
printSummary(snapshot);
console.log(`\nrejections by reason: ${JSON.stringify(nonZero(snapshot.rejectionsByReason))}`);
console.log(`totals: ${JSON.stringify(snapshot.totals)}`);
// Cross-check the snapshot against what the LiveKit side saw: availability answers and
// the job status the worker reported for each call.
const accepted = server.answers.filter((a) => a.available).length;
const reported = (status: string) => server.jobUpdates.filter((u) => u.status === status).length;
const consistent =
  accepted === snapshot.totals.admitted &&
  reported('success') === snapshot.totals.succeeded &&
  reported('failed') === snapshot.totals.failed;
console.log(
  `stand-in server saw ${accepted} accepted calls, ${reported('success')} reported successful and ${reported('failed')} failed; ` +
    `the snapshot agrees: ${consistent ? 'yes' : 'NO (mismatch)'}`,
);
console.log(`drained: ${report.completed} completed, ${report.cancelled} cancelled. Bye.`);
process.exit(consistent ? 0 : 1);

function printSummary(snap: RuntimeSnapshot): void {
  const header = ['tenant', 'cap', 'ok', 'failed', 'cancelled', 'refused', 'breaker'];
  const rows = Object.entries(snap.tenants).map(([tenant, t]) => [
    tenant,
    t.cap === null ? '-' : String(t.cap),
    String(t.succeeded),
    String(t.failed),
    String(t.cancelled),
    Object.entries(t.rejectionsByReason).map(([r, n]) => `${r}:${n}`).join(' ') || '0',
    t.breaker?.state ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`;
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}
