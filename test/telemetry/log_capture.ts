import type { DestinationStream } from 'pino';

/** A pino destination that keeps every record, parsed. */
export function captureLines(): DestinationStream & { records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  return {
    records,
    write(line: string) {
      for (const part of line.split('\n')) if (part.trim() !== '') records.push(JSON.parse(part) as Record<string, unknown>);
    },
  };
}
