/**
 * Property-based fuzzing of sweep files (fast-check, fixed seed): generated documents mix the
 * sweep grammar with hostile values (huge lists, non-finite numbers, deep nesting, aliases and
 * alias bombs, wrong types, unknown keys, YAML tags, random bytes, truncation). Every input either
 * expands or fails with a SweepError naming the file (and the line or key where there is one):
 * never another exception, never a stack trace, never long. A sample goes through the CLI
 * (`expand`): exit 0 or 2, no trace, no database file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../src/sweep/canonical.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { decodeSweepBytes, parseSweepText, SweepError } from '../src/sweep/spec.ts';

const SEED = 20_250_611;
const FILE = 'fuzz.yaml';
/** a small limit keeps every expansion short (and exercises the refusal) */
const MAX_RUNS = 2000;

// ---- YAML fragments --------------------------------------------------------------------------

const plainKey = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const key = (k: string): string => (plainKey.test(k) ? k : JSON.stringify(k));

/** Keys of the run config with values that are valid for the base below (mostly). */
const VALID: Record<string, fc.Arbitrary<string>> = {
  seed: fc.integer({ min: 0, max: 9 }).map(String),
  lr: fc.constantFrom('0.1', '0.01', '0.5', '1e-3'),
  epochs: fc.constantFrom('1', '2'),
  batch_size: fc.constantFrom('1', '2', '5'),
  algorithm: fc.constantFrom('sgd', 'analog-sgd', 'tiki-taka', 'mp'),
  'device.n_states': fc.constantFrom('2', '4', '16'),
  'device.kind': fc.constantFrom('softbounds', 'constant-step'),
  'task.n_samples': fc.constantFrom('5', '8'),
  n_tiles: fc.constantFrom('2', '3'),
  gamma: fc.constantFrom('0.1', '0.5'),
  'device.piecewise_up': fc.constantFrom('[1, 2]', '[[1, 2], [0.5]]'),
};
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'device',
  'task',
  'device.colour',
  '',
  'a.b.c.d.e.f',
  'device..n_states',
  '.lr',
  'x'.repeat(300),
  'ünï',
  'seed.x',
];
const anyKey = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...Object.keys(VALID)) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

/** Values no run config takes, or that YAML makes into something odd. */
const hostileScalar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '.nan',
    '.NaN',
    '.inf',
    '-.inf',
    '1e400',
    '-1e400',
    '0x1F',
    '0o17',
    '-0',
    '123456789012345678901234567890',
    '-2',
    '0',
  ),
  fc.double().map((x) => (Number.isNaN(x) ? '.nan' : x === Infinity ? '.inf' : x === -Infinity ? '-.inf' : String(x))),
  fc.constantFrom('true', 'false', 'null', '~', '""', "''", 'mnist', 'residual', 'ttv2'),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('!!binary aGVsbG8=', '!!set {a, b}', '!!omap [{a: 1}]', '!foo bar', '!!str 3', '!!int "x"', '*nope'),
);
const valueOf = (k: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: Object.hasOwn(VALID, k) ? VALID[k] : hostileScalar },
    { weight: 1, arbitrary: hostileScalar },
  );

/** a list of n numbers, written out (huge lists: 1,000 to 30,000 items) */
const hugeList = fc
  .integer({ min: 1000, max: 30_000 })
  .map((n) => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`);
/** nesting beyond any real config */
const deepList = fc.integer({ min: 10, max: 3000 }).map((d) => `${'['.repeat(d)}1${']'.repeat(d)}`);

/** Any YAML value (flow style), of any shape. */
const { value } = fc.letrec<{ value: string; list: string; map: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: hostileScalar },
    { weight: 2, arbitrary: tie('list') },
    { weight: 1, arbitrary: tie('map') },
  ),
  list: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
  map: fc
    .array(fc.tuple(anyKey, tie('value')), { maxLength: 3 })
    .map((kv) => `{${kv.map(([k, v]) => `${key(k)}: ${v}`).join(', ')}}`),
}));

/** The values of a swept key: mostly a short list of fitting values, sometimes anything. */
const sweptValues = (k: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 16, arbitrary: fc.array(valueOf(k), { minLength: 1, maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`) },
    { weight: 1, arbitrary: value },
    { weight: 1, arbitrary: hugeList },
    { weight: 1, arbitrary: deepList },
    { weight: 1, arbitrary: fc.constantFrom('[]', '[[4, 2], [8]]', '[[]]', '5', '{ a: 1 }') },
  );

