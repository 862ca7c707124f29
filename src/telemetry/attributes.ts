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

export const SPAN_ADMISSION = 'openrtc.admission';
export const SPAN_SESSION = 'openrtc.session';

export const TRACER_NAME = 'openrtc';
