import { invalidOption } from '../errors.js';
import { telemetry as agentsTelemetry } from '@livekit/agents';
import { type Meter, ProxyTracerProvider, type Tracer, context, propagation, trace } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { ObservedPool } from './observed_pool.js';
import { OPENRTC_VERSION } from '../version.js';
import { TRACER_NAME } from './attributes.js';
import { type MetricsServer, startMetricsServer } from './metrics_server.js';
import { LatencyHistograms, useLatencyHistograms } from './latency_histograms.js';
import { type PoolMetricsHandle, type PoolMetricsOptions, type TelemetryDiagnostic, attachPoolMetrics } from './pool_metrics.js';
import { ScrubbingSpanProcessor } from './scrubbing_span_processor.js';
import { TenantSpanProcessor } from './tenant_span_processor.js';
import { CallSampledTracerProvider } from './agents_tracer.js';
import { resolveSampler } from './trace_sampler.js';
import { SharedContextManager } from './shared_context_manager.js';

export interface OtlpTraceOptions {
  /** Full URL of the OTLP/HTTP traces endpoint, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** Extra request headers (auth). `OTEL_EXPORTER_OTLP_HEADERS` is read as well. */
  headers?: Record<string, string>;
}

export interface TelemetryOptions {
  /** Interface the `/metrics` server binds. Default '0.0.0.0'. */
  host?: string;
  /** Port of the `/metrics` server; 0 picks a free one (see `metricsPort`). Default 9464. */
  port?: number;
  /** Path Prometheus scrapes. Default '/metrics'. */
  endpoint?: string;
  /** `service.name` of the resource. Default 'openrtc'. */
  serviceName?: string;
  /** `service.version` of the resource. Default: env OPENRTC_DEPLOYMENT_VERSION or 'dev'. */
  deploymentVersion?: string;
  /**
   * Where spans go over OTLP/HTTP. Default: on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
   * `OTEL_EXPORTER_OTLP_ENDPOINT` is set; `false` turns it off whatever the environment says.
   */
  otlpTraces?: OtlpTraceOptions | false;
  /**
   * Head sampler: which traces are recorded at all. Default: the one \`OTEL_TRACES_SAMPLER\`
   * (and \`OTEL_TRACES_SAMPLER_ARG\`) names in \`env\`, else parent-based always-on. Which
   * calls also record agents-js's own spans is the pool's \`tracing\` option.
   */
  sampler?: Sampler;
  /** More span processors (an InMemorySpanExporter in tests, another backend). */
  spanProcessors?: SpanProcessor[];
  /** Register the tracer provider and openrtc's context manager (one async store with the session's) globally. Default true. */
  registerGlobally?: boolean;
  /** Passed to agents-js `setTracerProvider`: whether exporters may receive conversation content. */
  allowPii?: boolean;
  /** Defaults for `attach(pool)`. */
  tenantLabelLimit?: number;
  onDiagnostic?: (diagnostic: TelemetryDiagnostic) => void;
  /** Environment to read OTEL_* variables from. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface OpenRtcTelemetry {
  readonly meterProvider: MeterProvider;
  readonly meter: Meter;
  readonly tracerProvider: NodeTracerProvider;
  readonly tracer: Tracer;
  /** Port the `/metrics` server bound. */
  readonly metricsPort: number;
  /** URL to scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly metricsUrl: string;
  /** The OTLP traces URL in use, if any. */
  readonly otlpTracesUrl: string | undefined;
  /** Exports a pool's metrics through this telemetry's meter. */
  attach(pool: ObservedPool, options?: Omit<PoolMetricsOptions, 'meter'>): PoolMetricsHandle;
  /** Sends buffered spans now. */
  forceFlush(): Promise<void>;
  /** Flushes, detaches pools, closes the metrics server and unregisters globals. Idempotent. */
  shutdown(): Promise<void>;
}

const DEFAULT_METRICS_PORT = 9464;

/**
 * Wires the OpenTelemetry SDK for a worker: one MeterProvider behind a Prometheus
 * endpoint and one TracerProvider shared with agents-js. Library code never imports the
 * SDK; only the worker calls this, once, at start.
 *
 * The MeterProvider is deliberately not registered globally: agents-js records its own
 * histograms on the global meter with room and job ids as attributes, and those must
 * never reach a Prometheus scrape.
 */
