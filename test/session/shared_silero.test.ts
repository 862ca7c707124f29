import { initializeLogger } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProviderScope } from '../../src/session/provider_scope.js';
import { prepareSharedSilero } from '../../src/session/shared_silero.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** The VAD a stream reports to (agents-js keeps it in the stream's `vad` field). */
const vadOf = (stream: unknown) => (stream as { vad: unknown }).vad;

describe('a Silero VAD object shared by sessions', () => {
  it('gives each session a VAD of its own, following the shared object\'s options', async () => {
    const shared = (await silero.VAD.load({ minSilenceDuration: 400 })) as silero.VAD;
    expect(await prepareSharedSilero(shared)).toBeDefined();

    const a = new ProviderScope();
    const b = new ProviderScope();
    const streamA = a.run(() => a.view(shared).stream());
    const streamB = b.run(() => b.view(shared).stream());
    const [vadA, vadB] = [vadOf(streamA), vadOf(streamB)] as silero.VAD[];
    // Neither stream was made by (nor is kept in the list of) the shared object.
    expect(vadA).not.toBe(shared);
    expect(vadB).not.toBe(shared);
    expect(vadA).not.toBe(vadB);
    expect(vadA).toBeInstanceOf(silero.VAD);
    expect(vadA!.minSilenceDuration).toBe(400);
    // A second stream of the same session comes from the same VAD.
    expect(vadOf(a.run(() => a.view(shared).stream()))).toBe(vadA);

    // updateOptions on the shared object reaches live sessions' VADs and later ones.
    shared.updateOptions({ minSilenceDuration: 900 });
    expect(vadA!.minSilenceDuration).toBe(900);
    b.close();
    shared.updateOptions({ minSilenceDuration: 700 });
    expect(vadA!.minSilenceDuration).toBe(700);
    expect(vadB!.minSilenceDuration).toBe(900); // its session ended: no longer followed
    const c = new ProviderScope();
    expect((vadOf(c.run(() => c.view(shared).stream())) as silero.VAD).minSilenceDuration).toBe(700);
    a.close();
    c.close();
  });

  it('leaves anything that is not Silero alone', async () => {
    expect(await prepareSharedSilero({ label: 'other.VAD' })).toBeUndefined();
    expect(await prepareSharedSilero(undefined)).toBeUndefined();
  });
});
