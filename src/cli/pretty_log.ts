/** Pretty-prints pino JSON records for `openrtc logs` and `openrtc dev`. */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<string, string> = { TRACE: '90', DEBUG: '36', INFO: '32', WARN: '33', ERROR: '31', FATAL: '35' };
/** Shown in the prefix or left out; everything else is printed as key=value. */
const PREFIX_FIELDS = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'tenant', 'agent', 'jobId', 'sessionId', 'trace_id', 'span_id', 'trace_flags', 'name']);

export type LogRecord = Record<string, unknown>;

/** A JSON object line, or undefined for anything else (a stack line, a banner). */
export function parseLogLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

export interface LogFilter {
  tenant?: string;
  /** Matches the session id or the job id. */
  session?: string;
}

export function matchesFilter(record: LogRecord, filter: LogFilter): boolean {
  if (filter.tenant !== undefined && record.tenant !== filter.tenant) return false;
  if (filter.session !== undefined && record.sessionId !== filter.session && record.jobId !== filter.session) return false;
  return true;
}

export function formatRecord(record: LogRecord, colour: boolean): string {
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : typeof record.level === 'string' ? record.level.toUpperCase() : '?';
  const paint = (code: string | undefined, text: string) => (colour && code ? `\u001b[${code}m${text}\u001b[0m` : text);
  const who = [record.tenant, record.agent, record.jobId].filter((v) => typeof v === 'string').join('/');
  const extras = Object.entries(record)
    .filter(([key]) => !PREFIX_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const trace = typeof record.trace_id === 'string' ? ` trace=${record.trace_id.slice(0, 8)}` : '';
  const parts = [paint('90', time), paint(COLOURS[level], level.padEnd(5))];
  if (who) parts.push(paint('1', `[${who}]`));
  parts.push(typeof record.msg === 'string' ? record.msg : '');
  const tail = extras.length > 0 || trace ? paint('90', `${extras.join(' ')}${trace}`.trim()) : '';
  return `${parts.join(' ')}${tail ? ` ${tail}` : ''}`;
}

/** A pino destination that writes pretty lines (for `openrtc dev`). */
export function prettyDestination(write: (text: string) => unknown, colour: boolean): { write(line: string): void } {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        const record = parseLogLine(line);
        write(`${record ? formatRecord(record, colour) : line}\n`);
      }
    },
  };
}
