import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { closed } from '../../src/admission/breaker_state.js';
import { type StoreAnswer, isStoreCall } from '../../src/fleet/ipc_protocol.js';
import { IpcBreakerStore, IpcReservationStore, type ParentChannel, StoreClient } from '../../src/fleet/ipc_stores.js';
import { StoreHost } from '../../src/fleet/store_host.js';

/**
 * The stores of `openrtc start --workers N` without the processes: each child's
 * StoreClient talks to one StoreHost through a channel that delivers asynchronously (a
 * later turn of the event loop, as IPC does), so requests of several children interleave.
 * The processes themselves are tested in test/cli/start_workers.test.ts.
 */
class Channel extends EventEmitter implements ParentChannel {
  connected = true;

  constructor(private readonly host: StoreHost, private readonly child: number) {
    super();
  }

  send(message: unknown): boolean {
    if (!isStoreCall(message)) return false;
    setImmediate(() => {
      void this.host.handle(this.child, message.request).then((value) => {
        const answer: StoreAnswer = { kind: 'openrtc-store-reply', seq: message.seq, ok: true, value };
        setImmediate(() => this.emit('message', answer));
      });
    });
    return true;
  }

  disconnect(): void {
    this.connected = false;
    this.emit('disconnect');
  }
}

function children(count: number) {
  const host = new StoreHost();
  const channels = Array.from({ length: count }, (_, i) => new Channel(host, i));
  const clients = channels.map((c) => new StoreClient(c));
  return {
    host, channels,
    reservations: clients.map((c) => new IpcReservationStore(c)),
    breakers: clients.map((c) => new IpcBreakerStore(c)),
  };
}

describe('the stores a primary serves to its children', () => {
  it('keeps a tenant cap exact across children in a burst, and frees what a dead child held', async () => {
    const { host, reservations } = children(2);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      reservations[i % 2]!.tryReserve({ id: `job-${i}`, tenant: 'acme', tenantCap: 3, globalCap: undefined })));
    expect(results.filter((r) => r.reserved)).toHaveLength(3);
    expect(await reservations[1]!.countsByTenant()).toEqual({ acme: 3 });
    const heldByFirst = host.heldBy(0);
    expect(await host.releaseHeldBy(0)).toBe(heldByFirst);
    expect(await reservations[1]!.total()).toBe(3 - heldByFirst);
    // A lease the dead child held cannot be released twice.
    expect(await reservations[0]!.release('job-0')).toBe(false);
  });

  it('loses no breaker update when children write the same tenant at once (compare-and-set, retried)', async () => {
    const { breakers } = children(2);
    // Each update moves the state on by one; a lost update would leave fewer than 40.
    await Promise.all(Array.from({ length: 40 }, (_, i) => breakers[i % 2]!.update('acme', (state) => ({
      next: closed([], state.episode + 1), result: undefined, transitions: [],
    }))));
    expect(await breakers[0]!.read('acme')).toMatchObject({ name: 'closed', episode: 40 });
    expect(await breakers[1]!.tenants()).toEqual(['acme']);
  });

  it('refuses with store_unavailable once the primary is gone, and says so in its status', async () => {
    const { channels, reservations } = children(1);
    channels[0]!.disconnect();
    await expect(reservations[0]!.tryReserve({ id: 'x', tenant: 'acme', tenantCap: 1, globalCap: undefined }))
      .rejects.toMatchObject({ code: 'store_unavailable' });
    expect(reservations[0]!.status()).toMatchObject({ backend: 'primary', mode: 'refusing', policy: 'fail-closed' });
  });
});
