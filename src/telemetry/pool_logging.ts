import type { Logger } from 'pino';
import type { ObservedPool } from './observed_pool.js';
import { INVALID_TENANT_LABEL } from './tenant_labels.js';

/** The part of a pino logger pool logging needs. */
export type PoolLogSink = Pick<Logger, 'info' | 'warn'>;

/**
 * Logs what an operator acts on: breaker transitions (warn when one opens), refusals,
 * loader failures, expired reservations, each session's start and end (warn when it
 * failed) and draining. Most pool events are emitted outside any session context, so
 * every record names its tenant explicitly. Returns a function that stops logging.
 */
export function attachPoolLogging(pool: ObservedPool, logger: PoolLogSink): () => void {
  const unsubscribe = [
    pool.on('breakerTransition', (e) => {
      const fields = { event: 'breaker_transition', tenant: e.tenant, from: e.from, to: e.to, reason: e.reason };
      if (e.to === 'open') logger.warn(fields, `circuit breaker for tenant "${e.tenant}" opened (${e.reason})`);
      else logger.info(fields, `circuit breaker for tenant "${e.tenant}" is ${e.to} (${e.reason})`);
    }),
    pool.on('admission', (e) => {
      if (e.accepted) return;
      // An invalid tenant id is attacker-chosen text: log the marker, never the value as a tenant.
      logger.info(
        { event: 'admission_refused', tenant: e.tenant ?? INVALID_TENANT_LABEL, agent: e.agent, reason: e.reason, jobId: e.jobId },
        `call refused: ${e.reason ?? 'unknown'}: ${e.message ?? ''}`,
      );
    }),
    pool.on('configLoad', (e) => {
      if (e.result !== 'error' && e.result !== 'timeout') return;
      logger.warn(
        { event: 'tenant_config_failed', tenant: e.tenant, result: e.result, durationMs: e.durationMs },
        e.message ?? `tenant config for "${e.tenant}" failed (${e.result})`,
      );
    }),
    pool.on('reservationExpired', (e) => {
      logger.warn(
        { event: 'reservation_expired', tenant: e.tenant, agent: e.agent, jobId: e.jobId, waitedMs: e.waitedMs },
        `accepted call for tenant "${e.tenant}" got no assignment; its slot is free again`,
      );
    }),
    // One line when a call starts and one when it ends, for every call: the per-call record
    // an operator greps for, whichever calls the trace policy keeps agents-js's detail for.
    pool.on('sessionStarted', (e) => {
      logger.info(
        { event: 'session_started', tenant: e.tenant, agent: e.agent, jobId: e.jobId, sessionId: e.sessionId },
        `session started for tenant "${e.tenant}" (agent ${e.agent})`,
      );
    }),
    pool.on('sessionEnded', (e) => {
      const fields = { tenant: e.tenant, agent: e.agent, jobId: e.jobId, sessionId: e.sessionId, outcome: e.outcome, durationMs: e.durationMs, detail: e.detail };
      if (e.outcome === 'failed') logger.warn({ event: 'session_failed', ...fields }, `session for tenant "${e.tenant}" failed`);
      else logger.info({ event: 'session_ended', ...fields }, `session for tenant "${e.tenant}" ended: ${e.outcome}`);
    }),
    pool.on('diagnostic', (e) => {
      logger.warn({ event: 'pool_diagnostic', code: e.code }, e.message);
    }),
    pool.on('storeModeChange', (e) => {
      const fields = { event: 'store_mode_changed', store: e.store, from: e.from, to: e.to, policy: e.policy, detail: e.detail };
      if (e.to === 'shared') logger.info(fields, `${e.store} store is back on Redis`);
      else logger.warn(fields, `${e.store} store lost Redis and is now ${e.to} (policy ${e.policy}): ${e.detail}`);
    }),
    pool.on('draining', (e) => {
      logger.info({ event: 'draining', at: new Date(e.at).toISOString() }, 'worker is draining: no new calls');
    }),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
