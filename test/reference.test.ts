/**
 * The papers' numbers beside ours: the `reference:` section of a sweep (parsing and validation
 * with file:line, cells that match no run or contradict each other), its way into the stored
 * definition, and the `paper` and `z` columns of `table` (md, csv, json) and `report`, on a
 * database populated through SqliteRunQueue with synthetic results whose z can be checked by hand.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsv, runCli } from './helpers.ts';
import { sweepDefinitionJson } from '../src/coordinator/scheduler.ts';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { ReportError } from '../src/report/errors.ts';
import { buildSweepReport } from '../src/report/html.ts';
import { buildSweepPivot } from '../src/report/pivot.ts';
import type { PivotCell, PivotTable } from '../src/report/pivot-cells.ts';
import { formatPivotCsv, formatPivotJson, formatPivotMarkdown } from '../src/report/table-formats.ts';
import { zScore } from '../src/report/stats.ts';
import { openStore } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson } from '../src/sweep/canonical.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText, SweepError, type SweepSpec } from '../src/sweep/spec.ts';

// ---- parsing and validation ---------------------------------------------------------------------

const BASE = 'base: { task: { in_size: 4, out_size: 2, n_samples: 8 }, epochs: 1 }';
/** Lines 1-5: name, base, grid, cases, `reference:`; the cells from line 6. */
const withRefs = (cells: string) =>
  `name: t\n${BASE}\ngrid: { seed: [1, 2] }\ncases: [ { algorithm: analog-sgd }, { algorithm: residual, ` +
  `n_tiles: [2, 3] } ]\nreference:\n${cells}`;
const CELL = (where: string, extra = '') =>
  `  - where: ${where}\n    metric: weight_error\n    mean: 0.5\n    source: "Paper A, Table 1"\n${extra}`;
const parse = (yaml: string): SweepSpec => parseSweepText(yaml, 'sweeps/t.yaml');
const fails = (yaml: string, re: RegExp, expand = false) =>
  assert.throws(
    () => (expand ? expandSweep(parse(yaml)) : parse(yaml)),
    (e: unknown) => e instanceof SweepError && re.test(e.message),
    `expected ${re}`,
  );

test('reference: a list of cells with where, metric, mean, optional std, source; std 0 means not given', () => {
  const spec = parse(
    withRefs(`  - where: { algorithm: residual, n_tiles: 3 }
    metric: weight_error
    mean: 0.25
    std: 0.01
    source: "Paper A, Table 1, Ours (3 tiles)"
  - { where: { algorithm: analog-sgd }, metric: weight_error, mean: 1.5, std: 0, source: "Paper A" }
`),
  );
  assert.deepEqual(spec.reference, [
    {
      where: { algorithm: 'residual', n_tiles: 3 },
      metric: 'weight_error',
      mean: 0.25,
      std: 0.01,
      source: 'Paper A, Table 1, Ours (3 tiles)',
    },
    { where: { algorithm: 'analog-sgd' }, metric: 'weight_error', mean: 1.5, std: null, source: 'Paper A' },
  ]);
  assert.equal(expandSweep(spec).runs.length, 6);
  assert.deepEqual(parse(`name: t\n${BASE}\n`).reference, [], 'no section: no references');
});

