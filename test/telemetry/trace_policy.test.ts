import { describe, expect, it } from 'vitest';
import { resolveTracePolicy, recordsAgentSpans, shareOf, type TracedCall } from '../../src/telemetry/trace_policy.js';

const callOf = (jobId: string, tenant = 'acme'): TracedCall => ({ tenant, agent: 'support', jobId, roomName: `room-${jobId}` });
const jobs = Array.from({ length: 2_000 }, (_, i) => `AJ_${i.toString(36)}`);
const chosen = (share: number) => jobs.filter((id) => recordsAgentSpans(resolveTracePolicy({ agentSpanShare: share }), callOf(id), {}, {}));

describe('the trace policy', () => {
  it('defaults to one call in a hundred, no callback, and agents-js detail lines only for those calls', () => {
    expect(resolveTracePolicy(undefined)).toEqual({ agentSpanShare: 0.01, fullTrace: undefined, agentLogs: 'detailed' });
  });

  it('records agents-js spans for no call at share 0 and for every call at share 1', () => {
    expect(chosen(0)).toEqual([]);
    expect(chosen(1)).toEqual(jobs);
  });

  it('chooses about the share of calls in between, the same calls every time, more as the share grows', () => {
    const quarter = chosen(0.25);
    expect(quarter.length / jobs.length).toBeGreaterThan(0.22);
    expect(quarter.length / jobs.length).toBeLessThan(0.28);
    expect(chosen(0.25)).toEqual(quarter);
    const half = new Set(chosen(0.5));
    for (const id of quarter) expect(half.has(id)).toBe(true);
    for (const id of jobs) {
      expect(shareOf(id)).toBeGreaterThanOrEqual(0);
      expect(shareOf(id)).toBeLessThan(1);
    }
  });

  it('records every span of a call forced by metadata or by the callback, whatever the share', () => {
    const none = resolveTracePolicy({ agentSpanShare: 0, fullTrace: (call) => call.tenant === 'globex' });
    expect(recordsAgentSpans(none, callOf('a'), { trace: 'full' }, {})).toBe(true);
    expect(recordsAgentSpans(none, callOf('b'), {}, { trace: 'full' })).toBe(true);
    expect(recordsAgentSpans(none, callOf('c', 'globex'), {}, {})).toBe(true);
    expect(recordsAgentSpans(none, callOf('d'), { trace: 'FULL' }, { trace: true })).toBe(false);
    expect(recordsAgentSpans(none, callOf('e'), {}, {})).toBe(false);
  });

  it('falls back to the share when the callback throws', () => {
    const throwing = (share: number) => resolveTracePolicy({
      agentSpanShare: share,
      fullTrace: () => {
        throw new Error('bug');
      },
    });
    expect(recordsAgentSpans(throwing(0), callOf('a'), {}, {})).toBe(false);
    expect(recordsAgentSpans(throwing(1), callOf('a'), {}, {})).toBe(true);
  });
});