/** `{ k: v, ... }` with distinct keys (mostly), each value made for its key. */
const entries = (max: number, min: number, of: (k: string) => fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .uniqueArray(anyKey, { minLength: min, maxLength: max })
    .chain((keys) => fc.tuple(...keys.map((k) => of(k).map((v) => `${key(k)}: ${v}`))))
    .map((kv) => `{ ${kv.join(', ')} }`);

const BASE = '{ task: { in_size: 3, out_size: 2, n_samples: 8 }, epochs: 1 }';
const sometimes = (a: fc.Arbitrary<string>, weight = 1): fc.Arbitrary<string> =>
  fc.oneof({ weight: 8, arbitrary: a }, { weight, arbitrary: value });
const optional = (a: fc.Arbitrary<string>): fc.Arbitrary<string | null> => fc.oneof(fc.constant(null), a);

/** A sweep: each section present or not, mostly of the right shape, with hostile values here and there. */
const sweepDoc: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      { weight: 24, arbitrary: fc.constantFrom('f', 'fuzz-1', 'a.b_c') },
      { weight: 1, arbitrary: hostileScalar },
      { weight: 1, arbitrary: fc.constant('x'.repeat(300)) },
    ),
    optional(
      fc.oneof({ weight: 8, arbitrary: fc.constant('"what it shows"') }, { weight: 1, arbitrary: hostileScalar }),
    ),
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(BASE) },
      { weight: 1, arbitrary: value },
      { weight: 1, arbitrary: fc.constant('{ epochs: 1, device: { kind: softbounds, n_states: 4 } }') },
    ),
    optional(sometimes(entries(3, 1, sweptValues))),
    optional(
      sometimes(
        fc
          .array(
            entries(2, 1, (k) => fc.oneof(valueOf(k), sweptValues(k))),
            { minLength: 1, maxLength: 3 },
          )
          .map((cs) => `[${cs.join(', ')}]`),
      ),
    ),
    optional(
      sometimes(
        fc
          .integer({ min: 1, max: 3 })
          .chain((n) =>
            entries(2, 1, (k) =>
              fc
                .array(valueOf(k), { minLength: n, maxLength: n + (n === 3 ? 1 : 0) })
                .map((xs) => `[${xs.join(', ')}]`),
            ),
          ),
      ),
    ),
    optional(
      sometimes(fc.array(entries(2, 1, valueOf), { minLength: 1, maxLength: 2 }).map((xs) => `[${xs.join(', ')}]`)),
    ),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            anyKey,
            fc.constantFrom('test_accuracy', 'train_loss', 'nope'),
            fc.constantFrom('50', '0.1', '.nan', '200'),
          )
          .chain(([k, m, mean]) =>
            valueOf(k).map((v) => `[{ where: { ${key(k)}: ${v} }, metric: ${m}, mean: ${mean}, source: "p" }]`),
          ),
      },
      { weight: 1, arbitrary: value },
    ),
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(anyKey, value).map(([k, v]) => `${key(k)}: ${v}`) },
    ),
  )
  .map(([name, description, base, grid, cases, zip, exclude, reference, extra]) =>
    [
      `name: ${name}`,
      description === null ? '' : `description: ${description}`,
      `base: ${base}`,
      grid === null ? '' : `grid: ${grid}`,
      cases === null ? '' : `cases: ${cases}`,
      zip === null ? '' : `zip: ${zip}`,
      exclude === null ? '' : `exclude: ${exclude}`,
      reference === null ? '' : `reference: ${reference}`,
      extra ?? '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );

/** Anchors and aliases: good ones, undefined ones, cyclic ones, merge keys. */
const aliasDoc = fc.constantFrom(
  `name: al\nbase: ${BASE}\ngrid: { seed: &s [1, 2] }\ncases: [{ lr: *s }]`,
  `name: al\nbase: &b ${BASE}\ngrid: { seed: [1] }\ncases: [*b]`,
  `name: al\nbase: ${BASE}\ngrid: { seed: &s [1, 2], device.n_states: *s }`,
  `name: al\nbase: ${BASE}\ngrid: { seed: *s }`,
  `name: al\nbase: ${BASE}\ngrid: { seed: &s [1, *s] }`,
  `name: al\nbase: &b { epochs: 1, task: *b }`,
  `name: al\nbase: &b ${BASE}\ncases: [{ <<: *b, seed: 1 }]`,
  `name: &n al\nbase: ${BASE}\ndescription: *n\ngrid: { seed: [1] }`,
  `name: al\nbase: ${BASE}\ngrid: { *k : [1] }`,
);

/** Exponential aliases: each level a list of `width` aliases of the one before. */
const aliasBomb = fc.tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 10 })).map(([levels, width]) => {
  const lines = ['name: bomb', `base: { epochs: 1 }`, 'grid:', `  seed: &l0 [${Array(width).fill(1).join(', ')}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `  k${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return lines.join('\n');
});

/** Whole documents that are not sweeps at all. */
const notASweep = fc.oneof(
  fc.constantFrom(
    '',
    '---',
    '- 1\n- 2',
    '"text"',
    '{{{ not yaml',
    'a: 1\n---\nb: 2',
    'name: x\n\tgrid: 1',
    'name: x\nname: y',
  ),
  value,
);

const text = fc.oneof(
  { weight: 12, arbitrary: sweepDoc },
  { weight: 1, arbitrary: aliasDoc },
  { weight: 1, arbitrary: aliasBomb },
  { weight: 1, arbitrary: notASweep },
);

/** Hostile bytes: random bytes spliced in, or the text cut short. */
const input: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    text,
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.uint8Array({ minLength: 1, maxLength: 8 })),
      },
      { weight: 1, arbitrary: fc.double({ min: 0.05, max: 0.999, noNaN: true }) },
    ),
  )
  .map(([t, mutation]) => {
    const bytes = Buffer.from(t, 'utf8');
    if (mutation === null) return new Uint8Array(bytes);
    if (typeof mutation === 'number') return new Uint8Array(bytes.subarray(0, Math.floor(bytes.length * mutation)));
    const at = Math.floor(bytes.length * mutation[0]);
    return new Uint8Array(Buffer.concat([bytes.subarray(0, at), mutation[1], bytes.subarray(at)]));
  });

