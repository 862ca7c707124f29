import { scrubSecrets } from '../util/secret_scrubber.js';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type LevelWithSilent, type Logger, type StreamEntry, pino } from 'pino';
import { BatchedDestination, type BatchedDestinationOptions } from './batched_destination.js';
import { CENSORED_PATHS, censorRecord } from './log_censor.js';
import { getSessionContext } from './session_context.js';
import { OPENRTC_VERSION } from '../version.js';

/**
 * Secret-bearing keys censored in every record, in pino's path syntax. Provider options
 * and request headers are the usual way a key reaches a log line by accident. The logger
 * applies them with `censorRecord` (log_censor.ts), not pino's `redact`, which costs far more
 * per line once a path starts with a wildcard.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = CENSORED_PATHS;

export const REDACTED = '[redacted]';

export interface OtlpLogOptions {
  /** OTLP/HTTP logs URL, e.g. `http://collector:4318/v1/logs`. Default: the OTEL_* variables. */
  url?: string;
  /** `http` (JSON) or `http/protobuf`. Default: OTEL_EXPORTER_OTLP_(LOGS_)PROTOCOL, else http/protobuf. */
  protocol?: 'http' | 'http/protobuf';
  /**
   * How long records wait to be sent in one batch, in ms. Default 1000. (The transport's
   * "simple" processor is not offered: it drops records still in flight at shutdown.)
   */
  scheduledDelayMillis?: number;
}

export interface LoggerOptions {
  /** Minimum level. Default: env LOG_LEVEL or 'info'. */
  level?: LevelWithSilent;
  /** Where JSON lines go. Default stdout, in batches (see `batch`). */
  destination?: DestinationStream;
  /**
   * How lines reach the default destination (stdout): gathered and written together, at
   * most `maxDelayMs` (default 100) after the first of them, or once `maxPendingChars`
   * (default 16384) wait; `error` and `fatal` records, `logger.flush()`, `shutdownLogger`
   * and the process's exit write at once. `false` writes every line as it is logged.
   * Ignored when `destination` is given.
   */
  batch?: false | BatchedDestinationOptions;
  /**
   * Also export records over OTLP. Default: on when OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or
   * OTEL_EXPORTER_OTLP_ENDPOINT is set; `false` turns it off whatever the environment says.
   */
  otlp?: boolean | OtlpLogOptions;
  /** Further paths to censor, in pino's redact syntax. */
  redactPaths?: string[];
  /** `service.name` on exported logs. Default 'openrtc'. */
  serviceName?: string;
  /**
   * Fields every record carries, next to `pid` and `hostname`: `openrtc start --workers N`
   * sets `workerIndex` in each worker process, so the lines of several workers on one
   * host can be told apart (a pid changes when a worker is restarted; the index does not).
   */
  fields?: Record<string, string | number>;
  /** Environment to read OTEL_* variables from. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Fields the logger adds to records written inside a session or a span. */
export interface SessionLogFields {
  tenant?: string;
  agent?: string;
  jobId?: string;
  sessionId?: string;
  trace_id?: string;
  span_id?: string;
  /** W3C trace flags as a number; pino-opentelemetry-transport needs it to link a record to its span. */
  trace_flags?: number;
}

/**
 * What the current async context says about who a record belongs to. Read at every log
 * call, so a logger created once at start still labels each session's lines correctly.
 */
export function sessionLogFields(): SessionLogFields {
  const fields: SessionLogFields = {};
  const session = getSessionContext();
  if (session) {
    fields.tenant = session.tenant;
    fields.agent = session.agent;
    fields.jobId = session.jobId;
    fields.sessionId = session.sessionId;
  }
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
    fields.trace_flags = spanContext.traceFlags;
  }
  return fields;
}

// The transport stream of each logger that has one, so shutdownLogger can flush it.
type TransportStream = ReturnType<typeof pino.transport>;
const transports = new WeakMap<Logger, TransportStream>();
// The batched stdout of each logger that has one, for the same reason.
const batchedOutputs = new WeakMap<Logger, BatchedDestination>();

// Records at pino's `error` level and above are not held back.
const ERROR_LEVEL = pino.levels.values.error!;

