/**
 * Every metric openrtc exports, in one machine-readable list. The docs table
 * (docs/telemetry.md) and a scrape of a real pool are both checked against it, so a
 * dashboard or alert written from the docs always finds the series it names.
 *
 * `name` is the family as Prometheus shows it. `instrument` is the OpenTelemetry
 * instrument name: the exporter turns it into `name` by appending `_total` to counters.
 * Units are part of the names because the Prometheus exporter this package pins writes
 * the unit only as a `# UNIT` comment and never appends it to the name.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  /** The metric family as it appears in `/metrics`. */
  readonly name: string;
  /** The OpenTelemetry instrument name (what OTLP consumers see). */
  readonly instrument: string;
  readonly type: MetricType;
  /** UCUM unit as OpenTelemetry records it (`s`, `1`, `{session}`). */
  readonly unit: string;
  /** Labels every series of the family carries. */
  readonly labels: readonly string[];
  /** Labels some series carry: present only where the value is known. */
  readonly optionalLabels: readonly string[];
  readonly help: string;
}

function spec(
  name: string,
  type: MetricType,
  unit: string,
  labels: readonly string[],
  help: string,
  optionalLabels: readonly string[] = [],
): MetricSpec {
  const instrument = type === 'counter' ? name.replace(/_total$/, '') : name;
  return Object.freeze({ name, instrument, type, unit, labels, optionalLabels, help });
}

