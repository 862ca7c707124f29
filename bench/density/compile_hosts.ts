// Both hosts run as they would be deployed: compiled JavaScript, with no TypeScript loader
// in the measured processes (see ../tsc_build.ts).
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileWithTsc } from '../tsc_build.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Where tsc writes the hosts; the repository layout is kept under it (`bench/density`, `src`). */
const BUILD_DIR = join(here, '.build');
const BUILT_BENCH_DIR = join(BUILD_DIR, 'bench', 'density');

export interface HostEntryPoints {
  openrtc: string;
  'agents-js': string;
  /** Arguments for node before the entry point (tsx when running from source). */
  execArgv: string[];
}

export function sourceHosts(): HostEntryPoints {
  return { 'openrtc': join(here, 'openrtc_host.ts'), 'agents-js': join(here, 'agents_host.ts'), execArgv: ['--import', 'tsx'] };
}

/** Compiles both hosts (and the parts of src/ they use) with the project's own tsc settings. */
export function compileHosts(): HostEntryPoints {
  compileWithTsc(join(here, 'tsconfig.hosts.json'));
  // The plain-JavaScript parts (the job module and what it shares with the hosts) are used
  // as they are; tsc only reads their .d.mts declarations.
  for (const file of readdirSync(here).filter((name) => name.endsWith('.mjs'))) {
    copyFileSync(join(here, file), join(BUILT_BENCH_DIR, file));
  }
  return { 'openrtc': join(BUILT_BENCH_DIR, 'openrtc_host.js'), 'agents-js': join(BUILT_BENCH_DIR, 'agents_host.js'), execArgv: [] };
}
