/** The session caps a pool enforces: per tenant (with a default) and for the worker. */
export class TenantCaps {
  constructor(
    private readonly perTenant: Readonly<Record<string, number>>,
    private readonly defaultCap: number | undefined,
    readonly global: number | undefined,
  ) {}

  /** The cap that applies to a tenant, if any. */
  capFor(tenant: string): number | undefined {
    return Object.prototype.hasOwnProperty.call(this.perTenant, tenant) ? this.perTenant[tenant] : this.defaultCap;
  }

  /** Tenants with a cap of their own. */
  listedTenants(): string[] {
    return Object.keys(this.perTenant);
  }
}
