import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InspectorServer } from '../../src/inspect/inspector_server.js';
import { listHostWorkers, readWorkerState, sendRaw } from '../../src/inspect/inspector_client.js';
import { INSPECT_PROTOCOL_VERSION, type InspectResponse, MAX_REQUEST_BYTES } from '../../src/inspect/protocol.js';
import { prepareSocketDir } from '../../src/inspect/socket_dir.js';
import { FakeTTS, ScriptedLLM } from '../../src/testing/index.js';
import { type WorkerHarness, startWorkerHarness } from '../helpers/worker_harness.js';

let root = '';
let dir = '';
const harnesses: WorkerHarness[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'openrtc-inspect-test-'));
  // World-searchable parent, so only the inspector folder's own mode keeps others out.
  await chmod(root, 0o755);
  dir = path.join(root, 'sockets');
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const harness of harnesses.splice(0)) await harness.close();
  await rm(root, { recursive: true, force: true });
});

async function worker(tenantCaps: Record<string, number> = {}): Promise<WorkerHarness> {
  const harness = await startWorkerHarness({
    pool: { maxSessionsPerTenant: tenantCaps, maxConcurrentSessions: 10, llm: new ScriptedLLM({ reply: (text) => `noted: ${text}` }), tts: new FakeTTS() },
    run: { telemetry: false, inspect: { dir } },
  });
  harnesses.push(harness);
  return harness;
}

const parse = (line: string) => JSON.parse(line) as InspectResponse;

/**
 * A Node binary the given user may run. The test's own may sit in a folder only root can
 * enter (CI's second leg installs Node 24 under a 0700 `mktemp -d`), so try the usual places.
 */
function nodeRunnableBy(user: { uid?: number; gid?: number }): string {
  const candidates = [process.execPath, '/usr/bin/node', '/usr/local/bin/node'];
  const usable = candidates.find((candidate) => {
    const probe = spawnSync(candidate, ['-e', '0'], { ...user, stdio: 'ignore' });
    return !probe.error && probe.status === 0;
  });
  if (!usable) throw new Error(`no Node binary among ${candidates.join(', ')} can run as uid ${user.uid}`);
  return usable;
}