/**
 * A pino logger whose records carry the session's tenant, agent, job and session ids and
 * the active trace and span ids, with secrets censored, optionally exported over OTLP.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? (env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  // Writing each line to stdout as it comes costs more than formatting it (batched_destination.ts).
  const batched = options.destination === undefined && options.batch !== false
    ? new BatchedDestination(process.stdout, options.batch === undefined ? {} : options.batch)
    : undefined;
  const streams: StreamEntry[] = [{ stream: options.destination ?? batched ?? process.stdout, level: 'trace' }];

  const otlp = resolveOtlpLogs(options.otlp, env);
  let transport: TransportStream | undefined;
  if (otlp) {
    transport = pino.transport({
      // Resolved here: the transport's worker thread cannot resolve it relative to this module.
      target: createRequire(import.meta.url).resolve('pino-opentelemetry-transport'),
      options: otlpTransportOptions(otlp, options.serviceName ?? 'openrtc'),
    });
    streams.push({ stream: transport, level: 'trace' });
  }

  const logger = pino(
    {
      level,
      // pino's own base fields, plus the caller's.
      base: { pid: process.pid, hostname: hostname(), ...options.fields },
      mixin: sessionLogFields,
      // The default secret keys, in the record and in child bindings (which pino serialises
      // once, when the child is made). Only paths the caller adds go through pino's redact.
      formatters: {
        log: (record) => censorRecord(record, REDACTED),
        bindings: (bindings) => censorRecord(bindings, REDACTED),
      },
      ...(options.redactPaths && options.redactPaths.length > 0
        ? { redact: { paths: options.redactPaths, censor: REDACTED } }
        : {}),
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      hooks: recordHooks(batched),
    },
    // multistream checks every stream's level on each record; with one stream (no OTLP
    // export) pino writes to it directly, which is measurably cheaper per line.
    streams.length === 1 ? streams[0]!.stream : pino.multistream(streams),
  );
  if (batched) batchedOutputs.set(logger, batched);
  if (transport) {
    // pino hands its level names to a transport only when the transport is its direct
    // stream; behind multistream it does not, and pino-opentelemetry-transport waits for
    // them before exporting anything. Send the same message pino would.
    transport.emit('message', { code: 'PINO_CONFIG', config: { levels: logger.levels, messageKey: 'msg', errorKey: 'err' } });
    transports.set(logger, transport);
  }
  return logger;
}

/** pino's hooks: every line scrubbed of secrets; with a batched stdout, errors written at once. */
function recordHooks(batched: BatchedDestination | undefined) {
  return {
    // The last step before a record leaves: whatever a message or an error carries.
    streamWrite: scrubSecrets,
    // An error is written at once, not with the next batch: it may be the last line of a
    // process about to be killed.
    ...(batched
      ? {
          logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info'], level: number) {
            method.apply(this, args);
            if (level >= ERROR_LEVEL) batched.flush();
          },
        }
      : {}),
  };
}

/**
 * Writes the lines a logger's batched stdout still holds, then flushes and closes its OTLP
 * transport, if it has one. The transport's worker exports what is left before it exits,
 * and pino blocks this thread meanwhile (up to 10 s): call it at shutdown, not on a hot
 * path. It never throws: a transport that cannot finish (its collector gone, say) is
 * reported through `onError` (by default one line on stderr) and closed anyway, since a
 * worker that is shutting down must still exit cleanly.
 */
export async function shutdownLogger(
  logger: Logger,
  onError: (error: Error) => void = (error) => process.stderr.write(`openrtc: the OTLP log transport did not finish its export: ${error.message}\n`),
): Promise<void> {
  batchedOutputs.get(logger)?.flush();
  const transport = transports.get(logger);
  if (!transport) return;
  transports.delete(logger);
  await new Promise<void>((resolve) => {
    // thread-stream reports a worker that outlives end() as an 'error' event; unhandled, it
    // would crash the process that is trying to exit.
    transport.once('error', (error: Error) => onError(error));
    transport.once('close', () => resolve());
    try {
      transport.end();
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
      resolve();
    }
  });
}

function resolveOtlpLogs(
  option: boolean | OtlpLogOptions | undefined,
  env: Readonly<Record<string, string | undefined>>,
): OtlpLogOptions | undefined {
  if (option === false) return undefined;
  if (typeof option === 'object') return option;
  // Resolved here rather than in the transport's worker thread, which sees only process.env.
  const perSignal = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = perSignal || (base ? `${base.replace(/\/+$/, '')}/v1/logs` : undefined);
  if (url !== undefined) return { url };
  return option === true ? {} : undefined;
}

function otlpTransportOptions(otlp: OtlpLogOptions, serviceName: string): Record<string, unknown> {
  const protocol = otlp.protocol;
  const exporterConfig = otlp.url === undefined ? {} : { url: otlp.url };
  const exporterOptions =
    protocol === 'http'
      ? { protocol, httpExporterOptions: exporterConfig }
      : protocol === 'http/protobuf'
        ? { protocol, protobufExporterOptions: exporterConfig }
        : // Let the transport pick the protocol from the environment; a URL still applies to either.
          { httpExporterOptions: exporterConfig, protobufExporterOptions: exporterConfig };
  return {
    loggerName: 'openrtc',
    serviceVersion: OPENRTC_VERSION,
    resourceAttributes: { 'service.name': serviceName },
    logRecordProcessorOptions: [{
      recordProcessorType: 'batch',
      exporterOptions,
      ...(otlp.scheduledDelayMillis === undefined ? {} : { processorConfig: { scheduledDelayMillis: otlp.scheduledDelayMillis } }),
    }],
  };
}
