/**
 * The console examples of README.md and docs/*.md that are marked as checked stay true: each is
 * run and its output compared with the page, so a stale number, digest or message fails CI.
 *
 * The marker is an HTML comment on the line right before a console block (invisible on GitHub):
 *
 *     <!-- checked -->
 *     ```console
 *     $ npx aimc-sweep simulate --set epochs=3
 *     ...output as printed (stdout and stderr, in order)...
 *     ```
 *
 * - Lines starting with `$ ` are commands (a line ending in `\` continues on the next); the
 *   lines up to the next command are its output (blank lines at its end left out). `npx
 *   aimc-sweep` and `aimc-sweep` run this checkout's CLI: dist/ where it is newer than every
 *   source file (as after `npm ci`; twice as fast to start), else the sources through tsx;
 *   everything else is plain `sh` (`cat run.yaml`).
 * - The commands of a block run in order in one fresh scratch directory holding `sweeps/` (the
 *   repository's) and the files of test/fixtures/docs/ (plus `big.yaml`, made here: 2 x 20,000
 *   values are too long to commit), so a default `results.db` is the block's own.
 * - Compared after masking what may change between runs: durations (`20 ms`, `4.5 s`, `3 min`),
 *   CPU-hours, and the scratch and repository paths. An output line `...` stands for any number
 *   of lines; a line ending in `...` for any rest of that line.
 *
 * Mark only examples that are deterministic and fast (simulate, expand, refusals; not sweeps that
 * take minutes): the whole file should finish in well under 30 s on a loaded 2-core machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const MAIN = join(REPO, 'src/cli/main.ts');
const FIXTURES = join(REPO, 'test/fixtures/docs');
const TSX = import.meta.resolve('tsx');
const MARKER = '<!-- checked -->';

/** Newest modification time (ms) of the files under `dir` ending in `ext`; 0 when none. */
function newest(dir: string, ext: string, oldest = false): number {
  let t = oldest ? Infinity : 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(ext)) t = oldest ? Math.min(t, statSync(p).mtimeMs) : Math.max(t, statSync(p).mtimeMs);
    }
  };
  try {
    walk(dir);
  } catch {
    return oldest ? 0 : Infinity;
  }
  return t === Infinity ? 0 : t;
}

/** How the examples run the CLI: the build in dist/ when every source is older than all of it, else the sources. */
const CLI: { what: string; words: string[] } = (() => {
  const built = Math.min(newest(join(REPO, 'dist/src'), '.js', true), newest(join(REPO, 'dist/workers'), '.js', true));
  const sources = Math.max(newest(join(REPO, 'src'), '.ts'), newest(join(REPO, 'workers'), '.ts'));
  return built > 0 && sources < built
    ? { what: 'dist/ (newer than src/)', words: [process.execPath, join(REPO, 'dist/src/cli/main.js')] }
    : { what: 'src/ through tsx (dist/ is missing or older)', words: [process.execPath, '--import', TSX, MAIN] };
})();

interface Example {
  /** `README.md:87` */
  where: string;
  commands: Array<{ line: number; command: string; expected: string[] }>;
}

/** The checked console blocks of one markdown file (a marker not followed by a console block is an error). */
export function checkedExamples(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== MARKER) continue;
    const fence = lines[i + 1]?.match(/^(\s*)```console\s*$/);
    if (!fence) throw new Error(`${file}:${i + 1}: ${MARKER} must be followed by a \`\`\`console block`);
    const indent = fence[1].length;
    const example: Example = { where: `${file}:${i + 2}`, commands: [] };
    let j = i + 2;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) {
      const line = lines[j].slice(indent);
      if (line.startsWith('$ ')) {
        let command = line.slice(2);
        const at = j + 1;
        while (command.endsWith('\\') && j + 1 < lines.length)
          command = `${command.slice(0, -1)} ${lines[++j].slice(indent).trim()}`;
        example.commands.push({ line: at, command, expected: [] });
      } else {
        const current = example.commands[example.commands.length - 1];
        if (current === undefined) throw new Error(`${file}:${j + 1}: a checked console block starts with a $ command`);
        current.expected.push(line);
      }
    }
    if (j >= lines.length) throw new Error(`${file}:${i + 2}: the console block never ends`);
    // a blank line between two commands is for the reader
    for (const c of example.commands)
      while (c.expected.length > 0 && c.expected[c.expected.length - 1].trim() === '') c.expected.pop();
    if (example.commands.length === 0) throw new Error(`${file}:${i + 2}: a checked console block without a command`);
    out.push(example);
    i = j;
  }
  return out;
}

