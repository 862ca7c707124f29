import { scrubSecrets } from '../util/secret_scrubber.js';
import { AsyncResource } from 'node:async_hooks';
import { type JobProcess, JobContext, type RunningJobInfo, runWithJobContextAsync, voice } from '@livekit/agents';
import { Job, Room as ProtoRoom } from '@livekit/protocol';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { AdmissionTicket, SessionOutcome } from '../admission/admission_ticket.js';
import { errorMessage } from '../errors.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { LatencyEvent, ProviderErrorEvent, UsageEvent } from '../telemetry/pool_events.js';
import { ATTR_AGENT, ATTR_JOB_ID, ATTR_OUTCOME, ATTR_TENANT, SPAN_SESSION, TRACER_NAME } from '../telemetry/attributes.js';
import type { JobAssignment } from './job_assignment.js';
import type { BuiltSession } from './session_builder.js';
import { runWithSessionContext, type SessionContext } from '../telemetry/session_context.js';
import type { CallConnection, RoomTransport } from './room_transport.js';
import { createRoomStub } from './room_stub.js';
import { latencyFromMetrics, providerErrorFromEvent, turnLatencyFromItem } from './turn_metrics.js';
import { usageFromMetrics } from './usage.js';
import { ProviderScope } from './provider_scope.js';
import { SessionActivity } from './session_activity.js';
import type { InProcessInferenceExecutor } from './inprocess_inference.js';

export interface SessionTimeouts {
  /** Joining the room, in ms. */
  connectMs: number;
  /** Building and starting the session (agents-js gives an entrypoint 15 s), in ms. */
  entryMs: number;
  /** One simulated text turn, in ms. */
  turnMs: number;
  /** Closing the session and running shutdown callbacks, in ms. */
  closeMs: number;
}

export const DEFAULT_SESSION_TIMEOUTS: Readonly<SessionTimeouts> = Object.freeze({
  connectMs: 10_000,
  entryMs: 15_000,
  turnMs: 60_000,
  closeMs: 10_000,
});

/** What the runner needs from the worker around it. */
export interface SessionRunnerDeps {
  buildSession(ticket: AdmissionTicket, scope: ProviderScope): Promise<BuiltSession>;
  sessionContext(ticket: AdmissionTicket): SessionContext;
  recordUsage(event: UsageEvent): void;
  recordLatency(event: LatencyEvent): void;
  recordProviderError(event: ProviderErrorEvent): void;
  transport: RoomTransport;
  proc: JobProcess;
  inferenceExecutor: InProcessInferenceExecutor;
  workerId(): string;
  /** Used when an assignment carries no url. */
  serverUrl: string;
  timeouts: SessionTimeouts;
  /** The pool's clock: ticket timestamps and every step's time limit run on it. */
  clock: Clock;
  /** Told the outcome as soon as it is known, before the room is left (the worker reports the job status). */
  reportOutcome?(jobId: string, end: SessionEnd): void;
}

export interface SessionEnd {
  outcome: SessionOutcome;
  detail: string;
}

/**
 * One call, hosted in this process: join the room, build the tenant's session, run it
 * until the caller leaves, the server terminates it, the session fails, or the worker
 * cancels it; then close everything within bounded time and report the outcome once.
 * Nothing here throws: a session's crash or hang becomes its own outcome and never
 * reaches another session.
 */
export class RunningSession {
  readonly jobId: string;
  readonly tenant: string;
  readonly agent: string;
  /** Resolves when the session has been torn down and its slot freed. */
  readonly done: Promise<SessionEnd>;
  /** State, turns and reply latency, read by the inspector. */
  readonly activity: SessionActivity;
  private settle!: (end: SessionEnd) => void;
  private readonly ended: Promise<SessionEnd>;
  private settled = false;
  /** This call's views of the provider objects it shares with other calls. */
  private readonly providers = new ProviderScope();
  /** The call's trace id, when tracing is on: cost rows carry it so a trace finds its costs. */
  private traceId: string | undefined;

  constructor(
    private readonly ticket: AdmissionTicket,
    private readonly assignment: JobAssignment,
    private readonly deps: SessionRunnerDeps,
  ) {
    this.jobId = ticket.jobId;
    this.tenant = ticket.tenant;
    this.agent = ticket.agentName;
    this.activity = new SessionActivity(() => deps.clock.now());
    this.ended = new Promise<SessionEnd>((resolve) => {
      this.settle = resolve;
    });
    this.done = this.run();
  }

  /** Ends the session as cancelled (termination, drain timeout). Idempotent. */
  cancel(detail: string): void {
    this.end('cancelled', detail);
  }

  private end(outcome: SessionOutcome, detail: string): void {
    if (this.settled) return;
    this.settled = true;
    this.settle({ outcome, detail });
  }

