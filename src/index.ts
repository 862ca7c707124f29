// The public front door of openrtc. Every export is listed by name; test/public_api.test.ts
// pins this list so a change to the surface is always a deliberate one.

export { AgentPool } from './pool/agent_pool.js';
export type { AdmissionDecision, CallRequest } from './admission/admission_decision.js';
export type { AgentPoolOptions } from './pool/options.js';
export type { SessionOptions } from './session/session_options.js';
export { SNAPSHOT_SCHEMA_VERSION } from './telemetry/runtime_snapshot.js';
export type { RetiredTenantTotals, RuntimeSnapshot, SnapshotTotals, TenantSnapshot } from './telemetry/runtime_snapshot.js';
export type {
  AdmissionEvent,
  LatencyEvent,
  LatencyStage,
  PoolEventMap,
  PoolEventName,
  PoolListener,
  ProviderComponent,
  ProviderErrorEvent,
  ReservationExpiredEvent,
  SessionEndedEvent,
  SessionStartedEvent,
  UsageEvent,
} from './telemetry/pool_events.js';

export { AdmissionTicket } from './admission/admission_ticket.js';
export type { SessionOutcome, TicketEnd, TicketState } from './admission/admission_ticket.js';
export { DEFAULT_BREAKER_POLICY } from './admission/breaker_policy.js';
export type { BreakerPolicy } from './admission/breaker_policy.js';
export type { BreakerState, BreakerStateName, Step, Transition, TransitionReason } from './admission/breaker_state.js';
export type { OutcomeBucket } from './admission/outcome_window.js';
export { InMemoryBreakerStore } from './admission/breaker_store.js';
export type { BreakerStore } from './admission/breaker_store.js';
export type { BreakerStatus, BreakerTransitionEvent } from './admission/circuit_breaker.js';
export { InMemoryReservationStore } from './admission/reservation_store.js';
export type { ReservationStore, ReserveRequest, ReserveResult } from './admission/reservation_store.js';
export type {
  ManagedStore,
  OutagePolicy,
  StoreKind,
  StoreMode,
  StoreModeEvent,
  StoreObserver,
  StoreOperationEvent,
  StoreStatus,
} from './admission/store_status.js';
export { RedisReservationStore } from './fleet/redis_reservation_store.js';
export type { RedisReservationStoreOptions } from './fleet/redis_reservation_store.js';
export { RedisBreakerStore } from './fleet/redis_breaker_store.js';
export type { RedisBreakerStoreOptions } from './fleet/redis_breaker_store.js';
export type { RedisStoreOptions } from './fleet/fleet_options.js';
export { createRedisClient } from './fleet/redis_client.js';

export type { AgentClass } from './routing/agent_registry.js';
export type { AgentRouter, RouteRequest } from './routing/router.js';

export { DEFAULT_TENANT, isValidTenantId } from './tenancy/tenant_id.js';
export type { DefaultProviders, TenantProviders, VadFactory } from './tenancy/providers.js';
export type { ConfigLoadEvent, ConfigLoadResult, TenantConfigLoader, TenantConfigSource } from './tenancy/tenant_config.js';

export { currentAgentName, currentSessionId, currentTenant, getSessionContext } from './telemetry/session_context.js';
export type { SessionContext } from './telemetry/session_context.js';
export type { BuiltSession } from './session/session_builder.js';

export { WorkerConnection } from './worker/worker_connection.js';
export type { WorkerConnectionEvents, WorkerConnectionOptions, WorkerDiagnostic } from './worker/worker_connection_options.js';
export type { BackoffOptions } from './util/backoff.js';
export type { AvailabilityAnswer, JobEndStatus, JobHandler, WorkerLoad } from './worker/job_handler.js';
export type { JobAssignment, JobRequest } from './session/job_assignment.js';
export { startTelemetry } from './telemetry/setup.js';
export type { OpenRtcTelemetry, OtlpTraceOptions, TelemetryOptions } from './telemetry/setup.js';
export { attachPoolMetrics } from './telemetry/pool_metrics.js';
export type { PoolMetricsHandle, PoolMetricsOptions, TelemetryDiagnostic } from './telemetry/pool_metrics.js';
export type { Diagnostic } from './util/diagnostic.js';
export type { ObservedPool, LiveCallView } from './telemetry/observed_pool.js';
export type { PoolRuntime } from './worker/pool_runtime.js';
export { METRIC_CATALOG } from './telemetry/metric_catalog.js';
export type { MetricSpec, MetricType } from './telemetry/metric_catalog.js';
export { DEFAULT_TENANT_LABEL_LIMIT, INVALID_TENANT_LABEL, OTHER_TENANT_LABEL } from './telemetry/tenant_labels.js';
export { TenantSpanProcessor } from './telemetry/tenant_span_processor.js';
export { DEFAULT_REDACT_PATHS, createLogger, sessionLogFields, shutdownLogger } from './telemetry/logger.js';
export type { LoggerOptions, OtlpLogOptions, SessionLogFields } from './telemetry/logger.js';
export { bindAgentsLogger } from './telemetry/agents_logger.js';
export type { BindAgentsLoggerOptions } from './telemetry/agents_logger.js';
export { attachPoolLogging } from './telemetry/pool_logging.js';
export type { PoolLogSink } from './telemetry/pool_logging.js';
export type { AgentLogsPolicy, TracePolicy, TracedCall } from './telemetry/trace_policy.js';
export {
  ATTR_AGENT,
  ATTR_AGENT_SPANS,
  ATTR_BREAKER_FROM,
  ATTR_BREAKER_REASON,
  ATTR_BREAKER_TO,
  ATTR_CAP,
  ATTR_DECISION,
  ATTR_JOB_ID,
  ATTR_OUTCOME,
  ATTR_PROBE,
  ATTR_REASON,
  ATTR_TENANT,
  EVENT_BREAKER_TRANSITION,
  EVENT_CAP_REFUSED,
  SPAN_ADMISSION,
  SPAN_SESSION,
} from './telemetry/attributes.js';

export { VoiceGatewayExporter } from './voicegateway/exporter.js';
export type { UsageSource, VoiceGatewayAttachOptions, VoiceGatewayLogSink } from './voicegateway/exporter.js';
export { MAX_ROWS_PER_REQUEST } from './voicegateway/options.js';
export type { VoiceGatewayOptions } from './voicegateway/options.js';
export type { ModelPrice, PriceTable } from './voicegateway/price_table.js';
export type { Modality, VoiceGatewayRecord } from './voicegateway/record.js';
export type { DropReason } from './voicegateway/delivery_metrics.js';
export { ROW_TENANT_SQL, costByTenantSql, costRowsByTraceSql } from './voicegateway/cost_queries.js';
export type { CostByTenantQueryOptions, CostRowsByTraceQueryOptions } from './voicegateway/cost_queries.js';
export { isVirtualKey } from './tenancy/virtual_key.js';

export { OpenRtcError, REFUSAL_REASONS } from './errors.js';
export type { OpenRtcErrorCode, RefusalReason } from './errors.js';
export { systemClock } from './util/clock.js';
export { OPENRTC_VERSION } from './version.js';
export type { Clock, TimerHandle } from './util/clock.js';