/** What may differ between two runs of a command: durations, CPU-hours, scratch and repository paths. */
export function mask(text: string, scratch: string): string {
  return text
    .split(scratch)
    .join('<scratch>')
    .split(REPO)
    .join('<repo>')
    .replace(/\b\d+(\.\d+)? ?(ms|s|min|h|d)\b( \d+(\.\d+)? ?(ms|s|min|h|d)\b)*/g, '<time>')
    .replace(/\b\d+(\.\d+)? CPU-hours/g, '<n> CPU-hours')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `actual` (masked) matches the expected lines (masked), with the `...` wildcards. */
export function matches(expected: string[], actual: string): boolean {
  const pattern = expected
    .map((l) =>
      l === '...' ? '(?:[^\\n]*\\n)*?' : l.endsWith('...') ? `${escape(l.slice(0, -3))}[^\\n]*\\n` : `${escape(l)}\\n`,
    )
    .join('');
  return new RegExp(`^${pattern}$`).test(actual.endsWith('\n') || actual === '' ? actual : `${actual}\n`);
}

/** The environment of the examples: no npm script or CI variables that change what the CLI prints. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|INIT_CWD$|AIMC_DEBUG$|NODE_OPTIONS$|NODE_TEST_CONTEXT$)/.test(k)) env[k] = v;
  return env;
}

function run(command: string, cwd: string): Promise<{ code: number | null; output: string }> {
  // `npx aimc-sweep` and `aimc-sweep` at the start of a command run this checkout from source
  const script = command.replace(/(^|[;&|]\s*)(?:npx )?aimc-sweep\b/g, '$1aimc_sweep');
  const define = `aimc_sweep() { ${CLI.words.map((w) => JSON.stringify(w)).join(' ')} "$@"; }`;
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `${define}\n${script} 2>&1`], {
      cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A scratch directory with `sweeps/` and the fixtures. */
function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aimc-docs-'));
  symlinkSync(join(REPO, 'sweeps'), join(dir, 'sweeps'));
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
  const values = (from: number): string => Array.from({ length: 20_000 }, (_, i) => i + from).join(', ');
  writeFileSync(
    join(dir, 'big.yaml'),
    `name: big\ndescription: a mistyped list (docs/sweeps.md, Limits)\ngrid:\n  seed: [${values(0)}]\n  ` +
      `device.n_states: [${values(2)}]\n`,
  );
  return dir;
}

const pages = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const examples = pages.flatMap((page) => checkedExamples(page, readFileSync(join(REPO, page), 'utf8')));

test('the marker, the blocks and the wildcards are read as documented', () => {
  const page = [
    'text',
    MARKER,
    '```console',
    '$ npx aimc-sweep expand a.yaml \\',
    '    --json',
    'a: 1 runs',
    '...',
    '```',
    '',
    '```console',
    '$ not checked',
    '```',
  ].join('\n');
  const [ex] = checkedExamples('p.md', page);
  assert.equal(ex.where, 'p.md:3');
  assert.deepEqual(ex.commands, [
    { line: 4, command: 'npx aimc-sweep expand a.yaml  --json', expected: ['a: 1 runs', '...'] },
  ]);
  assert.throws(
    () => checkedExamples('q.md', `${MARKER}\n\`\`\`sh\nls\n\`\`\`\n`),
    /q\.md:1: .* must be followed by a ```console block/,
  );
  assert.ok(matches(['a', '...', 'z'], 'a\nb\nc\nz\n'));
  assert.ok(matches(['a', '...', 'z'], 'a\nz\n'));
  assert.ok(!matches(['a', 'z'], 'a\nb\nz\n'));
  assert.ok(matches(['warning: slow...'], 'warning: slow arrays (2 of them)\n'));
  assert.equal(
    mask('weights digest b81f, 20 ms; 4.5 s; 3 min 2 s; 0.0017 CPU-hours', '/tmp/x'),
    'weights digest b81f, <time>; <time>; <time>; <n> CPU-hours',
  );
});

test(
  `docs: every checked console example prints what the page shows (${examples.length} examples)`,
  { concurrency: 2 },
  async (t) => {
    assert.ok(examples.length >= 5, `only ${examples.length} checked examples found: is the marker still read?`);
    const t0 = Date.now();
    await Promise.all(
      examples.map((ex) =>
        t.test(ex.where, async () => {
          const dir = scratchDir();
          try {
            for (const c of ex.commands) {
              const r = await run(c.command, dir);
              const actual = mask(r.output, dir);
              const expected = c.expected.map((l) => mask(l, dir));
              if (!matches(expected, actual)) {
                assert.fail(
                  `${ex.where.split(':')[0]}:${c.line}: $ ${c.command}\n--- the page ` +
                    `shows:\n${expected.join('\n')}\n--- it prints (exit ${r.code}):\n${actual}`,
                );
              }
            }
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
      ),
    );
    t.diagnostic(
      `${examples.length} checked examples (${examples.reduce((n, e) => n + e.commands.length, 0)} commands) ` +
        `in ${((Date.now() - t0) / 1000).toFixed(1)} s, the CLI from ${CLI.what}`,
    );
  },
);
