import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { scrubSecrets } from '../util/secret_scrubber.js';

type Attributes = Record<string, unknown>;

/**
 * Scrubs every ended span before any exporter sees it: the status message, string
 * attributes, and the attributes of its events (agents-js records provider errors as
 * `exception` events whose message and stack may carry a key). It runs first among the
 * processors, and the SDK hands the same span object to each processor in turn, so every
 * later processor and exporter (OTLP, agents-js's own) gets the scrubbed span.
 */
export class ScrubbingSpanProcessor implements SpanProcessor {
  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const mutable = span as unknown as { status: { code: number; message?: string }; attributes: Attributes };
    if (mutable.status.message) mutable.status = { ...mutable.status, message: scrubSecrets(mutable.status.message) };
    scrubAttributes(mutable.attributes);
    for (const event of span.events) if (event.attributes) scrubAttributes(event.attributes);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function scrubAttributes(attributes: Attributes): void {
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') {
      const clean = scrubSecrets(value);
      if (clean !== value) attributes[key] = clean;
    } else if (Array.isArray(value)) {
      attributes[key] = value.map((item: unknown) => (typeof item === 'string' ? scrubSecrets(item) : item));
    }
  }
}
