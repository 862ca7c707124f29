// Prints every function (and file) in src/ over the line limit, longest first, with the reason its
// `// long because:` comment gives (or that it has none). The same rule is enforced by
// test/architecture/function_length.test.ts. Usage: npx tsx scripts/long_functions.ts [maxLines]
import { fileURLToPath } from 'node:url';
import { MAX_FILE_LINES, MAX_FUNCTION_LINES, longFiles, longFunctions } from '../test/architecture/function_lengths.js';

const maxLines = Number(process.argv[2] ?? MAX_FUNCTION_LINES);
const srcDir = fileURLToPath(new URL('../src', import.meta.url));
const found = longFunctions(srcDir, maxLines);
for (const f of found) {
  console.log(`${String(f.lines).padStart(4)}  src/${f.file}:${f.line}  ${f.name}  ${f.reason === undefined ? '(no reason given)' : `long because: ${f.reason}`}`);
}
console.log(`${found.length} functions over ${maxLines} lines, ${found.filter((f) => f.reason === undefined).length} without a reason`);
for (const f of longFiles(srcDir)) {
  console.log(`${String(f.lines).padStart(4)}  src/${f.file}  ${f.reason === undefined ? '(file over ' + MAX_FILE_LINES + ' lines, no reason given)' : `long because: ${f.reason}`}`);
}