test('reference: parsing errors name the file, the line and the field', () => {
  // line 6: where; 7: metric; 8: mean; 9: source; 10: the extra line
  fails(
    withRefs(CELL('{ algorithm: residual }').replace('weight_error', 'test_acc')),
    /^sweeps\/t\.yaml:7: reference\[0\]\.metric: expected one of train_loss, .*, wall_ms, got "test_acc"$/,
  );
  fails(
    withRefs(CELL('{ algorithm: residual }', '    table: 1\n')),
    /^sweeps\/t\.yaml:10: reference\[0\]\.table: unknown reference field \(allowed: where, metric, mean, std, source\)$/,
  );
  fails(
    withRefs(CELL('{ algorithm: residual }').replace('mean: 0.5', 'mean: .nan')),
    /^sweeps\/t\.yaml:8: reference\[0\]\.mean: expected a finite number \(weight_error\), got NaN$/,
  );
  fails(
    withRefs(CELL('{ algorithm: residual }').replace('mean: 0.5', 'mean: .inf')),
    /^sweeps\/t\.yaml:8: reference\[0\]\.mean: expected a finite number/,
  );
  fails(
    withRefs(CELL('{ algorithm: residual }').replace('mean: 0.5', 'mean: "0.5"')),
    /^sweeps\/t\.yaml:8: reference\[0\]\.mean: expected a finite number \(weight_error\), got "0\.5"$/,
  );
  fails(
    withRefs(CELL('{ algorithm: residual }', '    std: -.inf\n')),
    /^sweeps\/t\.yaml:10: reference\[0\]\.std: expected a finite number >= 0/,
  );
  // a missing key: the line of its cell
  fails(
    withRefs(CELL('{ algorithm: residual }').replace('    mean: 0.5\n', '')),
    /^sweeps\/t\.yaml:6: reference\[0\]\.mean: missing: the paper's value of weight_error$/,
  );
  fails(
    withRefs(CELL('{ algorithm: residual }').replace('    source: "Paper A, Table 1"\n', '')),
    /^sweeps\/t\.yaml:6: reference\[0\]\.source: missing/,
  );
  // the second cell (lines 10-13)
  fails(
    withRefs(CELL('{ algorithm: residual }') + CELL('{ algorithm: residual, device.n_sates: 4 }')),
    /^sweeps\/t\.yaml:10: reference\[1\]\.where\.device\.n_sates: unknown run config field$/,
  );
  fails(
    withRefs(CELL('{ device: { n_states: 4 } }')),
    /^sweeps\/t\.yaml:6: reference\[0\]\.where\.device: is a group of fields; name the fields as dotted keys \(device\.<field>\)$/,
  );
  fails(withRefs(CELL('{}')), /^sweeps\/t\.yaml:6: reference\[0\]\.where: expected a non-empty mapping/);
  fails(withRefs(CELL('{ lr: .nan }')), /^sweeps\/t\.yaml:6: reference\[0\]\.where\.lr: expected a value/);
  fails(
    withRefs(
      CELL('{ algorithm: residual }').replace('weight_error', 'test_accuracy').replace('mean: 0.5', 'mean: 168.1'),
    ),
    /^sweeps\/t\.yaml:8: reference\[0\]\.mean: expected a percentage in \[0, 100\]/,
  );
  fails(
    `name: t\n${BASE}\nreference: { where: { seed: 1 } }\n`,
    /^sweeps\/t\.yaml:3: reference: expected a list of cells/,
  );
  fails(`name: t\n${BASE}\nreference:\n  - 68.09\n`, /^sweeps\/t\.yaml:4: reference\[0\]: expected a mapping/);
});

test(
  'reference: expansion refuses a cell that matches no run, a repeated cell, and equally specific cells that ' +
    'disagree',
  () => {
    fails(
      withRefs(CELL('{ algorithm: residual }') + CELL('{ algorithm: residual, n_tiles: 5 }')),
      /^sweeps\/t\.yaml:10: reference\[1\]: where algorithm=residual, n_tiles=5 matches no run of the sweep: no run has n_tiles=5 \(the runs have -, 2, 3\)$/,
      true,
    );
    // each value exists, not together
    fails(
      withRefs(CELL('{ algorithm: analog-sgd, n_tiles: 2 }')),
      /^sweeps\/t\.yaml:6: reference\[0\]: where algorithm=analog-sgd, n_tiles=2 matches no run of the sweep: no run has all of these values at once$/,
      true,
    );
    // a key a run lacks never matches (sgd has no device), as in exclude
    fails(withRefs(CELL('{ algorithm: analog-sgd, update.closed_form_pulses: true }')), /matches no run/, true);
    fails(
      withRefs(CELL('{ algorithm: residual }') + CELL('{ algorithm: residual }')),
      /^sweeps\/t\.yaml:10: reference\[1\]: repeats the where .* of reference\[0\]; give each cell once \(reference\[0\] is at sweeps\/t\.yaml:6\)$/,
      true,
    );
    fails(
      withRefs(CELL('{ n_tiles: 3 }') + CELL('{ seed: 1 }').replace('mean: 0.5', 'mean: 0.7')),
      /^sweeps\/t\.yaml:10: reference\[1\]: where seed=1 \(0\.7\) and reference\[0\]'s where n_tiles=3 \(0\.5\) both match runs .* neither names all of the other's keys/,
      true,
    );
    // a more specific cell, or one that agrees, or one of another metric, is fine
    expandSweep(
      parse(
        withRefs(
          CELL('{ algorithm: residual }') +
            CELL('{ algorithm: residual, n_tiles: 3 }').replace('mean: 0.5', 'mean: 0.7'),
        ),
      ),
    );
    expandSweep(parse(withRefs(CELL('{ n_tiles: 3 }') + CELL('{ seed: 1 }'))));
    expandSweep(parse(withRefs(CELL('{ n_tiles: 3 }') + CELL('{ seed: 1 }').replace('weight_error', 'train_loss'))));
  },
);

