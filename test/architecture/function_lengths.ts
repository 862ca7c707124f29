// Finds the functions in src/ longer than the house limit, kept apart from the test so that
// the test can also run it on made-up source and show that it fails, and so that
// `scripts/long_functions.ts` can print the same list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './dependency_rules.js';

/** Functions longer than this many lines need a reason. */
export const MAX_FUNCTION_LINES = 60;

/** The comment that gives the reason; it stands on a line of its own just above the function. */
export const REASON_MARKER = '// long because:';

export interface LongFunction {
  /** Path relative to src/. */
  file: string;
  name: string;
  /** First line, 1-based. */
  line: number;
  lines: number;
  /** The text after the marker, or undefined when there is none. */
  reason: string | undefined;
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) && node.name) {
    return node.name.getText(source);
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(source);
  }
  return '(anonymous)';
}

/** The statement or member the function is written in, whose leading comments may carry the reason. */
function commentHolder(node: ts.Node): ts.Node {
  let holder: ts.Node = node;
  while (
    ts.isVariableDeclaration(holder.parent) || ts.isVariableDeclarationList(holder.parent) || ts.isVariableStatement(holder.parent) ||
    ts.isPropertyAssignment(holder.parent) || ts.isPropertyDeclaration(holder.parent) || ts.isExportAssignment(holder.parent)
  ) {
    holder = holder.parent;
  }
  return holder;
}

function reasonFor(node: ts.Node, source: ts.SourceFile): string | undefined {
  const text = source.getFullText();
  const ranges = ts.getLeadingCommentRanges(text, commentHolder(node).getFullStart()) ?? [];
  for (const range of ranges) {
    const comment = text.slice(range.pos, range.end);
    if (comment.startsWith(REASON_MARKER)) return comment.slice(REASON_MARKER.length).trim();
  }
  return undefined;
}

/** Every function-like node of one file longer than `maxLines`, with its reason if it has one. */
export function longFunctionsIn(file: string, code: string, maxLines = MAX_FUNCTION_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > maxLines) found.push({ file, name: nameOf(node, source), line: first + 1, lines, reason: reasonFor(node, source) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Files longer than this many lines need a reason in their first comment. */
export const MAX_FILE_LINES = 350;

export interface LongFile {
  file: string;
  lines: number;
  reason: string | undefined;
}

/** Every file in src/ over `maxLines`, with the reason its opening comment gives, if any. */
export function longFiles(srcDir: string, maxLines = MAX_FILE_LINES): LongFile[] {
  return sourceFiles(srcDir).flatMap((file) => {
    const code = readFileSync(join(srcDir, file), 'utf8');
    const lines = code.split('\n').length - (code.endsWith('\n') ? 1 : 0);
    if (lines <= maxLines) return [];
    const marker = code.split('\n').slice(0, 10).find((line) => line.startsWith(REASON_MARKER));
    return [{ file, lines, reason: marker?.slice(REASON_MARKER.length).trim() }];
  });
}

/** Every long function in src/, longest first. */
export function longFunctions(srcDir: string, maxLines = MAX_FUNCTION_LINES): LongFunction[] {
  return sourceFiles(srcDir)
    .flatMap((file) => longFunctionsIn(file, readFileSync(join(srcDir, file), 'utf8'), maxLines))
    .sort((a, b) => b.lines - a.lines);
}
