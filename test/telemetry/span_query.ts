import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_JOB_ID } from '../../src/telemetry/attributes.js';

/** The call's `openrtc.admission` or `openrtc.session` span, found by job id. */
export function spanOfJob(spans: readonly ReadableSpan[], name: string, jobId: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name && s.attributes[ATTR_JOB_ID] === jobId);
  if (found.length !== 1) throw new Error(`expected one ${name} span for job ${jobId}, found ${found.length}`);
  return found[0]!;
}

/** Every finished span of one trace. */
export function traceOf(spans: readonly ReadableSpan[], traceId: string): ReadableSpan[] {
  return spans.filter((s) => s.spanContext().traceId === traceId);
}

export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