test('reference: the stored definition keeps the section; a sweep without one is stored as before', () => {
  const spec = parse(
    withRefs(
      CELL('{ algorithm: residual, n_tiles: 3 }', '    std: 0.1\n') + CELL('{ algorithm: analog-sgd }', '    std: 0\n'),
    ),
  );
  const stored = JSON.parse(sweepDefinitionJson(spec)) as { reference: unknown };
  assert.deepEqual(stored.reference, [
    {
      where: { algorithm: 'residual', n_tiles: 3 },
      metric: 'weight_error',
      mean: 0.5,
      std: 0.1,
      source: 'Paper A, Table 1',
    },
    { where: { algorithm: 'analog-sgd' }, metric: 'weight_error', mean: 0.5, source: 'Paper A, Table 1' },
  ]);
  const plain = parse(`name: t\n${BASE}\ngrid: { seed: [1, 2] }\n`);
  assert.equal(
    sweepDefinitionJson(plain),
    canonicalJson({ base: plain.base, grid: plain.grid, cases: plain.cases, zip: plain.zip, exclude: plain.exclude }),
    'unchanged: no spurious "definition changed"',
  );
});

test('zScore: the difference over the combined std; none for n = 1 or when both stds are 0', () => {
  assert.equal(zScore({ mean: 42, std: 2 }, { mean: 40, std: 1.5 }), 0.8);
  assert.equal(zScore({ mean: 84, std: 4 }, { mean: 80, std: null }), 1);
  assert.equal(zScore({ mean: 62, std: 0 }, { mean: 65, std: 2 }), -1.5);
  assert.equal(zScore({ mean: 62, std: null }, { mean: 65, std: 2 }), null, 'n = 1: no std of ours');
  assert.equal(zScore({ mean: 62, std: 0 }, { mean: 65, std: null }), null, 'both 0');
  assert.equal(zScore({ mean: 62, std: 1e-15 }, { mean: 65, std: null }), null, 'both 0 to rounding');
});

// ---- the table on a database ------------------------------------------------------------------

const SWEEP = `name: ref
description: references beside our cells
base:
  task: { kind: mnist, train_size: 100, test_size: 50, downsample: true }
  model: { hidden: [8], activation: tanh }
  epochs: 1
grid:
  device.n_states: [4, 16]
  seed: [1, 2, 3]
cases:
  - { algorithm: analog-sgd }
  - { algorithm: residual, n_tiles: [2, 3] }
reference:
  - where: { algorithm: analog-sgd, device.n_states: 4 }
    metric: test_accuracy
    mean: 40
    std: 1.5
    source: "Paper A, Table 1, analog SGD"
  - where: { algorithm: analog-sgd, device.n_states: 16 }
    metric: test_accuracy
    mean: 65
    source: "Paper A, Table 1, analog SGD"
  - where: { algorithm: residual, device.n_states: 16 }
    metric: test_accuracy
    mean: 75
    std: 1
    source: "Paper B, Table 2 | residual"
  - where: { algorithm: residual, n_tiles: 3, device.n_states: 4 }
    metric: test_accuracy
    mean: 60
    std: 4
    source: "Paper A, Table 1, residual, 3 tiles"
  - where: { algorithm: residual, n_tiles: 3, device.n_states: 16 }
    metric: test_accuracy
    mean: 80
    std: 0
    source: "Paper A, Table 1, residual, 3 tiles"
  - where: { algorithm: analog-sgd }
    metric: test_loss
    mean: 1.25
    source: "Paper A, Table 3"
`;

