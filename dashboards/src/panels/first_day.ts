// "First-day watch": is the tenant healthy under real traffic? Capacity, failures, the
// breaker, durations, per-stage turn latency, provider errors, usage and the workers' loop.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { TENANT, WORKER, quantile, stateTimeline, timeseries } from '../common.js';

const STAGES: [string, string][] = [
  ['openrtc_turn_latency_seconds', 'end to end'],
  ['openrtc_eou_delay_seconds', 'end of utterance'],
  ['openrtc_llm_ttft_seconds', 'LLM first token'],
  ['openrtc_tts_ttfb_seconds', 'TTS first byte'],
];

export function firstDayPanels(): Builder<Panel>[] {
  return [
    timeseries({
      title: 'Active sessions vs cap',
      description: 'Sessions running now per tenant, and the tenant\'s session cap (absent for tenants without one).',
      unit: 'short',
      queries: [
        { expr: `sum by (tenant) (openrtc_sessions_active{${TENANT}})`, legend: '{{tenant}} active' },
        { expr: `max by (tenant) (openrtc_tenant_session_cap{${TENANT}})`, legend: '{{tenant}} cap' },
      ],
    }),
    timeseries({
      title: 'Cap utilization',
      description: '(running + reserved) / cap per tenant; at 100% the next call is refused with tenant_cap.',
      unit: 'percentunit',
      queries: [{ expr: `max by (tenant) (openrtc_tenant_cap_utilization_ratio{${TENANT}})`, legend: '{{tenant}}' }],
    }),
    timeseries({
      title: 'Failure ratio',
      description: 'Share of ended sessions that failed (cancelled ones excluded). The breaker opens above its failureRatio.',
      unit: 'percentunit',
      queries: [{
        expr: `sum by (tenant) (increase(openrtc_sessions_ended_total{${TENANT}, outcome="failed"}[$__rate_interval])) / sum by (tenant) (increase(openrtc_sessions_ended_total{${TENANT}, outcome=~"success|failed"}[$__rate_interval]))`,
        legend: '{{tenant}}',
      }],
    }),
    timeseries({
      title: 'Session outcomes',
      description: 'Sessions ended per interval by outcome: success (hangups included), failed, cancelled (drains, terminations).',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, outcome) (increase(openrtc_sessions_ended_total{${TENANT}}[$__rate_interval]))`, legend: '{{tenant}} {{outcome}}' }],
    }),
    stateTimeline({
      title: 'Breaker state',
      description: 'The tenant\'s circuit breaker: closed, half open (probing), open (calls refused with circuit_open). The worst state over the selected workers.',
      queries: [{ expr: `max by (tenant) (openrtc_tenant_breaker_state{${TENANT}})`, legend: '{{tenant}}' }],
      states: { 0: ['closed', 'green'], 1: ['half open', 'yellow'], 2: ['open', 'red'] },
    }),
    timeseries({
      title: 'Session duration p50 / p95',
      description: 'How long the tenant\'s sessions ran, by outcome. Very short successful sessions often mean callers hang up on a broken agent.',
      unit: 's',
      queries: [
        { expr: quantile(0.5, 'openrtc_session_duration_seconds', TENANT, ['tenant']), legend: '{{tenant}} p50' },
        { expr: quantile(0.95, 'openrtc_session_duration_seconds', TENANT, ['tenant']), legend: '{{tenant}} p95' },
      ],
    }),
    timeseries({
      title: 'Turn latency by stage p50 / p95',
      description: 'End-to-end turn latency (caller stops speaking -> agent speaks) and its stages: end-of-utterance delay, LLM time to first token, TTS time to first byte. Text-only calls have no speech stages.',
      unit: 's',
      queries: STAGES.flatMap(([family, stage]) => [0.5, 0.95].map((q) => ({
        expr: quantile(q, family, TENANT, ['tenant']),
        legend: `{{tenant}} ${stage} p${q * 100}`,
      }))),
      span: 24,
      height: 9,
    }),
    timeseries({
      title: 'LLM time to first token by model p95',
      description: 'Per provider and model, for tenants that use more than one.',
      unit: 's',
      queries: [{ expr: quantile(0.95, 'openrtc_llm_ttft_seconds', TENANT, ['tenant', 'provider', 'model']), legend: '{{tenant}} {{provider}} {{model}}' }],
    }),
    timeseries({
      title: 'Provider errors',
      description: 'Errors the tenant\'s sessions reported per component (llm, stt, tts, realtime), provider and kind. Unrecoverable ones fail the session.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, component, provider, kind) (increase(openrtc_provider_errors_total{${TENANT}}[$__rate_interval]))`, legend: '{{tenant}} {{component}} {{provider}} {{kind}}' }],
    }),
    timeseries({
      title: 'LLM tokens by provider and model',
      description: 'Tokens per interval by type (input, output, cached).',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, provider, model, type) (increase(openrtc_llm_tokens_total{${TENANT}}[$__rate_interval]))`, legend: '{{tenant}} {{provider}} {{model}} {{type}}' }],
      span: 8,
    }),
    timeseries({
      title: 'Speech-to-text audio by provider and model',
      description: 'Seconds of audio sent to speech-to-text per interval.',
      unit: 's',
      queries: [{ expr: `sum by (tenant, provider, model) (increase(openrtc_stt_audio_seconds_total{${TENANT}}[$__rate_interval]))`, legend: '{{tenant}} {{provider}} {{model}}' }],
      span: 8,
    }),
    timeseries({
      title: 'Text-to-speech characters by provider and model',
      description: 'Characters sent to text-to-speech per interval.',
      unit: 'short',
      queries: [{ expr: `sum by (tenant, provider, model) (increase(openrtc_tts_characters_total{${TENANT}}[$__rate_interval]))`, legend: '{{tenant}} {{provider}} {{model}}' }],
      span: 8,
    }),
    timeseries({
      title: 'Event-loop lag of the workers serving the tenant',
      description: 'p99 event-loop delay of each worker that has hosted a session of the selected tenants. Every session on a worker shares its loop.',
      unit: 's',
      queries: [{
        expr: `max by (instance) (openrtc_event_loop_lag_seconds{${WORKER}, quantile="0.99"}) and on (instance) group by (instance) (openrtc_sessions_started_total{${TENANT}} > 0)`,
        legend: '{{instance}}',
      }],
      span: 24,
    }),
  ];
}
