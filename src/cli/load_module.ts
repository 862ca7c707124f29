import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OpenRtcError, errorMessage } from '../errors.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
let typescriptLoader: Promise<void> | undefined;

/**
 * Imports a user module by path. TypeScript modules need a loader on every Node we
 * support (Node 24 strips types but does not map `./x.js` imports to `./x.ts`), so the
 * first one registers tsx's ESM loader for the process, unless the CLI itself already
 * runs under a TypeScript loader. A module that throws while loading becomes a one-line
 * error with the original error kept as its cause.
 */
export async function importUserModule(file: string, what: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.has(path.extname(file))) await ensureTypeScriptLoader(what);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error: unknown) {
    throw new OpenRtcError('invalid_option', `${what}: loading the module failed: ${firstLine(errorMessage(error))}`, { cause: error });
  }
}

function ensureTypeScriptLoader(what: string): Promise<void> {
  // Running from source (tsx, vitest) means a loader is in place already.
  if (import.meta.url.endsWith('.ts')) return Promise.resolve();
  typescriptLoader ??= import('tsx/esm/api').then(
    (tsx) => {
      tsx.register();
    },
    (error: unknown) => {
      typescriptLoader = undefined;
      throw new OpenRtcError(
        'invalid_option',
        `${what} is TypeScript and no TypeScript loader is available (${firstLine(errorMessage(error))}): ` +
          'install it with `npm install --save-dev tsx`, or compile the module and start the .js file',
        { cause: error },
      );
    },
  );
  return typescriptLoader;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}
