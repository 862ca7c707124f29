import { describe, expect, it } from 'vitest';
import { fleetStoresFrom } from '../../src/fleet/fleet_stores.js';
import { OpenRtcError } from '../../src/index.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('fleetStoresFrom', () => {
  it('keeps the in-memory stores when neither `redis` nor OPENRTC_REDIS_URL is set', () => {
    expect(fleetStoresFrom(undefined, {}, true)).toBeUndefined();
  });

  it('builds both stores on one client from OPENRTC_REDIS_URL, with the prefix and worker id from env', async () => {
    const keyPrefix = uniquePrefix('env');
    const fleet = fleetStoresFrom(undefined, { OPENRTC_REDIS_URL: SHARED_REDIS_URL, OPENRTC_REDIS_KEY_PREFIX: keyPrefix }, true)!;
    try {
      await fleet.reservations.start();
      await fleet.breaker!.start();
      expect(fleet.reservations.status()).toMatchObject({ backend: 'redis', mode: 'shared', policy: 'fail-closed' });
      expect(fleet.breaker!.status()).toMatchObject({ policy: 'fail-open' });
      expect(await fleet.reservations.tryReserve({ id: 'a', tenant: 'acme', tenantCap: 1, globalCap: undefined })).toEqual({ reserved: true });
      expect(await fleet.reservations.release('a')).toBe(true);
    } finally {
      await fleet.breaker?.close();
      await fleet.reservations.close();
    }
  });

  it('rejects a URL of another scheme without echoing it, and options naming both url and client', () => {
    const bad = (() => fleetStoresFrom('http://user:secret@host', {}, false)) as () => unknown;
    expect(bad).toThrow(OpenRtcError);
    expect(bad).not.toThrow(/secret/);
    expect(() => fleetStoresFrom({}, {}, false)).toThrow(/exactly one of `url` and `client`/);
  });
});
