import { initializeLogger, llm, stt } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProviderScope, scopedForwarderCount } from '../../src/session/provider_scope.js';
import { ScriptedLLM } from '../../src/testing/scripted_llm.js';
import { ScriptedSTT } from '../../src/testing/scripted_stt.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const listenerTotal = (emitter: { eventNames(): (string | symbol)[]; listenerCount(event: string | symbol): number }) =>
  emitter.eventNames().reduce((n, event) => n + emitter.listenerCount(event), 0);

/** A non-streaming STT: agents-js wraps it in a StreamAdapter for every speech node. */
const nonStreamingStt = () => new stt.testing.FakeSTT({ capabilities: { streaming: false } });

describe('ProviderScope', () => {
  it('gives a view that is the provider for agents-js (instanceof, getters, methods) with its own listeners', () => {
    const shared = new ScriptedLLM({ provider: 'openai', model: 'gpt-4o' });
    const scope = new ProviderScope();
    const view = scope.view(shared);
    expect(view).toBeInstanceOf(llm.LLM);
    expect(view).toBeInstanceOf(ScriptedLLM);
    expect(view.provider).toBe('openai');
    expect(view.model).toBe('gpt-4o');
    expect(view.label()).toBe('openrtc.ScriptedLLM');
    expect(scope.view(shared)).toBe(view);
    view.on('metrics_collected', () => undefined);
    expect(shared.listenerCount('metrics_collected')).toBe(1); // the forwarder only
    expect(view.listenerCount('metrics_collected')).toBe(1);
    scope.close();
    expect(listenerTotal(shared)).toBe(0);
    expect(scopedForwarderCount(shared)).toBe(0);
  });

  it('hands an event only to the view of the session that emitted it', () => {
    const shared = new ScriptedLLM();
    const [a, b] = [new ProviderScope(), new ProviderScope()];
    const seen: string[] = [];
    a.view(shared).on('metrics_collected', () => seen.push('a'));
    b.view(shared).on('metrics_collected', () => seen.push('b'));
    a.run(() => shared.emit('metrics_collected', {} as never));
    b.run(() => shared.emit('metrics_collected', {} as never));
    shared.emit('metrics_collected', {} as never); // no session: nobody
    expect(seen).toEqual(['a', 'b']);
    a.close();
    b.run(() => shared.emit('metrics_collected', {} as never));
    expect(seen).toEqual(['a', 'b', 'b']);
    b.close();
    expect(listenerTotal(shared)).toBe(0);
  });

  it('leaves no StreamAdapter listeners on a shared non-streaming STT once sessions end', () => {
    const shared = nonStreamingStt();
    const vad = { } as never;
    // Without a scope, every session's StreamAdapter stays on the shared object for good.
    for (let i = 0; i < 3; i++) new stt.StreamAdapter(shared, vad);
    expect(listenerTotal(shared)).toBe(6);
    shared.removeAllListeners();

    for (let i = 0; i < 50; i++) {
      const scope = new ProviderScope();
      scope.run(() => new stt.StreamAdapter(scope.view(shared), vad));
      scope.close();
    }
    expect(listenerTotal(shared)).toBe(0);
  });

  it('drops an error of a session with no error listener instead of throwing into the provider', () => {
    const shared = new ScriptedSTT();
    const scope = new ProviderScope();
    scope.view(shared).on('metrics_collected', () => undefined);
    expect(() => scope.run(() => shared.emit('error', { error: new Error('x') } as never))).not.toThrow();
    scope.close();
  });
});