/**
 * Final test accuracy by algorithm/tiles/states, seeds 1, 2, 3 = centre - step, centre, centre + step:
 * mean = centre, sample std = step. In percent, against the references:
 * analog-sgd 4: 42 ± 2 vs 40 ± 1.5: z = 2 / 2.5 = +0.8;  analog-sgd 16: 62 ± 0 vs 65: both stds 0, no z;
 * residual 2/4: 52 ± 2, no reference; residual 2/16: 73 ± 3 vs 75 ± 1 (the less specific cell): z = -2 / sqrt(10) =
 * -0.63;
 * residual 3/4: 58 ± 3 vs 60 ± 4: z = -0.4;  residual 3/16: 84 ± 4 vs 80: z = +1.0.
 */
const ACC: Record<string, [number, number]> = {
  'analog-sgd/-/4': [0.42, 0.02],
  'analog-sgd/-/16': [0.62, 0],
  'residual/2/4': [0.52, 0.02],
  'residual/2/16': [0.73, 0.03],
  'residual/3/4': [0.58, 0.03],
  'residual/3/16': [0.84, 0.04],
};
type Conf = { algorithm: string; seed: number; n_tiles?: number; device: { n_states: number } };
const key = (c: Conf) => `${c.algorithm}/${c.n_tiles ?? '-'}/${c.device.n_states}`;

const dir = mkdtempSync(join(tmpdir(), 'aimc-reference-'));
const DB = join(dir, 'results.db');
const db = openStore(DB);
{
  const q = new SqliteRunQueue(db);
  const record = (name: string, specJson: string, runs: ReturnType<typeof expandSweep>['runs']) =>
    q.recordSweep(
      {
        name,
        description: '',
        specJson,
        source: `sweeps/${name}.yaml`,
        runs: runs.map((r) => ({
          hash: r.hash,
          configJson: canonicalJson(r.config),
          numericsVersion: 1,
          assignmentsJson: canonicalJson(r.assignments),
        })),
      },
      Date.now(),
    ).sweepId;
  const spec = parseSweepText(SWEEP, 'sweeps/ref.yaml');
  const { runs } = expandSweep(spec);
  const id = record('ref', sweepDefinitionJson(spec), runs);
  // the same runs, recorded as before references existed, and with a stored conflict no expansion lets through
  record(
    'old',
    canonicalJson({ base: spec.base, grid: spec.grid, cases: spec.cases, zip: spec.zip, exclude: spec.exclude }),
    runs,
  );
  const conflict = [
    { where: { algorithm: 'analog-sgd', 'device.n_states': 4 }, metric: 'test_accuracy', mean: 40, source: 'P' },
    { where: { algorithm: 'analog-sgd', seed: 1 }, metric: 'test_accuracy', mean: 41, source: 'Q' },
  ];
  record('conflict', canonicalJson({ grid: spec.grid, reference: conflict }), runs);
  record(
    'broken',
    canonicalJson({ reference: [{ where: { algorithm: 'sgd' }, metric: 'accuracy', mean: 1, source: 'P' }] }),
    runs,
  );
  for (const lease of q.lease('w1', 100, Date.now(), 3_600_000, id)) {
    const c = JSON.parse(lease.configJson) as Conf;
    const [centre, step] = ACC[key(c)];
    const acc = centre + step * (c.seed - 2);
    const history: EpochMetrics[] = [
      { epoch: 1, train_loss: 1, test_loss: 2 - acc, test_accuracy: acc, train_accuracy: acc, pulses: {} },
    ];
    const result: RunResult = {
      numerics_version: 1,
      config: c as never,
      history,
      final: history[0],
      weights_digest: 'd',
      wall_ms: 1,
    };
    assert.equal(q.complete('w1', lease, result, Date.now()).accepted, true);
  }
}

function cellAt(t: PivotTable, row: string[], col: string[]): PivotCell {
  const ri = t.rowLabels.findIndex((l) => canonicalJson(l) === canonicalJson(row));
  const ci = t.colLabels.findIndex((l) => canonicalJson(l) === canonicalJson(col));
  const c = t.cells.find((x) => x.rowIndex === ri && x.colIndex === ci);
  assert.ok(c, `cell ${row} / ${col}`);
  return c;
}
const close = (a: number | null | undefined, b: number, what: string) =>
  assert.ok(typeof a === 'number' && Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);
