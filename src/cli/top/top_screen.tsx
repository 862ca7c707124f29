import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import { type TopSession, type TopTenant, type TopView, type TopWorker, formatDuration } from './top_model.js';

/** Below this many columns the session table drops the job id and agent columns. */
export const NARROW_COLUMNS = 72;

export interface TopScreenProps {
  view: TopView;
  columns: number;
  /** A line under the header: where the data came from, or why there is none. */
  notice?: string;
  /** Shown at the bottom in live mode. */
  keysHint?: boolean;
}

/** One screen of `openrtc top`, from plain data: the same for live, `--once` and tests. */
export function TopScreen({ view, columns, notice, keysHint }: TopScreenProps): ReactElement {
  const narrow = columns < NARROW_COLUMNS;
  const { filter } = view;
  const filters = [filter.tenant && `tenant=${filter.tenant}`, filter.agent && `agent=${filter.agent}`].filter(Boolean).join(' ');
  return (
    <Box flexDirection="column" width={columns}>
      {view.workers.length === 0 ? <Text>openrtc top: no worker is running on this host</Text> : null}
      {view.workers.map((w) => <WorkerLine key={w.pid} worker={w} narrow={narrow} />)}
      <Text dimColor>{`sort: ${filter.sort}${filters ? `   filter: ${filters}` : ''}   sessions shown: ${view.sessions.length}`}</Text>
      {notice ? <Text color="yellow">{notice}</Text> : null}
      <Box marginTop={1} flexDirection="column">
        <SessionTable sessions={view.sessions} narrow={narrow} />
      </Box>
      <Box marginTop={1} flexDirection="column">
        <TenantTable tenants={view.tenants} narrow={narrow} />
      </Box>
      {keysHint ? <Text dimColor>{narrow ? 's sort  t tenant  a agent  c clear  q quit' : 'keys: s sort   t next tenant   a next agent   c clear filters   q quit'}</Text> : null}
    </Box>
  );
}

function WorkerLine({ worker: w, narrow }: { worker: TopWorker; narrow: boolean }): ReactElement {
  const cap = w.maxConcurrentSessions === null ? '-' : String(w.maxConcurrentSessions);
  const state = w.draining ? 'DRAINING' : 'serving';
  const load = `sessions ${w.activeSessions}/${cap}  load ${w.load.toFixed(2)}  ${state}`;
  if (narrow) return <Text bold>{`pid ${w.pid}  ${load}`}</Text>;
  return (
    <Box flexDirection="column">
      <Text bold>{`worker ${w.workerId ?? '(unregistered)'}  pid ${w.pid}  openrtc ${w.openrtcVersion}  deploy ${w.deploymentVersion}  up ${formatDuration(w.uptimeMs)}`}</Text>
      <Text>{`  ${load}`}</Text>
    </Box>
  );
}

interface Column<T> {
  title: string;
  width: number;
  value: (row: T) => string;
  right?: boolean;
}

function Table<T>({ columns, rows, empty, rowKey }: { columns: Column<T>[]; rows: T[]; empty: string; rowKey: (row: T) => string }): ReactElement {
  const cell = (column: Column<T>, text: string) => {
    const clipped = text.length > column.width ? `${text.slice(0, column.width - 1)}…` : text;
    return column.right ? clipped.padStart(column.width) : clipped.padEnd(column.width);
  };
  return (
    <Box flexDirection="column">
      <Text inverse>{columns.map((c) => cell(c, c.title)).join(' ')}</Text>
      {rows.length === 0 ? <Text dimColor>{empty}</Text> : null}
      {rows.map((row) => <Text key={rowKey(row)}>{columns.map((c) => cell(c, c.value(row))).join(' ')}</Text>)}
    </Box>
  );
}

function SessionTable({ sessions, narrow }: { sessions: TopSession[]; narrow: boolean }): ReactElement {
  const columns: Column<TopSession>[] = [
    { title: 'TENANT', width: narrow ? 14 : 18, value: (s) => s.tenant },
    ...(narrow ? [] : [
      { title: 'AGENT', width: 12, value: (s: TopSession) => s.agent },
      { title: 'JOB', width: 18, value: (s: TopSession) => s.jobId },
    ]),
    { title: 'TIME', width: 8, value: (s) => formatDuration(s.durationMs), right: true },
    { title: 'STATE', width: 10, value: (s) => s.state },
    { title: 'TURNS', width: 5, value: (s) => String(s.turns), right: true },
    { title: 'LAST MS', width: 7, value: (s) => (s.lastLatencyMs === null ? '-' : String(Math.round(s.lastLatencyMs))), right: true },
  ];
  return <Table columns={columns} rows={sessions} empty="no live sessions" rowKey={(s) => `${s.pid}:${s.jobId}`} />;
}

function TenantTable({ tenants, narrow }: { tenants: TopTenant[]; narrow: boolean }): ReactElement {
  const columns: Column<TopTenant>[] = [
    { title: 'TENANT', width: narrow ? 14 : 18, value: (t) => t.tenant },
    { title: 'ACTIVE/CAP', width: 10, value: (t) => `${t.active}/${t.cap ?? '-'}`, right: true },
    { title: 'BREAKER', width: 9, value: (t) => t.breaker ?? '-' },
    { title: narrow ? 'REF/1m' : 'REFUSED/1m', width: narrow ? 6 : 10, value: (t) => String(t.refusalsLastMinute), right: true },
  ];
  return <Table columns={columns} rows={tenants} empty="no tenants yet" rowKey={(t) => t.tenant} />;
}
