import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_LINES, MAX_FUNCTION_LINES, REASON_MARKER, longFiles, longFunctions, longFunctionsIn } from './function_lengths.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** A function whose body has `bodyLines` statements, so it spans bodyLines + 2 lines. */
const functionOf = (header: string, bodyLines: number, footer = '}') =>
  [header, ...Array.from({ length: bodyLines }, (_, i) => `  step(${i});`), footer].join('\n');

describe('function length in src/', () => {
  it(`has no function over ${MAX_FUNCTION_LINES} lines without a "${REASON_MARKER}" comment just above it`, () => {
    const unexplained = longFunctions(SRC).filter((f) => f.reason === undefined || f.reason === '');
    expect(unexplained.map((f) => `src/${f.file}:${f.line} ${f.name} (${f.lines} lines)`)).toEqual([]);
  });

  it(`has no file over ${MAX_FILE_LINES} lines without a "${REASON_MARKER}" line among its first ten`, () => {
    const unexplained = longFiles(SRC).filter((f) => f.reason === undefined || f.reason === '');
    expect(unexplained.map((f) => `src/${f.file} (${f.lines} lines)`)).toEqual([]);
  });

  it('finds a long function in every form it can be written in, and takes a reason from the line above it', () => {
    const code = [
      functionOf('export function declared(): void {', 60),
      functionOf('const arrow = (): void => {', 60, '};'),
      functionOf('class A {\n  method(): void {', 60, '  }\n}'),
      `${REASON_MARKER} one table of rules, read top to bottom`,
      functionOf('export function explained(): void {', 60),
      functionOf('function short(): void {', 58),
    ].join('\n');
    const found = longFunctionsIn('made_up.ts', code);
    expect(found.map((f) => [f.name, f.lines, f.reason])).toEqual([
      ['declared', 62, undefined],
      ['arrow', 62, undefined],
      ['method', 62, undefined],
      ['explained', 62, 'one table of rules, read top to bottom'],
    ]);
  });
});