// ---- the property ----------------------------------------------------------------------------

/** Messages that are about the whole file, not one line or key. */
const WHOLE_FILE = [
  /^invalid YAML/,
  /^a sweep must be a YAML mapping/,
  /^the sweep expands to no runs/,
  /^[\d,]+ bytes/,
  /^the runs' canonical configs add up/,
  /^the document holds more than/,
  /^run \S/,
];

function check(bytes: Uint8Array): { ms: number; runs: number } {
  const t0 = performance.now();
  let runs = 0;
  try {
    const spec = parseSweepText(decodeSweepBytes(bytes, FILE), FILE);
    const expansion = expandSweep(spec, { maxRuns: MAX_RUNS });
    runs = expansion.runs.length;
    assert.ok(runs >= 1 && runs <= MAX_RUNS);
    for (const r of expansion.runs) {
      assert.match(r.hash, /^[0-9a-f]{64}$/);
      assert.equal(canonicalJson(r.config), r.configJson);
      canonicalJson(r.assignments); // what the store writes: finite, acyclic
    }
  } catch (e) {
    if (!(e instanceof SweepError))
      throw new Error(`not a SweepError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    const m = /^fuzz\.yaml(:\d+)?: (.+)$/s.exec(e.message);
    assert.ok(m, `names the file first: ${e.message.slice(0, 300)}`);
    assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace');
    assert.ok(e.message.length < 2000, `a bounded message (${e.message.length} characters)`);
    const [, line, rest] = m;
    if (line === undefined) {
      // no line: a key path or a whole-file problem
      assert.ok(
        /^[\w.[\]*&-]+[:(]/.test(rest) || WHOLE_FILE.some((re) => re.test(rest)),
        `names a key or the whole file: ${e.message.slice(0, 300)}`,
      );
    }
  }
  return { ms: performance.now() - t0, runs };
}

test('fuzz: every generated sweep file expands or fails with a SweepError naming the file, quickly', () => {
  let slowest = 0;
  let expanded = 0;
  let refused = 0;
  fc.assert(
    fc.property(input, (bytes) => {
      const r = check(bytes);
      slowest = Math.max(slowest, r.ms);
      if (r.runs > 0) expanded++;
      else refused++;
    }),
    { seed: SEED, numRuns: 400, endOnFailure: true },
  );
  assert.ok(expanded >= 20, `enough generated sweeps are valid (${expanded} of ${expanded + refused})`);
  assert.ok(refused >= 100, `enough are refused (${refused})`);
  // generous (a loaded 2-core CI machine); the bound comes from the limits, not from this assertion
  assert.ok(slowest < 10_000, `no case takes long (slowest ${slowest.toFixed(0)} ms)`);
});

test('fuzz: the hand-made hostile cases hold the property too', () => {
  const cases = [
    `name: a\nbase: { epochs: *nope }\n`,
    `name: a\ngrid: { seed: &x [1, *x] }\n`,
    `name: a\nbase: &x { device: *x }\n`,
    `name: a\ngrid: { seed: [1] }\nexclude: [{ lr: .nan }]\n`,
    `name: a\ngrid: { seed: [1] }\nexclude: [{ lr: 1e400 }]\n`,
    `name: a\ngrid: { device.n_states: [4, 16] }\ncases: [{ device: { n_states: 8 } }]\n`,
    `name: a\ngrid: { seed: !!set {a, b} }\n`,
    `name: a\n? [1, 2]\n: 3\n`,
    `name: a\ngrid: { constructor: [1, 2] }\n`,
    `name: a\nbase: { __proto__: { lr: 5 } }\n`,
    `name: a\ncases: [{ seed: [] }]\n`,
    `name: a\ngrid: { ${'a.'.repeat(100)}b: [1] }\n`,
    `name: a\ngrid: { seed: ${'['.repeat(5000)}1${']'.repeat(5000)} }\n`,
  ];
  for (const c of cases) {
    const r = check(new TextEncoder().encode(c));
    assert.equal(r.runs, 0, `refused: ${c}`);
  }
});

// ---- a sample through the CLI ----------------------------------------------------------------

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
/** tsx by its file: the CLI runs in a temporary directory, where `tsx` does not resolve */
const TSX = import.meta.resolve('tsx');

function expandCli(cwd: string, file: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', TSX, MAIN, 'expand', file, '--max-runs', String(MAX_RUNS)], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

test('fuzz: a sample through `expand` exits 0 or 2 with one line, no trace, and creates no database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimc-fuzz-'));
  const samples = fc.sample(input, { seed: SEED + 1, numRuns: 8 });
  const files = samples.map((bytes, i) => {
    const f = `case-${i}.yaml`;
    writeFileSync(join(dir, f), bytes);
    return f;
  });
  const results: Array<{ code: number | null; stderr: string }> = [];
  for (let i = 0; i < files.length; i += 2)
    results.push(...(await Promise.all(files.slice(i, i + 2).map((f) => expandCli(dir, f)))));
  let refused = 0;
  results.forEach((r, i) => {
    assert.ok(r.code === 0 || r.code === 2, `case-${i}: exit ${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, `case-${i}: no stack trace`);
    if (r.code === 2) {
      refused++;
      assert.match(r.stderr, new RegExp(`^aimc-sweep: case-${i}\\.yaml[:\\s]`), `case-${i}: names the file`);
    }
  });
  assert.ok(refused > 0, 'the sample holds refused files');
  assert.deepEqual(
    readdirSync(dir).filter((f) => !/^case-\d+\.yaml$/.test(f)),
    [],
    'no database (or any other file) created',
  );
});
