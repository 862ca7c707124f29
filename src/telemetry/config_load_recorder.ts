// A tenant's config is loaded while its call is decided, before the admission that may
// earn it a label: loads of tenants without one wait for that admission (or the next
// collection) and then count under the label the tenant has by then.
import type { Counter, Histogram } from '@opentelemetry/api';
import type { ConfigLoadEvent } from '../tenancy/tenant_config.js';
import { OTHER_TENANT_LABEL, type TenantLabeler } from './tenant_labels.js';

export class ConfigLoadRecorder {
  private readonly pending = new Map<string, ConfigLoadEvent[]>();

  constructor(
    private readonly loads: Counter,
    private readonly loadDuration: Histogram,
    private readonly tenants: TenantLabeler,
  ) {}

  /** Counts a load now, or holds it until its tenant has a label of its own. */
  onLoad(e: ConfigLoadEvent): void {
    if (this.tenants.label(e.tenant) !== OTHER_TENANT_LABEL) this.record(e);
    else this.pending.set(e.tenant, [...(this.pending.get(e.tenant) ?? []), e]);
  }

  /** Counts every held load under the label its tenant has now. */
  flush(): void {
    for (const [id, loads] of [...this.pending]) {
      this.pending.delete(id);
      for (const e of loads) this.record(e);
    }
  }

  private record(e: ConfigLoadEvent): void {
    const tenant = this.tenants.label(e.tenant);
    this.loads.add(1, { tenant, result: e.result });
    // Static and cached answers take no time; counting their zeros would hide slow loaders.
    if (e.result === 'loaded' || e.result === 'error' || e.result === 'timeout') {
      this.loadDuration.record(e.durationMs / 1000, { tenant });
    }
  }
}
