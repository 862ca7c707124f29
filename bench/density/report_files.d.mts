// Types for report_files.mjs.
export declare const ENV_STATS_DIR: 'OPENRTC_BENCH_DIR';
export declare const ENV_FRAME_MS: 'OPENRTC_BENCH_FRAME_MS';
export declare function writeJsonAtomic(path: string, value: unknown): void;
