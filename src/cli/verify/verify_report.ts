/** The checks of `openrtc tenant verify`, in the order the runbook's step 6 gives them. */
export const VERIFY_ITEMS = {
  accepted: 'call accepted and routed to the expected agent',
  inspector: 'session visible under the tenant in the inspector',
  providers: 'the tenant\'s own provider objects used',
  logs: 'logs carry the tenant and a trace id',
  snapshot: 'runtimeSnapshot().sessionsByTenant counts it',
  metrics: 'metrics show the tenant\'s series',
  usage: 'usage recorded under the tenant',
} as const;

export type VerifyItemId = keyof typeof VERIFY_ITEMS;
export type VerifyStatus = 'pass' | 'fail' | 'skipped';

export interface VerifyItem {
  id: VerifyItemId;
  title: string;
  status: VerifyStatus;
  detail: string;
}

export interface VerifyReport {
  tenant: string;
  /** `embedded`: the pool module hosted here against the stand-in server; `livekit`: a real server. */
  mode: 'embedded' | 'livekit';
  passed: boolean;
  /** The first failed item's reason, or null when every item passed. */
  reason: string | null;
  items: VerifyItem[];
}

/** Collects item results; items never reached are reported as skipped, with why. */
export class VerifyRecorder {
  private readonly results = new Map<VerifyItemId, VerifyItem>();

  pass(id: VerifyItemId, detail: string): void {
    this.results.set(id, { id, title: VERIFY_ITEMS[id], status: 'pass', detail });
  }

  fail(id: VerifyItemId, detail: string): void {
    this.results.set(id, { id, title: VERIFY_ITEMS[id], status: 'fail', detail });
  }

  check(id: VerifyItemId, ok: boolean, passDetail: string, failDetail: string): boolean {
    if (ok) this.pass(id, passDetail);
    else this.fail(id, failDetail);
    return ok;
  }

  report(tenant: string, mode: VerifyReport['mode'], skippedBecause: string): VerifyReport {
    const items = (Object.keys(VERIFY_ITEMS) as VerifyItemId[]).map(
      (id) => this.results.get(id) ?? { id, title: VERIFY_ITEMS[id], status: 'skipped' as const, detail: skippedBecause },
    );
    const failed = items.find((i) => i.status === 'fail');
    const skipped = items.some((i) => i.status === 'skipped');
    const passed = failed === undefined && !skipped;
    const reason = failed ? `${failed.title}: ${failed.detail}` : skipped ? `not every item could be checked: ${skippedBecause}` : null;
    return { tenant, mode, passed, reason, items };
  }
}

export function formatReport(report: VerifyReport): string {
  const lines = [`openrtc tenant verify ${report.tenant} (${report.mode === 'embedded' ? 'embedded stand-in server' : 'LiveKit server'})`];
  for (const item of report.items) {
    const mark = item.status === 'pass' ? 'PASS' : item.status === 'fail' ? 'FAIL' : 'SKIP';
    lines.push(`  ${mark}  ${item.title}: ${item.detail}`);
  }
  lines.push(report.passed ? `${report.tenant} is ready to go live` : `${report.tenant} is NOT ready: ${report.reason}`);
  return `${lines.join('\n')}\n`;
}
