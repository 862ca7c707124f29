import { render, renderToString } from 'ink';
import type { CliContext } from '../context.js';
import { TopApp, type TopSource } from './top_app.js';
import type { TopFilter, TopView } from './top_model.js';
import { TopScreen } from './top_screen.js';

/*
 * Everything of `top` that needs Ink and React, imported by the command only when it
 * runs: every other command (a worker above all) would otherwise carry them for nothing.
 */

/** One screen as text. */
export function renderScreen(view: TopView, columns: number, notice: string | undefined): string {
  return renderToString(<TopScreen view={view} columns={columns} notice={notice} />, { columns });
}

/** The live screen, until the user quits or the context's signal aborts. */
export async function renderLive(ctx: CliContext, source: TopSource, filter: TopFilter, intervalMs: number, columns: number): Promise<void> {
  const app = render(<TopApp source={source} initialFilter={filter} intervalMs={intervalMs} columns={columns} />, {
    stdout: ctx.stdout as NodeJS.WriteStream,
    stderr: ctx.stderr as NodeJS.WriteStream,
    stdin: ctx.stdin as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  ctx.signal?.addEventListener('abort', () => app.unmount(), { once: true });
  await app.waitUntilExit();
}
