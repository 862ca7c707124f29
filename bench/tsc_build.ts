// Compiles a benchmark's processes with the project's own tsc settings, so they run as
// plain JavaScript, as a deployment would: under `node --import tsx` every measured
// process would also carry tsx's module-hooks thread (its own V8 isolate), its caches and
// source maps, which cost memory and CPU a production worker does not spend.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** Runs tsc on `tsconfigPath` (which sets its own outDir); tsc's errors reach stderr. */
export function compileWithTsc(tsconfigPath: string): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', tsconfigPath], { stdio: 'inherit' });
}
