import type { RefusalReason } from '../errors.js';

/** Running counters for one tenant, kept for the snapshot. */
export class TenantStats {
  readonly rejectionsByReason: Partial<Record<RefusalReason, number>> = {};
  started = 0;
  succeeded = 0;
  failed = 0;
  cancelled = 0;

  reject(reason: RefusalReason): void {
    this.rejectionsByReason[reason] = (this.rejectionsByReason[reason] ?? 0) + 1;
  }
}
