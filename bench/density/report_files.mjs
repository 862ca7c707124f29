// What the orchestrator and the code inside the hosts share about report files. Kept free
// of agents-js imports so the orchestrator starts fast. Types: report_files.d.mts.
import { renameSync, writeFileSync } from 'node:fs';

/** Environment variables the orchestrator hands to every host (and so to every job process). */
export const ENV_STATS_DIR = 'OPENRTC_BENCH_DIR';
export const ENV_FRAME_MS = 'OPENRTC_BENCH_FRAME_MS';

/** Writes JSON so that a concurrent reader never sees half a file. */
export function writeJsonAtomic(path, value) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}