const BY_TILES = { rows: ['algorithm', 'n_tiles'], cols: ['device.n_states'] };

test(
  'table: each cell takes the most specific reference matching all its runs, in the unit of its mean, ' + 'with z',
  () => {
    const t = buildSweepPivot(db, 'ref', BY_TILES);
    const a4 = cellAt(t, ['analog-sgd', '-'], ['4']);
    assert.deepEqual(a4.paper, {
      mean: 0.4,
      std: 0.015,
      source: 'Paper A, Table 1, analog SGD',
      where: { algorithm: 'analog-sgd', 'device.n_states': 4 },
    });
    close(a4.z, 0.8, 'analog-sgd 4: (42 - 40) / sqrt(2^2 + 1.5^2)');
    const a16 = cellAt(t, ['analog-sgd', '-'], ['16']);
    assert.deepEqual([a16.paper?.mean, a16.paper?.std, a16.z], [0.65, null, null], 'ours std 0 and no paper std: no z');
    const r24 = cellAt(t, ['residual', '2'], ['4']);
    assert.deepEqual([r24.paper, r24.z], [null, null], 'no reference: nothing, never 0');
    const r216 = cellAt(t, ['residual', '2'], ['16']);
    assert.equal(
      r216.paper?.source,
      'Paper B, Table 2 | residual',
      'the cell for residual at 16 states, whatever the tiles',
    );
    close(r216.z, -2 / Math.sqrt(10), 'residual 2/16');
    const r34 = cellAt(t, ['residual', '3'], ['4']);
    close(r34.z, -0.4, 'residual 3/4: (58 - 60) / sqrt(3^2 + 4^2)');
    const r316 = cellAt(t, ['residual', '3'], ['16']);
    assert.deepEqual(
      [r316.paper?.mean, r316.paper?.std, r316.paper?.source],
      [0.8, null, 'Paper A, Table 1, residual, 3 tiles'],
      'the 3-tile cell is more specific than the 16-state one; std 0 is not given',
    );
    close(r316.z, 1, 'residual 3/16: (84 - 80) / 4');
    assert.deepEqual(t.referenceWarnings, []);
    // n = 1: the paper value, no z
    const one = buildSweepPivot(db, 'ref', { rows: ['algorithm', 'n_tiles', 'seed'], cols: ['device.n_states'] });
    const single = cellAt(one, ['residual', '3', '1'], ['4']);
    assert.deepEqual([single.n, single.paper?.mean, single.z], [1, 0.6, null]);
    // references of another metric show with that metric only
    const loss = buildSweepPivot(db, 'ref', { ...BY_TILES, metric: 'test_loss' });
    assert.deepEqual(
      loss.cells.filter((c) => c.paper !== null).map((c) => [loss.rowLabels[c.rowIndex][0], c.paper?.mean]),
      [
        ['analog-sgd', 1.25],
        ['analog-sgd', 1.25],
      ],
    );
  },
);

