/**
 * Work bounded before it starts and clean errors, for the defects a fault campaign found: a grid
 * of 20,000 x 20,000 refused at once (not 4.8 GB and an out-of-memory death), a file over 1 MiB
 * refused unread, undefined aliases, alias bombs, non-finite numbers in `exclude`, a grid key
 * set again in a case with the nested spelling, invalid UTF-8: each exit 2 with file:line (or the
 * byte offset), never a stack trace; traces only with --debug or AIMC_DEBUG=1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { expandSweep } from '../src/sweep/expand.ts';
import { MAX_SWEEP_BYTES, parseSweepText, readSweepFile, SweepError } from '../src/sweep/spec.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
/** tsx by its file: the CLI runs in the temporary directory (file names in messages stay short) */
const TSX = import.meta.resolve('tsx');
const dir = mkdtempSync(join(tmpdir(), 'aimc-limits-'));
const BASE = 'base: { task: { in_size: 3, out_size: 2, n_samples: 5 }, epochs: 1 }';

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; stdoutFile?: string } = {}): Promise<Out> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const out = options.stdoutFile === undefined ? 'pipe' : openSync(options.stdoutFile, 'w');
    const p = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd: dir,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', out, 'pipe'],
      timeout: 120_000,
    });
    if (typeof out === 'number') closeSync(out);
    let stdout = '';
    let stderr = '';
    p.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** Writes `name` in the temporary directory; returns the name (the CLI runs there). */
function file(name: string, content: string | Uint8Array): string {
  writeFileSync(join(dir, name), content);
  return name;
}
const at = (name: string): string => join(dir, name);

