import {
  type Context, type Span, type SpanOptions, type Tracer, type TracerOptions, type TracerProvider, context, trace,
  INVALID_SPAN_CONTEXT,
} from '@opentelemetry/api';
import { getSessionContext } from './session_context.js';

/**
 * The tracer provider agents-js is given (`telemetry.setTracerProvider`). Inside a session
 * that the trace policy left out (`agentSpans: false` in its session context), every span
 * agents-js starts is a non-recording stand-in that carries the parent's span context: no
 * span is built, sampled, processed or exported, child spans nest under the session span
 * as before, and log records written inside still carry the session's trace and span ids
 * (the session span's own, since no agents-js span of the call exists).
 * Everywhere else, the real provider's tracer answers.
 */
export class CallSampledTracerProvider implements TracerProvider {
  constructor(private readonly inner: TracerProvider) {}

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    return new CallSampledTracer(this.inner.getTracer(name, version, options));
  }
}

/** Whether the code running now belongs to a session whose agents-js spans are left out. */
function agentSpansLeftOut(): boolean {
  return getSessionContext()?.agentSpans === false;
}

class CallSampledTracer implements Tracer {
  constructor(private readonly inner: Tracer) {}

  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    if (!agentSpansLeftOut()) return this.inner.startSpan(name, options, ctx);
    return standIn(ctx ?? context.active());
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    if (!agentSpansLeftOut()) {
      if (rest.length === 1) return this.inner.startActiveSpan(name, rest[0]);
      if (rest.length === 2) return this.inner.startActiveSpan(name, rest[0], rest[1]);
      return this.inner.startActiveSpan(name, rest[0], rest[1], rest[2]);
    }
    const fn = rest[rest.length - 1] as (span: Span) => ReturnType<F>;
    const active = context.active();
    const parent = rest.length === 3 ? rest[1] : active;
    const span = standIn(parent);
    // Run in the parent's context itself when it is already the active one (agents-js passes
    // the active context almost always): the stand-in carries the same span context, so
    // nothing a span or log record inside reads changes, and no context is switched. The
    // active span inside is then the real parent (openrtc's session span) rather than a
    // copy that records nothing; agents-js only asks whether there is one.
    if (parent === active) return fn(span);
    return context.with(trace.setSpan(parent, span), fn, undefined, span);
  }
}

/** A span that records nothing and stands for its parent (or for no span at all). */
function standIn(parent: Context): Span {
  return trace.wrapSpanContext(trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT);
}
