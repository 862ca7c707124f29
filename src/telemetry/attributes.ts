/**
 * Span attribute and metric label names shared by every signal, so a dashboard, a trace
 * query and a log search use the same words.
 */
export const ATTR_TENANT = 'openrtc.tenant';
export const ATTR_AGENT = 'openrtc.agent';
export const ATTR_JOB_ID = 'livekit.job.id';
export const ATTR_DECISION = 'openrtc.admission.decision';
export const ATTR_REASON = 'openrtc.admission.reason';
export const ATTR_PROBE = 'openrtc.admission.probe';
export const ATTR_OUTCOME = 'openrtc.session.outcome';
/** Whether the call records agents-js's own spans (the trace policy's choice at admission). */
export const ATTR_AGENT_SPANS = 'openrtc.trace.agent_spans';

export const SPAN_ADMISSION = 'openrtc.admission';
export const SPAN_SESSION = 'openrtc.session';
/** One call of a shared store (Redis) to its backend, as a child of the call it decides. */
export const SPAN_STORE = 'openrtc.store';
export const ATTR_STORE = 'openrtc.store.name';
export const ATTR_STORE_OPERATION = 'openrtc.store.operation';

export const TRACER_NAME = 'openrtc';

// Span events on the admission span.
export const EVENT_BREAKER_TRANSITION = 'openrtc.breaker.transition';
export const EVENT_CAP_REFUSED = 'openrtc.admission.cap_refused';
export const ATTR_BREAKER_FROM = 'openrtc.breaker.from';
export const ATTR_BREAKER_TO = 'openrtc.breaker.to';
export const ATTR_BREAKER_REASON = 'openrtc.breaker.reason';
/** The cap that refused the call (the tenant's or the worker's). */
export const ATTR_CAP = 'openrtc.admission.cap';
