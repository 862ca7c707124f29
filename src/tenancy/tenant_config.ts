import { secretScrubber } from '../util/secret_scrubber.js';
import { OpenRtcError, errorMessage, invalidOption } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { type TenantProviders, tenantProvidersProblem } from './providers.js';
import { tenantIdProblem } from './tenant_id.js';

/** Returns the tenant's providers, or null/undefined to use the defaults. */
export type TenantConfigLoader = (
  tenant: string,
) => TenantProviders | null | undefined | Promise<TenantProviders | null | undefined>;

export type TenantConfigSource = Readonly<Record<string, TenantProviders>> | TenantConfigLoader;

export type ConfigLoadResult = 'static' | 'cache_hit' | 'loaded' | 'error' | 'timeout';

export interface ConfigLoadEvent {
  tenant: string;
  result: ConfigLoadResult;
  /** Time spent waiting for the loader, 0 for static and cached answers. */
  durationMs: number;
  /** Set for `error` and `timeout`: a message that carries no provider objects. */
  message?: string;
}

export interface TenantConfigResolverOptions {
  source: TenantConfigSource | undefined;
  /** How long a loader's answer is reused; rotation of a tenant's keys shows within this. */
  ttlMs: number;
  /** A loader that has not settled by then refuses the call with `config_error`. */
  timeoutMs: number;
  clock: Clock;
  onLoad?: (event: ConfigLoadEvent) => void;
}

interface CacheEntry {
  value: TenantProviders | null;
  expiresAt: number;
}

/**
 * Answers "whose provider objects does this call use?". Loader answers are cached per
 * tenant, concurrent first calls share one load, a hung loader times out, and a failure
 * refuses only that call: it never falls back to a cached answer for another tenant.
 */
export class TenantConfigResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<TenantProviders | null>>();
  private readonly options: TenantConfigResolverOptions;
  /** When the cache is next swept of expired answers (at most once per TTL). */
  private nextSweepAt = -Infinity;
  /** Tenants the pool has retired whose answer is still cached: their keys go with the answer. */
  private readonly retiredButCached = new Set<string>();

  constructor(options: TenantConfigResolverOptions) {
    this.options = options;
  }

  /** Tenants named in a static map (for caps and snapshots). */
  staticTenants(): string[] {
    const source = this.options.source;
    return source && typeof source === 'object' ? Object.keys(source) : [];
  }

  /** Resolves a tenant's providers; rejects with an `OpenRtcError` coded `config_error`. */
  async resolve(tenant: string): Promise<TenantProviders | null> {
    const source = this.options.source;
    if (source === undefined) return null;
    if (typeof source === 'object') {
      this.emit({ tenant, result: 'static', durationMs: 0 });
      return Object.prototype.hasOwnProperty.call(source, tenant) ? (source[tenant] ?? null) : null;
    }

    const now = this.options.clock.now();
    // A call again: the pool holds the tenant anew, and it decides when to let go.
    this.retiredButCached.delete(tenant);
    this.sweepExpired(now);
    const cached = this.cache.get(tenant);
    if (cached && cached.expiresAt > now) {
      this.emit({ tenant, result: 'cache_hit', durationMs: 0 });
      return cached.value;
    }
    // An expired answer is never served again; a failing reload must not leave it behind.
    if (cached) this.cache.delete(tenant);
    const pending = this.inFlight.get(tenant);
    if (pending) return pending;

    const load = this.load(source, tenant).finally(() => this.inFlight.delete(tenant));
    this.inFlight.set(tenant, load);
    return load;
  }

  /** Tenants with a cached answer (expired ones not yet swept included). */
  get cachedTenants(): number {
    return this.cache.size;
  }

  /**
   * Drops expired answers when a sweep is due, without a call to resolve: the pool calls
   * it from its own retention sweeps, so a worker that stops getting calls lets go too.
   */
  evictExpired(): void {
    this.sweepExpired(this.options.clock.now());
  }

  /**
   * The pool has retired the tenant: no live or reserved call of it is left, so no live
   * session holds its provider objects. The keys its loader answers carried (every
   * generation since it was last released) stop being scrubbed once its answer has also
   * left the cache, since a cached answer may still be handed to a new call.
   */
  releaseTenant(tenant: string): void {
    // A load in flight is a call being admitted: it will give the tenant a record again,
    // and its retirement a later release; the keys it brings are added after this one.
    if (this.cache.has(tenant)) this.retiredButCached.add(tenant);
    else secretScrubber().releaseOwner(tenant);
  }

  /**
   * Drops every expired answer, at most once per TTL: so the cache holds at most the
   * tenants loaded within the last two TTLs, however many tenants have ever called, and a
   * sweep costs one pass over entries at most two TTLs old.
   */
  private sweepExpired(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.options.ttlMs;
    for (const [tenant, entry] of this.cache) {
      if (entry.expiresAt > now) continue;
      this.cache.delete(tenant);
      if (this.retiredButCached.delete(tenant)) secretScrubber().releaseOwner(tenant);
    }
  }

  private async load(loader: TenantConfigLoader, tenant: string): Promise<TenantProviders | null> {
    const { clock, timeoutMs, ttlMs } = this.options;
    const startedAt = clock.now();
    let timer: { cancel(): void } | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimer(() => {
        timedOut = true;
        reject(
          new OpenRtcError(
            'config_error',
            `tenantConfig loader for tenant "${tenant}" did not settle within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
    });

    try {
      const answer = await Promise.race([Promise.resolve().then(() => loader(tenant)), timeout]);
      const value = answer ?? null;
      // A loader result may carry keys (on provider objects or beside them): they must not
      // leave. They are the tenant's, kept (with earlier generations) until `releaseTenant`.
      secretScrubber().addSecretsFrom(answer, tenant);
      if (value !== null) {
        const problem = tenantProvidersProblem(value);
        if (problem) {
          throw new OpenRtcError('config_error', `tenantConfig loader result for tenant "${tenant}" ${problem}`);
        }
      }
      this.cache.set(tenant, { value, expiresAt: clock.now() + ttlMs });
      this.emit({ tenant, result: 'loaded', durationMs: clock.now() - startedAt });
      return value;
    } catch (error: unknown) {
      const wrapped =
        error instanceof OpenRtcError
          ? error
          : new OpenRtcError('config_error', `tenantConfig loader failed for tenant "${tenant}": ${errorMessage(error)}`, {
              cause: error,
            });
      this.emit({
        tenant,
        result: timedOut ? 'timeout' : 'error',
        durationMs: clock.now() - startedAt,
        message: wrapped.rawMessage,
      });
      throw wrapped;
    } finally {
      timer?.cancel();
    }
  }

  private emit(event: ConfigLoadEvent): void {
    try {
      this.options.onLoad?.(event);
    } catch {
      // Telemetry must never change an admission outcome.
    }
  }
}

/** The rule of the `tenantConfig` option: a map keyed by tenant id, or a loader. */
export function validateTenantConfigSource(source: unknown): void {
  if (source === undefined || typeof source === 'function') return;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw invalidOption('tenantConfig', 'must be a map of tenant id to providers, or a loader function', source);
  }
  for (const [tenant, providers] of Object.entries(source)) {
    const idProblem = tenantIdProblem(tenant);
    if (idProblem) throw new OpenRtcError('invalid_option', `\`tenantConfig["${tenant}"]\` key is not a tenant id: it ${idProblem}`);
    // The problem names the offending key and value itself; "got an object" would add nothing.
    const problem = tenantProvidersProblem(providers);
    if (problem) throw new OpenRtcError('invalid_option', `\`tenantConfig["${tenant}"]\` ${problem}`);
  }
}
