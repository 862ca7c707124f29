#!/usr/bin/env node
import { processContext } from './context.js';
import { runCli } from './program.js';

const ctx = processContext();
runCli(process.argv.slice(2), ctx).then(
  (code) => ctx.exit(code),
  (error: unknown) => {
    // runCli reports every error itself; this is a last resort that still prints one line.
    ctx.stderr.write(`openrtc: ${error instanceof Error ? error.message : 'unexpected failure'}\n`);
    ctx.exit(1);
  },
);