test('table markdown: a paper and a z column after each data column that has a reference, sources and z below', () => {
  const md = formatPivotMarkdown(buildSweepPivot(db, 'ref', BY_TILES)).split('\n');
  assert.deepEqual(md.slice(2, 7), [
    '| algorithm | n_tiles | device.n_states=4 | paper | z | device.n_states=16 | paper | z |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    '| analog-sgd | - | 42.00 ± 2.00 [37.03, 46.97] (n=3) | 40.00 ± 1.50 [1] | +0.8 | 62.00 ± 0.00 [62.00, ' +
      '62.00] (n=3) | 65.00 [1] |  |',
    '| residual | 2 | 52.00 ± 2.00 [47.03, 56.97] (n=3) |  |  | 73.00 ± 3.00 [65.55, 80.45] (n=3) | 75.00 ± ' +
      '1.00 [2] | -0.6 |',
    '| residual | 3 | 58.00 ± 3.00 [50.55, 65.45] (n=3) | 60.00 ± 4.00 [3] | -0.4 | 84.00 ± 4.00 [74.06, ' +
      '93.94] (n=3) | 80.00 [3] | +1.0 |',
  ]);
  assert.match(md[8], /^\[lo, hi\]: 95 % confidence interval of the mean/);
  assert.deepEqual(md.slice(9, 13), [
    'paper [1]: Paper A, Table 1, analog SGD',
    'paper [2]: Paper B, Table 2 \\| residual',
    'paper [3]: Paper A, Table 1, residual, 3 tiles',
    'z = (mean - paper) / sqrt(std² + paper std²) in the printed unit (a std the paper does not give counts as ' +
      '0); empty where n < 2 or both stds are 0',
  ]);
  // a column without any reference gets no paper column
  const bySeed = formatPivotMarkdown(
    buildSweepPivot(db, 'ref', { rows: ['algorithm', 'n_tiles', 'device.n_states'], cols: ['seed'] }),
  ).split('\n');
  assert.equal(
    bySeed[2],
    '| algorithm | n_tiles | device.n_states | seed=1 | paper | z | seed=2 | paper | z | seed=3 | paper | z |',
  );
  const loss = buildSweepPivot(db, 'ref', {
    rows: ['device.n_states'],
    cols: ['algorithm', 'n_tiles'],
    metric: 'test_loss',
  });
  assert.equal(
    formatPivotMarkdown(loss).split('\n')[2],
    '| device.n_states | algorithm=analog-sgd, n_tiles=- | paper | z | algorithm=residual, n_tiles=2 | ' +
      'algorithm=residual, n_tiles=3 |',
  );
});

test(
  'table: the default layout averages residual over n_tiles: the 3-tile references are not shown, with a ' + 'warning',
  () => {
    const t = buildSweepPivot(db, 'ref');
    assert.deepEqual([t.rows, t.cols], [['algorithm'], ['device.n_states']]);
    assert.equal(cellAt(t, ['residual'], ['16']).paper?.mean, 0.75, 'the 16-state cell of residual, both tile counts');
    assert.equal(cellAt(t, ['residual'], ['4']).paper, null);
    assert.equal(t.referenceWarnings.length, 2);
    assert.match(
      t.referenceWarnings[0],
      /^reference\[3\] \(algorithm=residual, device\.n_states=4, n_tiles=3: 60 ± 4, Paper A, Table 1, residual, 3 tiles\) is not shown: .* \(they average over n_tiles; add it to --rows or --cols\)$/,
    );
    const md = formatPivotMarkdown(t);
    assert.match(md, /\nwarning: reference\[4\] .* is not shown/);
    assert.match(md, /\n† warning: 2 cells average over runs that differ in n_tiles/);
  },
);

test('table csv and json: the paper mean, std, source and z per cell, empty or null where none', () => {
  const t = buildSweepPivot(db, 'ref', BY_TILES);
  const csv = parseCsv(formatPivotCsv(t));
  assert.deepEqual(csv[0], [
    'algorithm',
    'n_tiles',
    'device.n_states',
    'mean',
    'std',
    'ci95_lo',
    'ci95_hi',
    'median',
    'min',
    'max',
    'unit',
    'n',
    'failed',
    'queued',
    'running',
    'missing',
    'mixed',
    'paper_mean',
    'paper_std',
    'paper_source',
    'z',
  ]);
  const line = (a: string, tiles: string, n: string) => {
    const l = csv.find((r) => r[0] === a && r[1] === tiles && r[2] === n);
    assert.ok(l, `${a} ${tiles} ${n}`);
    return l.slice(17);
  };
  // in the unit of the markdown table and of the sweep's reference: percent
  assert.deepEqual(line('analog-sgd', '-', '4').slice(0, 3), ['40', '1.5', 'Paper A, Table 1, analog SGD']);
  assert.equal(csv.find((r) => r[0] === 'analog-sgd' && r[2] === '4')?.[3], '42', 'our mean in percent too');
  close(Number(line('analog-sgd', '-', '4')[3]), 0.8, 'csv z');
  assert.deepEqual(line('analog-sgd', '-', '16'), ['65', '', 'Paper A, Table 1, analog SGD', '']);
  assert.deepEqual(line('residual', '2', '4'), ['', '', '', '']);
  const json = JSON.parse(formatPivotJson(t)) as {
    row: Record<string, unknown>;
    col: Record<string, unknown>;
    paper: unknown;
    z: number | null;
  }[];
  assert.deepEqual(Object.keys(json[0]).slice(-2), ['paper', 'z']);
  const find = (alg: string, tiles: number | null, n: number) =>
    json.find((c) => c.row.algorithm === alg && c.row.n_tiles === tiles && c.col['device.n_states'] === n);
  assert.deepEqual(find('residual', 3, 16)?.paper, {
    mean: 80,
    std: null,
    source: 'Paper A, Table 1, residual, 3 tiles',
    where: { algorithm: 'residual', n_tiles: 3, 'device.n_states': 16 },
  });
  close(find('residual', 3, 16)?.z, 1, 'json z');
  assert.deepEqual([find('residual', 2, 4)?.paper, find('residual', 2, 4)?.z], [null, null]);
});

test(
  'table: a sweep recorded without references shows no paper column; a stored conflict shows none, with ' + 'a warning',
  () => {
    const old = buildSweepPivot(db, 'old', BY_TILES);
    assert.ok(old.cells.every((c) => c.paper === null && c.z === null));
    assert.deepEqual(old.referenceWarnings, []);
    assert.doesNotMatch(formatPivotMarkdown(old), /paper/);
    const t = buildSweepPivot(db, 'conflict', { rows: ['algorithm', 'seed'], cols: ['device.n_states'] });
    assert.equal(cellAt(t, ['analog-sgd', '1'], ['4']).paper, null);
    assert.equal(cellAt(t, ['analog-sgd', '2'], ['4']).paper?.mean, 0.4);
    assert.equal(cellAt(t, ['analog-sgd', '1'], ['16']).paper?.mean, 0.41);
    assert.match(
      t.referenceWarnings.join('\n'),
      /\(algorithm=analog-sgd, seed=1 \/ device\.n_states=4\): references \[0\], \[1\] all apply and give different values of test_accuracy; none is shown/,
    );
    assert.throws(
      () => buildSweepPivot(db, 'broken'),
      (e: unknown) =>
        e instanceof ReportError &&
        /sweep broken: the recorded definition's reference\[0\]\.metric: expected one of/.test(e.message),
    );
  },
);

test('report: the HTML table has the paper and z columns and the sources', () => {
  const { html, warnings } = buildSweepReport(db, 'ref', { db: DB, now: 0 });
  const table = html.slice(
    html.indexOf('<table class="pivot">'),
    html.indexOf('</table>', html.indexOf('<table class="pivot">')),
  );
  assert.match(table, /<th>device\.n_states=16<\/th><th class="paper">paper<\/th><th class="z">z<\/th>/);
  assert.match(
    table,
    /<td class="num paper" title="Paper A, Table 1, analog SGD">40\.00 ± 1\.50 <sup>\[1\]<\/sup><\/td><td class="num z">\+0\.8<\/td>/,
  );
  // residual averages over n_tiles in the default layout: its 4-state cell has no reference
  assert.match(
    table,
    /<tr><th>residual<\/th><td class="num mixed">55\.00 ± 4\.00 \[50\.80, 59\.20\] \(n=6\) †<\/td><td class="paper"><\/td><td class="num z"><\/td>/,
  );
  assert.match(html, /<li>warning: reference\[3\] .* is not shown/);
  assert.ok(warnings.some((w) => /^reference\[4\] .* is not shown/.test(w)));
  assert.match(
    html,
    /<ol class="sources"><li>paper: Paper A, Table 1, analog SGD<\/li><li>paper: Paper B, Table 2 \| residual<\/li><\/ol>/,
  );
  assert.match(html, /&quot;reference&quot;: \[/, 'the definition as recorded lists the references');
  const old = buildSweepReport(db, 'old', { db: DB, now: 0 }).html;
  assert.doesNotMatch(old, /class="paper"/);
});

test('cli: table --format json carries the paper values; warnings about references go to stderr', async () => {
  const r = await runCli('table', '--sweep', 'ref', '--db', DB, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  const cells = JSON.parse(r.stdout) as {
    row: Record<string, unknown>;
    col: Record<string, unknown>;
    paper: { mean: number } | null;
  }[];
  assert.equal(
    cells.find((c) => c.row.algorithm === 'analog-sgd' && c.col['device.n_states'] === 4)?.paper?.mean,
    40,
    'in percent, as the reference gives it',
  );
  assert.match(r.stderr, /aimc-sweep: warning: reference\[3\] .* is not shown/);
});
