/**
 * Every Redis key openrtc writes, in one place; docs/fleet.md describes the same layout.
 * Tenant ids are `[A-Za-z0-9_-]`, so they never collide with the separators.
 */
export interface LeaseKeys {
  /** ZSET job id -> expiry (ms, Redis clock): every live lease of the fleet. */
  all: string;
  /** SET of tenants that may hold leases (pruned as their sets empty). */
  tenants: string;
  /** HASH job id -> tenant: the leases this worker holds. */
  worker: string;
  /** The part of a tenant lease set's key before the tenant id. */
  tenantPrefix: string;
  /** ZSET job id -> expiry: one tenant's live leases. */
  tenant(tenant: string): string;
}

export function leaseKeys(prefix: string, workerId: string): LeaseKeys {
  const tenantPrefix = `${prefix}leases:tenant:`;
  return {
    all: `${prefix}leases:all`,
    tenants: `${prefix}leases:tenants`,
    worker: `${prefix}leases:worker:${workerId}`,
    tenantPrefix,
    tenant: (tenant) => `${tenantPrefix}${tenant}`,
  };
}

export interface BreakerKeys {
  /** HASH { v: version, s: state JSON }: one tenant's breaker. */
  tenant(tenant: string): string;
  /** SET of tenants with a stored breaker. */
  tenants: string;
}

export function breakerKeys(prefix: string): BreakerKeys {
  return {
    tenant: (tenant) => `${prefix}breaker:tenant:${tenant}`,
    tenants: `${prefix}breaker:tenants`,
  };
}
