// Lines under 120 characters in the code Prettier does not format (AssemblyScript in assembly/)
// and in what it formats but cannot break (comments, long strings): every source file in git.
// Prints file:line for each longer line and exits 1; `npm run lint` runs it. A line that is one
// regular expression literal alone may run over: a test's expected message stays one pattern,
// as readable as the line of output it matches.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const MAX = 120;
const SOURCE = /\.(ts|mjs|js|cjs)$/;
// generated code keeps the generator's layout
const GENERATED = /^src\/gen\//;
const REGEX_ALONE = /^\s*\/.*\/[dgimsuy]*[,)]?;?$/;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => SOURCE.test(f) && !GENERATED.test(f));
const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // listed by git but deleted in the work tree
  }
  text.split('\n').forEach((line, i) => {
    if (line.length > MAX && !REGEX_ALONE.test(line)) long.push(`${file}:${i + 1}: ${line.length} characters`);
  });
}
if (long.length > 0) {
  process.stderr.write(`${long.join('\n')}\n${long.length} lines over ${MAX} characters\n`);
  process.exit(1);
}
