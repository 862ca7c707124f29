import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { TopApp, type TopSource } from '../../src/cli/top/top_app.js';
import { type TopFilter, buildTopView } from '../../src/cli/top/top_model.js';
import { TopScreen } from '../../src/cli/top/top_screen.js';
import { TWO_WORKERS } from './top_fixtures.js';

const screen = (filter: TopFilter, columns = 100) => {
  const { lastFrame, unmount } = render(<TopScreen view={buildTopView(TWO_WORKERS, filter)} columns={columns} />);
  const frame = lastFrame() ?? '';
  unmount();
  return frame;
};

/** The session table's job ids, top to bottom. */
const jobs = (frame: string) => [...frame.matchAll(/AJ_\w+/g)].map((m) => m[0]);

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('openrtc top view', () => {
  it('shows every worker, every session and the per-tenant summary', () => {
    expect(screen({ sort: 'duration' })).toMatchInlineSnapshot(`
      "worker AW_101  pid 101  openrtc 0.1.0  deploy v42  up 1:02:03
        sessions 3/40  load 0.25  serving
      worker AW_102  pid 102  openrtc 0.1.0  deploy v42  up 1:02:03
        sessions 2/40  load 0.25  serving
      sort: duration   sessions shown: 5

      TENANT             AGENT        JOB                    TIME STATE      TURNS LAST MS
      acme-corp          support      AJ_a1                 02:05 listening      4     310
      acme-corp          support      AJ_a2                 01:01 thinking       2     480
      globex             support      AJ_g1                 00:42 speaking       1      95
      umbrella           concierge    AJ_u1                 00:07 starting       0       -
      globex             support      AJ_g2                 00:03 listening      0       -

      TENANT             ACTIVE/CAP BREAKER   REFUSED/1m
      acme-corp                2/50 closed             0
      globex                    2/2 half_open          1
      initech                  0/10 open               5
      umbrella                 1/10 closed             0"
    `);
  });

  it('--tenant shows only that tenant\'s sessions and summary row', () => {
    const frame = screen({ sort: 'duration', tenant: 'acme-corp' });
    expect(jobs(frame)).toEqual(['AJ_a1', 'AJ_a2']);
    expect(frame).toContain('filter: tenant=acme-corp   sessions shown: 2');
    expect(frame).toMatch(/acme-corp\s+2\/50 closed\s+0/);
    expect(frame).not.toContain('globex');
    expect(frame).not.toContain('initech');
  });

  it('--agent keeps that agent\'s sessions', () => {
    expect(jobs(screen({ sort: 'duration', agent: 'concierge' }))).toEqual(['AJ_u1']);
  });

  it.each([
    ['duration', ['AJ_a1', 'AJ_a2', 'AJ_g1', 'AJ_u1', 'AJ_g2']],
    ['turns', ['AJ_a1', 'AJ_a2', 'AJ_g1', 'AJ_g2', 'AJ_u1']],
    ['latency', ['AJ_a2', 'AJ_a1', 'AJ_g1', 'AJ_g2', 'AJ_u1']],
    ['tenant', ['AJ_a1', 'AJ_a2', 'AJ_g1', 'AJ_g2', 'AJ_u1']],
    ['state', ['AJ_a1', 'AJ_g2', 'AJ_g1', 'AJ_u1', 'AJ_a2']],
  ] as const)('--sort %s orders the rows', (sort, order) => {
    expect(jobs(screen({ sort }))).toEqual(order);
  });

  it('fits a narrow terminal by dropping the agent and job columns', () => {
    const frame = screen({ sort: 'duration' }, 50);
    expect(frame).toMatchInlineSnapshot(`
      "pid 101  sessions 3/40  load 0.25  serving
      pid 102  sessions 2/40  load 0.25  serving
      sort: duration   sessions shown: 5

      TENANT             TIME STATE      TURNS LAST MS
      acme-corp         02:05 listening      4     310
      acme-corp         01:01 thinking       2     480
      globex            00:42 speaking       1      95
      umbrella          00:07 starting       0       -
      globex            00:03 listening      0       -

      TENANT         ACTIVE/CAP BREAKER   REF/1m
      acme-corp            2/50 closed         0
      globex                2/2 half_open      1
      initech              0/10 open           5
      umbrella             1/10 closed         0"
    `);
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(50);
  });

  it('says so when no worker runs, and when a filter leaves no session', () => {
    const { lastFrame, unmount } = render(<TopScreen view={buildTopView([], { sort: 'duration' })} columns={80} />);
    expect(lastFrame()).toContain('openrtc top: no worker is running on this host');
    expect(lastFrame()).toContain('no live sessions');
    expect(lastFrame()).toContain('no tenants yet');
    unmount();
    expect(screen({ sort: 'duration', tenant: 'nobody' })).toContain('no live sessions');
  });

  it('keys sort, filter by tenant, clear, and quit', async () => {
    const source: TopSource = { read: () => Promise.resolve({ states: TWO_WORKERS }) };
    const app = render(<TopApp source={source} initialFilter={{ sort: 'duration' }} intervalMs={60_000} columns={100} />);
    await settle();
    expect(app.lastFrame()).toContain('sessions shown: 5');
    app.stdin.write('s');
    await settle();
    expect(app.lastFrame()).toContain('sort: tenant');
    app.stdin.write('t');
    await settle();
    expect(app.lastFrame()).toContain('filter: tenant=acme-corp   sessions shown: 2');
    app.stdin.write('t');
    await settle();
    expect(app.lastFrame()).toContain('filter: tenant=globex   sessions shown: 2');
    app.stdin.write('a');
    await settle();
    expect(app.lastFrame()).toContain('filter: tenant=globex agent=concierge   sessions shown: 0');
    app.stdin.write('c');
    await settle();
    expect(app.lastFrame()).toContain('sort: tenant   sessions shown: 5');
    app.stdin.write('q');
    await settle();
    // After quitting, Ink renders no more frames.
    const frames = app.frames.length;
    app.stdin.write('s');
    await settle();
    expect(app.frames.length).toBe(frames);
    app.unmount();
  });
});