export async function startTelemetry(options: TelemetryOptions = {}): Promise<OpenRtcTelemetry> {
  const env = options.env ?? process.env;
  const port = options.port ?? DEFAULT_METRICS_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidOption('port', 'must be an integer from 0 to 65535', port);
  }
  const sampler = resolveSampler(options.sampler, env);
  const deploymentVersion = options.deploymentVersion ?? env.OPENRTC_DEPLOYMENT_VERSION ?? 'dev';
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName ?? 'openrtc',
    [ATTR_SERVICE_VERSION]: deploymentVersion,
    'openrtc.version': OPENRTC_VERSION,
  });

  // Latency histograms are aggregated by openrtc and read with the SDK's instruments (latency_histograms.ts).
  const latency = new LatencyHistograms();
  // Scope labels would add otel_scope_* to every series; the catalog documents tenant-level labels only.
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [latency] });
  const meterProvider = new MeterProvider({ resource, readers: [exporter] });
  const meter = meterProvider.getMeter(TRACER_NAME, OPENRTC_VERSION);
  useLatencyHistograms(meter, latency);

  const { tracerProvider, otlpTracesUrl, registerGlobally } = startTracing(options, resource, env, sampler);

  let server: MetricsServer;
  try {
    server = await startMetricsServer(exporter, {
      host: options.host ?? '0.0.0.0',
      port,
      endpoint: options.endpoint ?? '/metrics',
    });
  } catch (error: unknown) {
    await Promise.allSettled([meterProvider.shutdown(), tracerProvider.shutdown()]);
    if (registerGlobally) unregisterGlobals();
    throw error;
  }

  return telemetryHandle(options, { meterProvider, meter, tracerProvider, server, otlpTracesUrl, registerGlobally });
}

/** The tracer provider, with openrtc's processors first and agents-js's own fanned out after. */
function startTracing(options: TelemetryOptions, resource: Resource, env: NodeJS.ProcessEnv, sampler: Sampler) {
  const otlpTracesUrl = resolveOtlpTracesUrl(options.otlpTraces, env);
  const fanout = new agentsTelemetry.FanoutSpanProcessor();
  const spanProcessors: SpanProcessor[] = [
    // First, so every later processor and exporter sees the tenant and no secret.
    new TenantSpanProcessor(),
    new ScrubbingSpanProcessor(),
    ...(options.spanProcessors ?? []),
    ...(otlpTracesUrl
      ? [new BatchSpanProcessor(new OTLPTraceExporter({
          url: otlpTracesUrl,
          ...(options.otlpTraces && options.otlpTraces.headers ? { headers: options.otlpTraces.headers } : {}),
        }))]
      : []),
    // agents-js adds its own processors here (PII filtering, LiveKit Cloud) after construction.
    fanout,
  ];
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors, sampler });
  let registerGlobally = options.registerGlobally ?? true;
  if (registerGlobally) {
    // The active context lives beside the session's identity in one async store.
    tracerProvider.register({ contextManager: new SharedContextManager() });
    // The API keeps the first provider registered; if another one was there already, ours
    // is not global and shutdown must not unregister the other one.
    registerGlobally = isGlobalTracerProvider(tracerProvider);
  }
  // agents-js gets the provider through a wrapper that leaves its spans out of the calls
  // the pool's trace policy did not choose; openrtc's own tracer uses the provider itself.
  agentsTelemetry.setTracerProvider(new CallSampledTracerProvider(tracerProvider), {
    registerSpanProcessor: (processor) => fanout.add(processor),
    ...(options.allowPii === undefined ? {} : { allowPii: options.allowPii }),
  });

  return { tracerProvider, otlpTracesUrl, registerGlobally };
}

interface StartedParts {
  meterProvider: MeterProvider;
  meter: Meter;
  tracerProvider: NodeTracerProvider;
  server: MetricsServer;
  otlpTracesUrl: string | undefined;
  registerGlobally: boolean;
}

/** The running telemetry: attaching pools, flushing, and one idempotent shutdown. */
function telemetryHandle(options: TelemetryOptions, parts: StartedParts): OpenRtcTelemetry {
  const { meterProvider, meter, tracerProvider, server, otlpTracesUrl, registerGlobally } = parts;
  const handles = new Set<PoolMetricsHandle>();
  let shuttingDown: Promise<void> | undefined;
  return {
    meterProvider,
    meter,
    tracerProvider,
    tracer: tracerProvider.getTracer(TRACER_NAME, OPENRTC_VERSION),
    metricsPort: server.port,
    metricsUrl: server.url,
    otlpTracesUrl,
    attach(pool, attachOptions = {}) {
      const handle = attachPoolMetrics(pool, {
        ...(options.tenantLabelLimit === undefined ? {} : { tenantLabelLimit: options.tenantLabelLimit }),
        ...(options.onDiagnostic === undefined ? {} : { onDiagnostic: options.onDiagnostic }),
        ...attachOptions,
        meter,
      });
      handles.add(handle);
      return {
        detach() {
          handles.delete(handle);
          handle.detach();
        },
      };
    },
    async forceFlush() {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown() {
      shuttingDown ??= (async () => {
        for (const handle of handles) handle.detach();
        handles.clear();
        await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), server.close()]);
        if (registerGlobally) unregisterGlobals();
      })();
      return shuttingDown;
    },
  };
}

/** The OTLP/HTTP traces URL from options or the standard OTEL_* variables, if any. */
export function resolveOtlpTracesUrl(
  option: OtlpTraceOptions | false | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (option === false) return undefined;
  if (option) return option.url;
  const perSignal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (perSignal) return perSignal;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // The generic endpoint is a base URL: the spec appends the signal path to it.
  if (base) return `${base.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

function isGlobalTracerProvider(provider: NodeTracerProvider): boolean {
  const global = trace.getTracerProvider();
  return global === provider || (global instanceof ProxyTracerProvider && global.getDelegate() === provider);
}

function unregisterGlobals(): void {
  trace.disable();
  context.disable();
  propagation.disable();
}