const noTrace = (r: Out): void => assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace: ${r.stderr}`);

/** The fault campaign's kind of file: a grid of 20,000 x 20,000 (about 230 KB). */
const BIG = [
  'name: big',
  BASE,
  'grid:',
  `  seed: [${Array.from({ length: 20_000 }, (_, i) => i + 1).join(', ')}]`,
  `  device.n_states: [${Array.from({ length: 20_000 }, (_, i) => i + 2).join(', ')}]`,
  '',
].join('\n');

test(
  'a 20,000 x 20,000 grid is refused before expansion, naming the sizes that multiply and the line, in well ' +
    'under a second',
  async (t) => {
    const f = file('big.yaml', BIG);
    const t0 = performance.now();
    const spec = readSweepFile(at(f));
    const parsed = performance.now();
    assert.throws(
      () => expandSweep(spec),
      (e: unknown) =>
        e instanceof SweepError &&
        new RegExp(
          String.raw`/big\.yaml:4: the sweep expands to 400,000,000 combinations, ` +
            String.raw`more than the limit of 100,000 runs \(--max-runs\): ` +
            String.raw`grid\.seed \(line 4\) 20,000 values x grid\.device\.n_states \(line 5\) 20,000 values`,
        ).test(e.message),
    );
    const refused = performance.now();
    t.diagnostic(
      `${Buffer.byteLength(BIG)} bytes: parsed in ${(parsed - t0).toFixed(0)} ms, refused ` +
        `${(refused - parsed).toFixed(1)} ms later`,
    );
    assert.ok(refused - parsed < 100, `the count is instant (${(refused - parsed).toFixed(1)} ms)`);
    assert.ok(
      refused - t0 < 5000,
      `parse and refusal are quick (${(refused - t0).toFixed(0)} ms; well under a second on an idle machine)`,
    );

    const r = await cli(['expand', f]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^aimc-sweep: big\.yaml:4: the sweep expands to 400,000,000 combinations.*grid\.seed \(line 4\) 20,000 values x grid\.device\.n_states \(line 5\) 20,000 values; split the sweep/,
    );
    noTrace(r);
    t.diagnostic(`expand through the CLI (process start included): ${r.ms.toFixed(0)} ms`);
  },
);

test(
  '--max-runs: a sweep of exactly the limit expands, one more combination is refused; cases and ' + 'zip are counted',
  async () => {
    const sweep = (n: number) =>
      `name: m\n${BASE}\ngrid: { seed: [${Array.from({ length: n }, (_, i) => i).join(', ')}] }\ncases: [{ lr: ` +
      `0.1 }, { lr: [0.2, 0.3] }]\nzip: { epochs: [1, 2] }\n`;
    assert.equal(expandSweep(parseSweepText(sweep(5), 'm.yaml'), { maxRuns: 30 }).runs.length, 30);
    assert.throws(
      () => expandSweep(parseSweepText(sweep(6), 'm.yaml'), { maxRuns: 30 }),
      (e: unknown) =>
        e instanceof SweepError &&
        new RegExp(
          String.raw`m\.yaml:3: the sweep expands to 36 combinations, more than the limit of 30 runs .*` +
            String.raw`grid\.seed \(line 3\) 6 values x cases \(line 4\) 3 alternatives ` +
            String.raw`\(largest: cases\[1\] at line 4 with 2\) x zip \(line 5\) 2 positions`,
        ).test(e.message),
    );
    // a single case's own lists are counted before they are multiplied out
    assert.throws(
      () =>
        expandSweep(
          parseSweepText(`name: c\n${BASE}\ncases:\n  - { seed: [1, 2, 3], lr: [0.1, 0.2, 0.3] }\n`, 'c.yaml'),
          { maxRuns: 8 },
        ),
      /c\.yaml:3: the sweep expands to 9 combinations.*cases \(line 3\) 9 alternatives \(largest: cases\[0\] at line 4 with 9 = seed 3 x lr 3\)/,
    );
    const f = file('quick.yaml', sweep(5));
    const refused = await cli(['expand', f, '--max-runs', '29']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /quick\.yaml:3: the sweep expands to 30 combinations, more than the limit of 29 runs/);
    const bad = await cli(['expand', f, '--max-runs', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-runs: expected a positive integer, got 0/);
  },
);

test('exclude and reference checks against every combination are bounded too', () => {
  const excludes = Array.from({ length: 150 }, (_, i) => `  - { seed: ${1000 + i} }`).join('\n');
  assert.throws(
    () =>
      expandSweep(
        parseSweepText(
          `name: x\n${BASE}\ngrid: { seed: [${Array.from({ length: 100 }, (_, i) => i).join(', ')}] ` +
            `}\nexclude:\n${excludes}\n`,
          'x.yaml',
        ),
        { maxRuns: 100 },
      ),
    /x\.yaml:4: 150 exclude entries and 0 reference cells, each checked against 100 combinations, are more than 10,000 checks/,
  );
});

test('a run whose config is absurdly large is refused, not multiplied', () => {
  const hidden = `[${Array(20_000).fill(8).join(', ')}]`;
  assert.throws(
    () =>
      expandSweep(
        parseSweepText(
          `name: h\nbase: { task: { kind: mnist }, model: { hidden: ${hidden} }, epochs: 1 }\ngrid: { seed: ` +
            `[1, 2, 3] }\n`,
          'h.yaml',
        ),
      ),
    (e: unknown) =>
      e instanceof SweepError &&
      /^h\.yaml(:\d+)?: run seed=1: its canonical config has [\d,]+ bytes, more than 16,384/.test(e.message),
  );
});

test('a sweep file over 1 MiB is refused unread; so is a 50 MB one, at once', async () => {
  const over = file('over.yaml', `name: o\ndescription: ${'x'.repeat(MAX_SWEEP_BYTES)}\n`);
  assert.throws(
    () => readSweepFile(at(over)),
    /over\.yaml: 1,048,598 bytes, more than the 1,048,576 bytes \(1 MiB\) a sweep file may have/,
  );
  // the fault campaign's unclosed 50 MB flow list (sparse here: its size alone refuses it)
  const huge = file('huge.yaml', 'name: f\ngrid:\n  seed: [1, ');
  truncateSync(at(huge), 50 * 1024 * 1024);
  const t0 = performance.now();
  assert.throws(() => readSweepFile(at(huge)), /huge\.yaml: 52,428,800 bytes, more than the 1,048,576 bytes/);
  assert.ok(performance.now() - t0 < 100);
  assert.throws(
    () => parseSweepText(`name: t\ndescription: ${'é'.repeat(MAX_SWEEP_BYTES / 2)}\n`, 't.yaml'),
    /t\.yaml: 1,048,598 bytes, more than/,
  );
  const r = await cli(['expand', huge]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^aimc-sweep: huge\.yaml: 52,428,800 bytes, more than the 1,048,576 bytes \(1 MiB\) a sweep file may have \(a real sweep file is a few KB\)\n$/,
  );
});

test(
  "a mapping of 60,000 keys (700 KB) is parsed in linear time: duplicate keys are found without the parser's " +
    'quadratic check',
  () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `  k${i}: 1`).join('\n');
    const t0 = performance.now();
    assert.throws(
      () => expandSweep(parseSweepText(`name: k\nbase:\n${keys}\n`, 'k.yaml')),
      /^SweepError: k\.yaml:3: run base: k0: unknown field/,
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 10_000, `parsed in ${ms.toFixed(0)} ms (27 s with the parser's uniqueKeys)`);
    assert.throws(
      () => parseSweepText(`name: k\nbase:\n${keys}\n  k7: 2\n`, 'k.yaml'),
      /k\.yaml:60003: invalid YAML: Map keys must be unique: "k7" appears twice/,
    );
    assert.throws(
      () => parseSweepText('name: k\nbase: { 1: 2, "1": 3 }\n', 'k.yaml'),
      /k\.yaml:2: invalid YAML: Map keys must be unique: "1" appears twice/,
    );
  },
);

