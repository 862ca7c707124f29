import { useApp, useInput } from 'ink';
import { type ReactElement, useEffect, useState } from 'react';
import type { InspectorState } from '../../inspect/protocol.js';
import { TopScreen } from './top_screen.js';
import { type TopFilter, buildTopView, nextFilterValue, nextSortKey } from './top_model.js';

export interface TopSource {
  /** Reads every worker's state; a rejection becomes the notice line, and the last data stays. */
  read(): Promise<{ states: InspectorState[]; notice?: string }>;
}

export interface TopAppProps {
  source: TopSource;
  initialFilter: TopFilter;
  intervalMs: number;
  columns: number;
}

/** The live `top`: polls the workers, and keys change the sort and filters or quit. */
export function TopApp({ source, initialFilter, intervalMs, columns }: TopAppProps): ReactElement {
  const { exit } = useApp();
  const [filter, setFilter] = useState<TopFilter>(initialFilter);
  const [states, setStates] = useState<InspectorState[]>([]);
  const [notice, setNotice] = useState<string | undefined>('reading workers…');

  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async () => {
      try {
        const read = await source.read();
        if (stopped) return;
        setStates(read.states);
        setNotice(read.notice);
      } catch (error: unknown) {
        if (!stopped) setNotice(`could not read the workers: ${error instanceof Error ? error.message : 'unknown error'}`);
      }
      if (!stopped) timer = setTimeout(() => void poll(), intervalMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [source, intervalMs]);

  useInput((input, key) => {
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    const all = states.flatMap((s) => s.sessions);
    if (input === 's') setFilter((f) => ({ ...f, sort: nextSortKey(f.sort) }));
    if (input === 't') setFilter((f) => ({ ...f, tenant: nextFilterValue(f.tenant, [...all.map((r) => r.tenant), ...states.flatMap((s) => Object.keys(s.snapshot.tenants))]) }));
    if (input === 'a') setFilter((f) => ({ ...f, agent: nextFilterValue(f.agent, [...all.map((r) => r.agent), ...states.flatMap((s) => s.snapshot.agents)]) }));
    if (input === 'c') setFilter((f) => ({ sort: f.sort }));
  });

  return <TopScreen view={buildTopView(states, filter)} columns={columns} notice={notice} keysHint />;
}