  private async run(): Promise<SessionEnd> {
    const { ticket, deps } = this;
    const startedAt = deps.clock.now();
    const span = trace.getTracer(TRACER_NAME).startSpan(
      SPAN_SESSION,
      { attributes: { [ATTR_TENANT]: ticket.tenant, [ATTR_AGENT]: ticket.agentName, [ATTR_JOB_ID]: ticket.jobId } },
      ticket.traceContext,
    );
    const spanContext = trace.setSpan(ticket.traceContext, span);
    const sessionContext = deps.sessionContext(ticket);
    // Runs `fn` as part of this call: under its session span, with its session context.
    const inCall = <T>(fn: () => T): T => context.with(spanContext, () => runWithSessionContext(sessionContext, fn));
    // Marked started inside the call's contexts, so that what sessionStarted's listeners
    // write (openrtc's session_started line) carries this call's ids and trace.
    try {
      inCall(() => ticket.markStarted(startedAt));
    } catch (error) {
      span.end();
      throw error;
    }
    if (trace.isSpanContextValid(span.spanContext())) this.traceId = span.spanContext().traceId;
    const resources: { connection?: CallConnection; jobContext?: JobContext; session?: voice.AgentSession } = {};

    await inCall(() => this.providers.run(() => this.start(resources)))
      .catch((error: unknown) => this.end('failed', `entry failed: ${describeError(error)}`));

    const result = await this.ended;
    // LiveKit fails a job whose agent leaves the room before the job reports its end, so
    // the end goes to the server first, then the room is left.
    try {
      deps.reportOutcome?.(ticket.jobId, result);
    } catch {
      // Reporting is best effort; the call's own outcome stands.
    }
    await inCall(async () => {
      // Closing the session still runs agents-js code (drain, on_exit, the last user turn)
      // that starts spans and writes logs: they belong to this call as much as its turns do.
      await this.providers.run(() => this.teardown(resources));
      // Whatever agents-js attached to this call's provider views goes with them.
      this.providers.close();
      // Freeing the slot records the outcome with the breaker and emits sessionEnded; doing
      // it here puts a breaker transition on this call's trace and gives the records it
      // causes (session_failed, breaker_transition) this session's ids.
      await ticket.finish(result.outcome, result.detail);
    });
    span.setAttribute(ATTR_OUTCOME, result.outcome);
    if (result.outcome === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: result.detail });
    span.end();
    return result;
  }

  private async start(resources: { connection?: CallConnection; jobContext?: JobContext; session?: voice.AgentSession }): Promise<void> {
    const { ticket, deps, assignment } = this;
    const url = assignment.url || deps.serverUrl;
    const connection = await withTimeout(
      deps.transport.connect({ url, token: assignment.token, roomName: ticket.roomName, jobId: ticket.jobId }),
      deps.timeouts.connectMs,
      'joining the room',
      deps.clock,
    );
    resources.connection = connection;
    if (this.settled) return;
    connection.onDisconnected((reason, lost) =>
      lost ? this.end('failed', `agent left the room: ${reason}`) : this.end('success', `caller left: ${reason}`));

    const simulated = connection.kind === 'simulated';
    const room = connection.room ?? createRoomStub(ticket.roomName);
    const info: RunningJobInfo = {
      acceptArguments: { identity: `agent-${ticket.jobId}`, name: ticket.agentName, metadata: '' },
      job: new Job({
        id: ticket.jobId,
        room: new ProtoRoom({ name: ticket.roomName, sid: assignment.job.roomSid, metadata: assignment.job.roomMetadata }),
        metadata: assignment.job.jobMetadata,
        agentName: assignment.job.agentName,
        dispatchId: assignment.job.dispatchId,
        attributes: assignment.job.attributes,
      }),
      url,
      token: assignment.token,
      workerId: deps.workerId(),
      // A simulated call has no SFU behind it: agents-js then skips connect and cloud uploads.
      fakeJob: simulated,
    };
    const jobContext = new JobContext(
      deps.proc,
      info,
      room,
      () => {},
      (reason) => this.end('cancelled', `job shut down: ${reason || 'no reason given'}`),
      deps.inferenceExecutor,
    );
    resources.jobContext = jobContext;

    await runWithJobContextAsync(jobContext, async () => {
      await withTimeout(
        (async () => {
          if (!simulated) await jobContext.connect();
          const { agent, session } = await deps.buildSession(ticket, this.providers);
          resources.session = session;
          this.watch(session);
          this.activity.attach(session, agent, ticket.tenantProviders);
          await session.start({ agent, room: simulated ? undefined : room });
        })(),
        deps.timeouts.entryMs,
        'starting the session',
        deps.clock,
      );
      if (simulated && !this.settled && resources.session) this.pumpTextTurns(connection, resources.session);
    });
  }

  /** Classifies what the session itself reports. */
  private watch(session: voice.AgentSession): void {
    const { ticket, deps } = this;
    const provider = (kind: 'llm' | 'stt' | 'tts') => providerOf(session, kind);
    // Latency and errors are read from this session's own events, never from provider
    // objects, which other sessions may share.
    session.on(voice.AgentSessionEventTypes.Error, (event) => {
      const providerError = providerErrorFromEvent(ticket.tenant, ticket.agentName, event, provider);
      if (providerError) deps.recordProviderError(providerError);
      if (!event.error.recoverable) this.end('failed', `unrecoverable ${event.error.type}: ${describeError(innerError(event.error))}`);
    });
    session.on(voice.AgentSessionEventTypes.Close, (event) => {
      if (String(event.reason) === String(voice.CloseReason.ERROR)) this.end('failed', `session closed with an error: ${describeError(event.error ? innerError(event.error) : undefined)}`);
      else this.end('success', `session closed: ${String(event.reason)}`);
    });
    session.on(voice.AgentSessionEventTypes.MetricsCollected, (event) => {
      const source = {
        tenant: ticket.tenant, agent: ticket.agentName, jobId: ticket.jobId, roomName: ticket.roomName,
        ...(this.traceId === undefined ? {} : { traceId: this.traceId }),
      };
      const usage = usageFromMetrics(source, event.metrics, provider, session.tts?.capabilities.streaming);
      if (usage) deps.recordUsage(usage);
      for (const latency of latencyFromMetrics(ticket.tenant, ticket.agentName, event.metrics, provider)) deps.recordLatency(latency);
    });
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (event) => {
      const latency = turnLatencyFromItem(ticket.tenant, ticket.agentName, event.item);
      if (latency) deps.recordLatency(latency);
    });
  }

  /** Simulated calls: each user text is one turn, answered in order. */
  private pumpTextTurns(connection: CallConnection, session: voice.AgentSession): void {
    let chain = Promise.resolve();
    // Socket callbacks run outside this session's async context; bind them to it so
    // agent code, spans and logs of every turn still know their tenant.
    const onText = AsyncResource.bind((text: string) => {
      chain = chain.then(() => this.runTurn(connection, session, text));
    });
    connection.onUserText(onText);
  }

  private async runTurn(connection: CallConnection, session: voice.AgentSession, text: string): Promise<void> {
    if (this.settled) return;
    try {
      const result = session.run({ userInput: text });
      const finished = await withTimeout(
        Promise.race([result.wait().then(() => true), this.ended.then(() => false)]),
        this.deps.timeouts.turnMs,
        'answering a turn',
        this.deps.clock,
      );
      if (!finished || this.settled) return;
      const reply = result.events
        .filter((event): event is voice.testing.ChatMessageEvent => event.type === 'message')
        .filter((event) => event.item.role === 'assistant')
        .map((event) => event.item.textContent ?? '')
        .join(' ')
        .trim();
      connection.sendAgentText(reply);
    } catch (error: unknown) {
      this.end('failed', `turn failed: ${describeError(error)}`);
    }
  }

  private async teardown(resources: { connection?: CallConnection; jobContext?: JobContext; session?: voice.AgentSession }): Promise<void> {
    const { closeMs } = this.deps.timeouts;
    const steps: [string, () => Promise<unknown>][] = [
      ['closing the session', async () => resources.session?.close()],
      ['leaving the room', async () => resources.connection?.disconnect()],
      ['running shutdown callbacks', async () =>
        Promise.allSettled((resources.jobContext?.shutdownCallbacks ?? []).map((callback) => callback()))],
    ];
    for (const [what, step] of steps) {
      await withTimeout(step(), closeMs, what, this.deps.clock).catch(() => undefined);
    }
  }
}

function providerOf(session: voice.AgentSession, kind: 'llm' | 'stt' | 'tts'): { provider: string; model: string } {
  const provider = session[kind] as { provider?: unknown; model?: unknown; label?: unknown } | undefined;
  return {
    provider: typeof provider?.provider === 'string' ? provider.provider : typeof provider?.label === 'string' ? provider.label : 'unknown',
    model: typeof provider?.model === 'string' ? provider.model : 'unknown',
  };
}

/** agents-js wraps provider errors in typed events; the message is on the inner error. */
function innerError(wrapper: object): unknown {
  return 'error' in wrapper ? wrapper.error : wrapper;
}

/** Error text becomes the session's detail, which leaves the process: scrubbed here. */
function describeError(error: unknown): string {
  return error === undefined || error === null ? 'no error given' : scrubSecrets(errorMessage(error));
}

/** Rejects after `ms` with a message naming the step; the work itself is left to settle. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string, clock: Clock): Promise<T> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimer(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => timer?.cancel());
}