export const METRIC_CATALOG: readonly MetricSpec[] = Object.freeze([
  spec('openrtc_sessions_active', 'gauge', '{session}', ['tenant', 'agent'],
    'Sessions running now.'),
  spec('openrtc_sessions_started_total', 'counter', '{session}', ['tenant', 'agent'],
    'Sessions that started (the assignment arrived and the session began).'),
  spec('openrtc_sessions_ended_total', 'counter', '{session}', ['tenant', 'agent', 'outcome'],
    'Sessions that ended, by outcome: success, failed or cancelled.'),
  spec('openrtc_session_duration_seconds', 'histogram', 's', ['tenant', 'agent', 'outcome'],
    'How long sessions ran, from start to end.'),
  spec('openrtc_admissions_total', 'counter', '{call}', ['tenant', 'decision'],
    'Admission decisions: accepted or refused. agent is absent when the call was refused before an agent was chosen.',
    ['agent']),
  spec('openrtc_admission_refusals_total', 'counter', '{call}', ['tenant', 'reason'],
    'Refused calls, by stable refusal reason.'),
  spec('openrtc_admission_duration_seconds', 'histogram', 's', [],
    'Time taken to decide one call, including any tenant config load.'),
  spec('openrtc_reservations_expired_total', 'counter', '{call}', ['tenant', 'agent'],
    'Accepted calls whose assignment never came; their slot was freed.'),
  spec('openrtc_tenant_session_cap', 'gauge', '{session}', ['tenant'],
    'The session cap that applies to the tenant (absent for tenants without a cap).'),
  spec('openrtc_tenant_cap_utilization_ratio', 'gauge', '1', ['tenant'],
    '(running + reserved sessions) / cap, for tenants with a cap.'),
  spec('openrtc_tenant_breaker_state', 'gauge', '1', ['tenant'],
    'Circuit breaker state: 0 closed, 1 half_open, 2 open (absent without a breaker).'),
  spec('openrtc_breaker_transitions_total', 'counter', '{transition}', ['tenant', 'from', 'to'],
    'Circuit breaker state changes.'),
  spec('openrtc_tenant_config_loads_total', 'counter', '{load}', ['tenant', 'result'],
    'Tenant config resolutions: static, cache_hit, loaded, error or timeout.'),
  spec('openrtc_tenant_config_load_duration_seconds', 'histogram', 's', ['tenant'],
    'Time spent in the tenant config loader (loads that ran the loader only).'),
  spec('openrtc_llm_tokens_total', 'counter', '{token}', ['tenant', 'provider', 'model', 'type'],
    'LLM tokens used, by type: input, output or cached.'),
  spec('openrtc_stt_audio_seconds_total', 'counter', 's', ['tenant', 'provider', 'model'],
    'Seconds of audio sent to speech-to-text.'),
  spec('openrtc_tts_characters_total', 'counter', '{character}', ['tenant', 'provider', 'model'],
    'Characters sent to text-to-speech.'),
  spec('openrtc_turn_latency_seconds', 'histogram', 's', ['tenant', 'agent'],
    'End-to-end turn latency: from the caller stopping speaking to the agent starting to speak.'),
  spec('openrtc_eou_delay_seconds', 'histogram', 's', ['tenant', 'agent'],
    'End-of-utterance delay: from the end of speech to the decision that the caller finished their turn.'),
  spec('openrtc_llm_ttft_seconds', 'histogram', 's', ['tenant', 'agent', 'provider', 'model'],
    'LLM time to first token.'),
  spec('openrtc_llm_duration_seconds', 'histogram', 's', ['tenant', 'agent', 'provider', 'model'],
    'LLM request duration (cancelled requests excluded).'),
  spec('openrtc_tts_ttfb_seconds', 'histogram', 's', ['tenant', 'agent', 'provider', 'model'],
    'Text-to-speech time to first byte of audio.'),
  spec('openrtc_tts_duration_seconds', 'histogram', 's', ['tenant', 'agent', 'provider', 'model'],
    'Text-to-speech request duration (cancelled requests excluded).'),
  spec('openrtc_provider_errors_total', 'counter', '{error}', ['tenant', 'component', 'provider', 'kind'],
    'Provider errors sessions reported, by component (llm, stt, tts, realtime) and kind: recoverable or unrecoverable.'),
  spec('openrtc_voicegateway_records_sent_total', 'counter', '{record}', ['tenant'],
    'Cost rows voicegateway accepted (stored for the first time).'),
  spec('openrtc_voicegateway_records_duplicate_total', 'counter', '{record}', ['tenant'],
    'Cost rows voicegateway already had (a retry of a request whose answer was lost).'),
  spec('openrtc_voicegateway_records_retried_total', 'counter', '{record}', ['tenant'],
    'Cost rows sent again after a 429, a 5xx, a timeout or a lost connection.'),
  spec('openrtc_voicegateway_records_dropped_total', 'counter', '{record}', ['tenant', 'reason'],
    'Cost rows given up on, by reason: buffer_full, no_key, unauthorized, invalid, rejected or shutdown.'),
  spec('openrtc_voicegateway_buffered_records', 'gauge', '{record}', [],
    'Cost rows waiting for delivery (in flight included).'),
  spec('openrtc_store_operation_duration_seconds', 'histogram', 's', ['store', 'operation'],
    'Time of one call of a shared store (Redis) to its backend, by store (reservations, breaker) and operation.'),
  spec('openrtc_store_errors_total', 'counter', '{error}', ['store', 'operation'],
    'Calls of a shared store to its backend that failed or timed out.'),
  spec('openrtc_store_mode_switches_total', 'counter', '{switch}', ['store', 'from', 'to'],
    'A shared store switched away from its backend (to fallback or refusing, by policy) or back to shared.'),
  spec('openrtc_store_mode', 'gauge', '1', ['store', 'mode'],
    'Where each store decides now: 1 for the current mode (memory, shared, fallback or refusing), 0 for the others.'),
  spec('openrtc_worker_load_ratio', 'gauge', '1', [],
    'Worker load 0..1, as reported to the LiveKit server.'),
  spec('openrtc_worker_draining', 'gauge', '1', [],
    '1 while the worker drains (accepts no new calls), else 0.'),
  spec('openrtc_event_loop_lag_seconds', 'gauge', 's', ['quantile'],
    'Event loop delay since the previous scrape: quantile "0.99" and "1" (the maximum).'),
  spec('openrtc_build_info', 'gauge', '1', ['version', 'deployment'],
    'Always 1; labels name the openrtc version and the deployment version.'),
]);

/** Looks a metric up by its Prometheus family name; throws on a name not in the catalog. */
export function metricSpec(name: string): MetricSpec {
  const found = METRIC_CATALOG.find((m) => m.name === name);
  if (!found) throw new Error(`metric "${name}" is not in METRIC_CATALOG`);
  return found;
}