test('each sweep-file defect exits 2 with file:line (or the byte offset), never a trace', async () => {
  const bomb = ['name: bomb', BASE, 'grid:', '  seed: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]'];
  for (let i = 1; i < 9; i++)
    bomb.push(
      `  k${i}: &${'b'.repeat(i)} [${Array(10)
        .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
        .join(', ')}]`,
    );
  const utf8Prefix = `name: u\n${BASE}\ndescription: café, caf`;
  const cases: Array<[string, string | Uint8Array, RegExp]> = [
    [
      'alias.yaml',
      `name: a\n${BASE}\ngrid: { seed: *nope }\n`,
      /^aimc-sweep: alias\.yaml:3: \*nope: undefined YAML alias \(no anchor &nope before it\)\n$/,
    ],
    ['bomb.yaml', bomb.join('\n'), /^aimc-sweep: bomb\.yaml:\d+: \*\w+: aliases expand to too many copies/],
    [
      'nan.yaml',
      `name: n\n${BASE}\ngrid: { seed: [1, 2] }\nexclude:\n  - { lr: .nan }\n`,
      /^aimc-sweep: nan\.yaml:5: exclude\[0\]\.lr: expected a finite number, got NaN\n$/,
    ],
    [
      'inf.yaml',
      `name: n\n${BASE}\ngrid: { seed: [1, 2] }\nexclude:\n  - { seed: 1, lr: 1e400 }\n`,
      /^aimc-sweep: inf\.yaml:5: exclude\[0\]\.lr: expected a finite number, got Infinity\n$/,
    ],
    [
      'nested.yaml',
      `name: n\n${BASE}\ngrid:\n  device.n_states: [4, 16]\ncases:\n  - { algorithm: analog-sgd, device: { ` +
        `n_states: 8 } }\n`,
      /^aimc-sweep: nested\.yaml:6: cases\[0\]\.device\.n_states: device\.n_states is already swept in grid; give each key in one of grid, zip and cases\n$/,
    ],
    [
      'group.yaml',
      `name: g\n${BASE}\ngrid:\n  device.n_states: [4, 16]\ncases:\n  - { algorithm: analog-sgd, device: { ` +
        `kind: softbounds } }\n`,
      /^aimc-sweep: group\.yaml:6: cases\[0\]\.device: sets the whole group device, which would replace the values of grid\.device\.n_states/,
    ],
    [
      'utf8.yaml',
      Buffer.concat([Buffer.from(utf8Prefix), Buffer.from([0xc3, 0x28]), Buffer.from('\ngrid: { seed: [1] }\n')]),
      new RegExp(
        `^aimc-sweep: utf8\\.yaml:3: invalid UTF-8 at byte offset ${Buffer.byteLength(utf8Prefix)} \\(byte ` +
          `0xc3\\); a sweep file must be UTF-8 text\n$`,
      ),
    ],
    [
      'cycle.yaml',
      `name: c\n${BASE}\ngrid: { seed: &s [1, *s] }\n`,
      /^aimc-sweep: cycle\.yaml:3: grid\.seed\[1\]: an alias refers to a mapping or list that contains it\n$/,
    ],
    [
      'deep.yaml',
      `name: d\n${BASE}\ngrid: { seed: ${'['.repeat(100)}1${']'.repeat(100)} }\n`,
      /^aimc-sweep: deep\.yaml:3: mappings and lists nested more than 32 levels deep\n$/,
    ],
  ];
  for (let i = 0; i < cases.length; i += 2) {
    const batch = cases.slice(i, i + 2);
    const results = await Promise.all(batch.map(([name, content]) => cli(['expand', file(name, content)])));
    batch.forEach(([name, , re], k) => {
      const r = results[k];
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, re, name);
      noTrace(r);
    });
  }
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.db')),
    [],
    'no database created',
  );
});

test(
  'a failure that is no input error prints one line (exit 1); --debug and AIMC_DEBUG=1 print the ' + 'trace',
  async () => {
    // stdout on a full device: the environment fails, not the input
    const quick = new URL('../sweeps/quickstart.yaml', import.meta.url).pathname;
    const [plain, debug, env] = await Promise.all([
      cli(['expand', quick, '--json'], { stdoutFile: '/dev/full' }),
      cli(['expand', quick, '--json', '--debug'], { stdoutFile: '/dev/full' }),
      cli(['expand', quick, '--json'], { stdoutFile: '/dev/full', env: { AIMC_DEBUG: '1' } }),
    ]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(
      plain.stderr,
      /^aimc-sweep: ENOSPC: no space left on device, write \(run with --debug for the trace\)$/m,
    );
    noTrace(plain);
    for (const r of [debug, env]) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /aimc-sweep: Error: ENOSPC: no space left on device, write\n\s+at /);
    }
  },
);