/** A process that opens a worker-named socket and is then killed, as a crashed worker leaves it. */
async function killedWorkerSocket(): Promise<string> {
  const script = `
    const net = require('node:net');
    const file = require('node:path').join(${JSON.stringify(dir)}, 'worker-' + process.pid + '-1.sock');
    net.createServer().listen(file, () => console.log(file));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const file = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return file;
}

describe('inspector socket', () => {
  it('serves the worker in a 0700 folder through a 0600 socket, with the protocol version on every answer', async () => {
    const harness = await worker();
    const socket = harness.worker.inspectSocket!;
    expect(path.dirname(socket)).toBe(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    const hello = parse(await sendRaw(socket, JSON.stringify({ v: INSPECT_PROTOCOL_VERSION, id: 7, method: 'hello' })));
    expect(hello).toMatchObject({ v: 1, id: 7, ok: true, result: { protocol: 1, pid: process.pid } });
    const state = await readWorkerState(socket);
    expect(state.worker).toMatchObject({ pid: process.pid, draining: false, socket });
    expect(state.snapshot.schemaVersion).toBe(1);
  });

  it('shows each live session with its tenant, state, turns and reply latency, matching the snapshot', async () => {
    const harness = await worker();
    const acme = harness.call('acme-corp', { turns: ['hi', 'one more'], hangupAfterLastReply: false });
    const globex = harness.call('globex', { turns: ['hello'], hangupAfterLastReply: false });
    await harness.server.waitFor(() => acme.transcript.filter((e) => e.from === 'agent').length === 2 && globex.transcript.some((e) => e.from === 'agent'), 'both replies', 20_000);
    const state = await readWorkerState(harness.worker.inspectSocket!);
    const rows = Object.fromEntries(state.sessions.map((s) => [s.tenant, s]));
    expect(state.sessions).toHaveLength(state.snapshot.activeSessions);
    expect(rows['acme-corp']).toMatchObject({ jobId: acme.jobId, agent: 'support', turns: 2 });
    expect(rows['acme-corp']!.lastLatencyMs).toBeGreaterThanOrEqual(0);
    expect(rows.globex).toMatchObject({ jobId: globex.jobId, turns: 1 });
    // Nothing in a row can carry a provider object or a room name.
    expect(JSON.stringify(state.sessions)).not.toContain('room-');
  }, 30_000);

  it('lists two workers on one host, and removes the socket a killed worker left', async () => {
    const first = await worker();
    const second = await worker();
    const stale = await killedWorkerSocket();
    const host = await listHostWorkers(dir);
    expect(host.workers.map((w) => w.worker.socket).sort()).toEqual([first.worker.inspectSocket, second.worker.inspectSocket].sort());
    expect(host.stale).toEqual([stale]);
    await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await listHostWorkers(dir)).stale).toEqual([]);
  }, 30_000);

  it('a new worker clears sockets whose process is gone', async () => {
    await prepareSocketDir(dir);
    const stale = await killedWorkerSocket();
    await worker();
    await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 30_000);

  it('answers malformed, wrong-version, unknown and oversized requests with an error, and the worker carries on', async () => {
    const harness = await worker();
    const socket = harness.worker.inspectSocket!;
    expect(parse(await sendRaw(socket, 'not json'))).toMatchObject({ ok: false, error: { code: 'malformed_request' } });
    expect(parse(await sendRaw(socket, '[1,2]'))).toMatchObject({ ok: false, error: { code: 'malformed_request' } });
    expect(parse(await sendRaw(socket, JSON.stringify({ v: 99, method: 'state' })))).toMatchObject({ ok: false, error: { code: 'unsupported_version' } });
    expect(parse(await sendRaw(socket, JSON.stringify({ v: 1, method: 'shutdown' })))).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    // No newline ever comes: the bound, not the line end, ends it.
    const huge = 'x'.repeat(MAX_REQUEST_BYTES * 4);
    expect(parse(await sendRaw(socket, huge))).toMatchObject({ ok: false, error: { code: 'request_too_large' } });
    // The worker still admits and hosts calls, and the inspector still answers.
    const call = harness.call('acme-corp', { turns: ['still there?'] });
    expect((await call.availability).available).toBe(true);
    await harness.sessionEnded(call.jobId, 20_000);
    expect((await readWorkerState(socket)).snapshot.totals.succeeded).toBe(1);
  }, 30_000);

  it('a fault while reading the state is an error answer, never a throw into the worker', async () => {
    let fail = true;
    const diagnostics: string[] = [];
    const server = await InspectorServer.start({
      dir,
      state: () => {
        if (fail) throw new Error('boom');
        return { marker: 1 } as never;
      },
      onDiagnostic: (m) => diagnostics.push(m),
    });
    try {
      expect(parse(await sendRaw(server.socketPath, JSON.stringify({ v: 1, method: 'state' })))).toMatchObject({ ok: false, error: { code: 'internal_error' } });
      fail = false;
      expect(parse(await sendRaw(server.socketPath, JSON.stringify({ v: 1, method: 'state' })))).toMatchObject({ ok: true, result: { marker: 1 } });
      expect(diagnostics.join()).toContain('boom');
    } finally {
      await server.close();
    }
  });

  it('refuses a folder other users can enter or that another user owns', async () => {
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await expect(prepareSocketDir(dir)).rejects.toThrow('it must be 700');
    await expect(listHostWorkers(dir)).rejects.toThrow('it must be 700');
    await writeFile(path.join(root, 'file'), '');
    await expect(prepareSocketDir(path.join(root, 'file'))).rejects.toThrow('is not a folder');
    await chmod(dir, 0o700);
    if (process.getuid?.() === 0) {
      await chown(dir, 65534, 65534);
      await expect(prepareSocketDir(dir)).rejects.toThrow('belongs to uid 65534');
    }
  });

  it('keeps another user\'s process out: the kernel refuses its connect', async () => {
    const harness = await worker();
    const socket = harness.worker.inspectSocket!;
    const script = `require('node:net').connect(${JSON.stringify(socket)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
    // Tests run as root on CI; as any other user this process could not switch users.
    const asOther = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const child = spawn(nodeRunnableBy(asOther), ['-e', script], { ...asOther, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const answer = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    });
    expect(answer).toBe(process.getuid?.() === 0 ? 'EACCES' : 'connected');
  }, 20_000);
});
