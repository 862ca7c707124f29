import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * Compiles src/ file by file to plain JavaScript (as `npm run build` would, without the
 * declarations), so a test can run the CLI the way an installed package runs: `node
 * dist/cli/main.js`, with no TypeScript loader in the process.
 */
export async function compileCli(outdir: string): Promise<string> {
  const files = (await readdir('src', { recursive: true })).filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts')).map((f) => path.join('src', f));
  await build({ entryPoints: files, outdir, format: 'esm', platform: 'node', target: 'node20', jsx: 'automatic', logLevel: 'silent' });
  return path.join(outdir, 'cli', 'main.js');
}
