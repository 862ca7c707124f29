import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { getSessionContext } from './session_context.js';
import { ATTR_AGENT, ATTR_JOB_ID, ATTR_TENANT } from './attributes.js';

/**
 * Tags every span started inside an openrtc session with its tenant, agent and job id.
 * agents-js creates its own spans (turns, LLM and TTS requests) without knowing about
 * tenants; the session context travels with the async work that starts them, so reading
 * it at span start is what makes a trace searchable by tenant. Spans outside a session
 * are left alone.
 */
export class TenantSpanProcessor implements SpanProcessor {
  onStart(span: Span, _parentContext: Context): void {
    const session = getSessionContext();
    if (!session) return;
    // One call each rather than setAttributes({...}): no object per span on this hot path.
    span.setAttribute(ATTR_TENANT, session.tenant);
    span.setAttribute(ATTR_AGENT, session.agent);
    span.setAttribute(ATTR_JOB_ID, session.jobId);
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
