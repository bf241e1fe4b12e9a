/**
 * The read side of the results store: pivot tables (mean ± std over seeds, best vs final epoch,
 * absent keys, mixed cells, ordering, md/csv/json), the default layout, the export rows, the
 * status report and the read-only query guard. Databases are populated through SqliteRunQueue with
 * synthetic results (no training).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsv } from './helpers.ts';
import { resolvedValueAt } from '../src/core/config/resolved-value.ts';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { exportRows, formatExport } from '../src/report/export-rows.ts';
import { ReportError } from '../src/report/errors.ts';
import { defaultLayout } from '../src/report/layout.ts';
import { buildSweepPivot, renderSweepTable } from '../src/report/pivot.ts';
import type { PivotCell, PivotTable } from '../src/report/pivot-cells.ts';
import { buildSweepPlot } from '../src/report/plot.ts';
import { formatPivotCsv, formatPivotJson, formatPivotMarkdown } from '../src/report/table-formats.ts';
import { statusReport } from '../src/report/status.ts';
import { SCHEMA_VERSION } from '../src/store/migrations.ts';
import { type Db, openStore, openStoreReadonly, StoreError } from '../src/store/open.ts';
import { QueryError, readonlyQuery, requireSweep, sweepRuns } from '../src/store/results-read.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson } from '../src/sweep/canonical.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText } from '../src/sweep/spec.ts';

// A quickstart-like sweep: cases sgd / residual (n_tiles 2 or 3) / analog-sgd, in that order
// (not alphabetical), x device.n_states listed 16 before 4, x 3 seeds. sgd has no device, so its
// three runs merge across n_states and show `-` there.
const QS = `
name: qs
base:
  task: { kind: mnist, train_size: 100, test_size: 50, downsample: true }
  model: { hidden: [8, 4], activation: tanh }
  epochs: 2
grid:
  device.n_states: [16, 4]
  seed: [1, 2, 3]
cases:
  - { algorithm: sgd }
  - { algorithm: residual, n_tiles: [2, 3] }
  - { algorithm: analog-sgd }
`;

const LS = `
name: ls
base:
  task: { kind: least-squares, in_size: 4, out_size: 2, n_samples: 10 }
  algorithm: analog-sgd
  epochs: 2
grid:
  lr: [0.1, 0.01]
  seed: [1, 2]
`;

const BASE: Record<string, Record<string, number>> = {
  sgd: { '-': 0.9 },
  'analog-sgd': { 4: 0.5, 16: 0.8 },
  residual: { 4: 0.7, 16: 0.85 },
};
const T0 = 1_700_000_000_000;
const MIN = 60_000;

type Conf = Record<string, unknown> & {
  algorithm: string;
  seed: number;
  n_tiles?: number;
  device?: { n_states: number };
};

/** The synthetic final test accuracy of a run: base by algorithm and states, +0.1 per seed step. */
function accuracy(c: Conf): number {
  return (
    BASE[c.algorithm][c.device ? String(c.device.n_states) : '-'] + 0.1 * (c.seed - 2) + (c.n_tiles === 3 ? 0.01 : 0)
  );
}

/** Epoch 0 looks best of all (it must be ignored by --epoch best), epoch 1 beats the final epoch 2. */
function history(c: Conf): EpochMetrics[] {
  const v = accuracy(c);
  return [
    { epoch: 0, train_loss: 0.001, test_loss: 0.001, test_accuracy: 0.999, train_accuracy: 0.999, pulses: {} },
    {
      epoch: 1,
      train_loss: 2 - v,
      test_loss: 1 - v - 0.1,
      test_accuracy: v + 0.05,
      train_accuracy: v,
      pulses: { W: 10 },
    },
    { epoch: 2, train_loss: 2 - v, test_loss: 1 - v, test_accuracy: v, train_accuracy: v, pulses: { W: 20 } },
  ];
}

function lsHistory(c: Conf): EpochMetrics[] {
  const e = (c.lr as number) * 10 + c.seed;
  return [
    { epoch: 0, train_loss: 9, weight_error: 9, pulses: {} },
    { epoch: 1, train_loss: e + 1, weight_error: e + 1, pulses: { W: 5 } },
    { epoch: 2, train_loss: e, weight_error: e, pulses: { W: 9 } },
  ];
}

function result(config: Conf, h: EpochMetrics[]): RunResult {
  return {
    numerics_version: 1,
    config: config as unknown as RunResult['config'],
    history: h,
    final: h[h.length - 1],
    weights_digest: 'd1',
    wall_ms: 100 + config.seed,
  };
}

const isRun = (c: Conf, alg: string, n: number | undefined, tiles: number | undefined, seed: number) =>
  c.algorithm === alg && c.device?.n_states === n && c.n_tiles === tiles && c.seed === seed;

function record(q: SqliteRunQueue, yaml: string, now: number): number {
  const spec = parseSweepText(yaml, 'test.yaml');
  const { runs } = expandSweep(spec);
  return q.recordSweep(
    {
      name: spec.name,
      description: '',
      specJson: canonicalJson(spec.grid),
      source: 'test.yaml',
      runs: runs.map((r) => ({
        hash: r.hash,
        configJson: canonicalJson(r.config),
        numericsVersion: 1,
        assignmentsJson: canonicalJson(r.assignments),
      })),
    },
    now,
  ).sweepId;
}

/**
 * A database with both sweeps. In qs: analog-sgd x 16 x seed 3 failed (error with a comma and
 * quotes), residual x 3 tiles x 16 x seed 3 queued again, residual x 3 tiles x 4 x seed 3 still
 * running; every other run done, finished one per 10 s from T0 + 1 min.
 */
function populate(): { db: Db; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'aimc-report-')), 'results.db');
  const db = openStore(file);
  const q = new SqliteRunQueue(db);
  const qs = record(q, QS, T0);
  const ls = record(q, LS, T0);
  let t = T0 + MIN;
  for (const [id, hist] of [
    [qs, history],
    [ls, lsHistory],
  ] as const) {
    for (const lease of q.lease('w1', 100, T0, 3_600_000, id)) {
      const c = JSON.parse(lease.configJson) as Conf;
      if (isRun(c, 'analog-sgd', 16, undefined, 3)) q.fail('w1', lease, 'diverged: "loss", then NaN', (t += 10_000));
      else if (isRun(c, 'residual', 16, 3, 3)) q.release('w1', lease);
      else if (isRun(c, 'residual', 4, 3, 3)) continue;
      else assert.equal(q.complete('w1', lease, result(c, hist(c)), (t += 10_000)).accepted, true);
    }
  }
  return { db, file };
}

const fixture = populate();
const db = fixture.db;

function cellAt(t: PivotTable, row: string[], col: string[]): PivotCell | undefined {
  const ri = t.rowLabels.findIndex((l) => canonicalJson(l) === canonicalJson(row));
  const ci = t.colLabels.findIndex((l) => canonicalJson(l) === canonicalJson(col));
  return t.cells.find((c) => c.rowIndex === ri && c.colIndex === ci);
}

const close = (a: number | null, b: number, what: string) =>
  assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${what}: ${a} != ${b}`);

test('pivot: mean, sample std and n over seeds per cell; n=1 has no std; failed and queued counted', () => {
  const t = buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'] });
  assert.equal(t.metric, 'test_accuracy');
  const a4 = cellAt(t, ['analog-sgd'], ['4']);
  assert.ok(a4);
  close(a4.mean, 0.5, 'mean');
  close(a4.std, 0.1, 'std (n - 1)');
  assert.equal(a4.n, 3);
  const a16 = cellAt(t, ['analog-sgd'], ['16']);
  assert.ok(a16);
  assert.deepEqual([a16.n, a16.failed, a16.queued, a16.running], [2, 1, 0, 0]);
  close(a16.mean, (0.7 + 0.8) / 2, 'mean of the two done');
  close(a16.std, Math.sqrt(((0.7 - 0.75) ** 2 + (0.8 - 0.75) ** 2) / 1), 'std');
  const sgd = cellAt(t, ['sgd'], ['-']);
  assert.ok(sgd, 'sgd has no device: its runs sit under device.n_states=-');
  assert.equal(sgd.n, 3);
  close(sgd.mean, 0.9, 'sgd mean');
  assert.equal(cellAt(t, ['sgd'], ['4']), undefined, 'no sgd run has 4 states');
  // n=1: residual x 16 with 3 tiles has seeds 1, 2 done; restricted to one seed by rows
  const one = buildSweepPivot(db, 'qs', { rows: ['algorithm', 'n_tiles', 'seed'], cols: ['device.n_states'] });
  const single = cellAt(one, ['residual', '3', '1'], ['4']);
  assert.ok(single);
  assert.equal(single.n, 1);
  close(single.mean, 0.61, 'single value');
  assert.equal(single.std, null);
  assert.deepEqual(single.mixed, []);
  const queued = cellAt(one, ['residual', '3', '3'], ['16']);
  assert.ok(queued);
  assert.deepEqual([queued.n, queued.queued, queued.mean], [0, 1, null]);
  const running = cellAt(one, ['residual', '3', '3'], ['4']);
  assert.deepEqual([running?.n, running?.running], [0, 1]);
  assert.deepEqual(t.counts, { total: 21, done: 18, failed: 1, queued: 1, running: 1 });
});

test('pivot: --epoch best takes the best trained epoch per run (max accuracy, min loss); final the last', () => {
  const fin = cellAt(
    buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'], epoch: 'final' }),
    ['analog-sgd'],
    ['4'],
  );
  const best = cellAt(
    buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'], epoch: 'best' }),
    ['analog-sgd'],
    ['4'],
  );
  close(fin?.mean ?? null, 0.5, 'final');
  close(best?.mean ?? null, 0.55, 'best accuracy is epoch 1 (epoch 0 ignored)');
  const lossBest = cellAt(
    buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'], metric: 'test_loss', epoch: 'best' }),
    ['analog-sgd'],
    ['4'],
  );
  close(lossBest?.mean ?? null, 1 - 0.5 - 0.1, 'best loss is the minimum over trained epochs');
  const lossFinal = cellAt(
    buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'], metric: 'test_loss' }),
    ['analog-sgd'],
    ['4'],
  );
  close(lossFinal?.mean ?? null, 0.5, 'final loss');
  assert.throws(() => buildSweepPivot(db, 'qs', { metric: 'wall_ms', epoch: 'best' }), ReportError);
});

test('pivot: values ordered by first appearance, numbers numerically, absent last', () => {
  const t = buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'] });
  assert.deepEqual(t.rowLabels, [['sgd'], ['residual'], ['analog-sgd']], 'case order, not alphabetical');
  assert.deepEqual(t.colLabels, [['4'], ['16'], ['-']], 'numeric although the grid lists 16 first; absent last');
  const two = buildSweepPivot(db, 'qs', { rows: ['algorithm', 'n_tiles'], cols: ['device.n_states'] });
  assert.deepEqual(two.rowLabels, [
    ['sgd', '-'],
    ['residual', '2'],
    ['residual', '3'],
    ['analog-sgd', '-'],
  ]);
});

test('pivot: a cell mixing runs that differ in an unseen key is flagged and named', () => {
  const t = buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'] });
  const r4 = cellAt(t, ['residual'], ['4']);
  assert.deepEqual(r4?.mixed, [{ key: 'n_tiles', values: ['2', '3'] }]);
  assert.deepEqual(cellAt(t, ['analog-sgd'], ['4'])?.mixed, [], 'seeds alone are not a mix');
  assert.equal(t.warnings.length, 1);
  assert.match(t.warnings[0], /2 cells average over runs that differ in n_tiles \(2, 3\)/);
  assert.match(t.warnings[0], /algorithm=residual \/ device\.n_states=4/);
  const md = formatPivotMarkdown(t);
  assert.match(md, /† warning: 2 cells average over runs that differ in n_tiles/);
  const clean = buildSweepPivot(db, 'qs', { rows: ['algorithm', 'n_tiles'], cols: ['device.n_states'] });
  assert.deepEqual(clean.warnings, []);
});

test('pivot: unknown or overlapping keys and unknown sweeps are refused', () => {
  assert.throws(
    () => buildSweepPivot(db, 'qs', { rows: ['device.n_sates'] }),
    /--rows "device\.n_sates": unknown run config field/,
  );
  assert.throws(() => buildSweepPivot(db, 'qs', { rows: ['device'], cols: ['device.n_states'] }), /overlap/);
  assert.throws(
    () => buildSweepPivot(db, 'nope', {}),
    (e: unknown) => e instanceof StoreError && /no sweep named "nope" \(sweeps: qs, ls\)/.test(e.message),
  );
});

test('defaultLayout: rows=algorithm, cols=device.n_states on a quickstart-like sweep; metric by task', () => {
  const runs = sweepRuns(db, requireSweep(db, 'qs').id);
  assert.deepEqual(defaultLayout(runs), { rows: ['algorithm'], cols: ['device.n_states'], metric: 'test_accuracy' });
  // before any result the task decides the metric
  assert.equal(defaultLayout(runs.map((r) => ({ ...r, result: null }))).metric, 'test_accuracy');
  const ls = sweepRuns(db, requireSweep(db, 'ls').id);
  assert.deepEqual(defaultLayout(ls), { rows: ['lr'], cols: [], metric: 'weight_error' });
  assert.equal(defaultLayout(ls.map((r) => ({ ...r, result: null }))).metric, 'weight_error');
  // a key swept in one case only, when nothing else varies within the rows, becomes the columns
  const onlyTiles = runs.filter(
    (r) => r.config.seed === 1 && (r.config.device as { n_states?: number } | undefined)?.n_states !== 16,
  );
  assert.deepEqual(defaultLayout(onlyTiles).cols, ['n_tiles']);
  // given rows are kept and the columns chosen around them
  assert.deepEqual(defaultLayout(runs, { rows: ['device.n_states'] }).rows, ['device.n_states']);
  assert.deepEqual(
    defaultLayout(runs, { rows: ['device.n_states'] }).cols,
    ['algorithm', 'n_tiles'],
    'n_tiles now varies within two rows',
  );
  assert.deepEqual(defaultLayout(runs, { cols: ['algorithm'] }).rows, ['device.n_states']);
});

test('renderSweepTable: markdown with a title line, one row per value, header with the column values', () => {
  const md = renderSweepTable(db, 'qs');
  const lines = md.split('\n');
  assert.match(
    lines[0],
    /^### qs: test_accuracy \(%\), final epoch, mean ± std \[95 % CI\] over seeds \(21 runs: 18 done, 1 failed, 1 queued, 1 running\)$/,
  );
  assert.equal(lines[1], '');
  assert.equal(lines[2], '| algorithm | device.n_states=4 | device.n_states=16 | device.n_states=- |');
  assert.equal(lines[3], '|---|--:|--:|--:|');
  // the interval: mean ± t(0.975, n-1) std / sqrt(n), clipped to [0, 100] % (90 + 4.303 x 10 / sqrt(3) = 114.8)
  assert.equal(lines[4], '| sgd |  |  | 90.00 ± 10.00 [65.16, 100.00] (n=3) |');
  assert.equal(
    lines[6],
    '| analog-sgd | 50.00 ± 10.00 [25.16, 74.84] (n=3) | 75.00 ± 7.07 [11.47, 100.00] (n=2, 1 failed) |  |',
  );
  assert.match(lines[5], /^\| residual \| .* \(n=5, 1 running\) † \| .* \(n=5, 1 queued\) † \| {2}\|$/);
});

test('csv and json forms: one record per cell with keys, mean, std, n and counts', () => {
  const t = buildSweepPivot(db, 'qs', { rows: ['algorithm'], cols: ['device.n_states'] });
  const csv = formatPivotCsv(t).split('\r\n');
  assert.equal(
    csv[0],
    'algorithm,device.n_states,mean,std,ci95_lo,ci95_hi,median,min,max,unit,n,failed,queued,running,missing,mixed,' +
      'paper_mean,paper_std,paper_source,z',
  );
  assert.equal(csv.length, t.cells.length + 2, 'header, one line per cell, final CRLF');
  assert.equal(t.cells.length, 5);
  const sgd = csv[1].split(',');
  assert.deepEqual(
    [sgd[0], sgd[1], sgd.slice(9).join(',')],
    ['sgd', '-', '%,3,0,0,0,0,,,,,'],
    'in percent, as the markdown table; no references: the paper columns are empty',
  );
  close(Number(sgd[2]), 90, 'csv mean at full precision, in percent');
  close(Number(sgd[3]), 10, 'csv std at full precision');
  close(Number(sgd[4]), 90 - (4.30265273 * 10) / Math.sqrt(3), 'the 95 % t-interval, n = 3');
  assert.equal(sgd[5], '100', 'clipped to 100 %');
  assert.deepEqual(sgd.slice(6, 9), ['90', '80', '100'], 'median, min, max');
  assert.match(
    csv.find((l) => l.startsWith('analog-sgd,16,')) ?? '',
    /^analog-sgd,16,75,7\.07\d*,11\.4\d*,100,75,70,80,%,2,1,0,0,0,,,,,$/,
  );
  assert.match(csv.find((l) => l.startsWith('residual,4,')) ?? '', /,5,0,0,1,0,n_tiles,,,,$/);
  const json = JSON.parse(formatPivotJson(t)) as Record<string, unknown>[];
  assert.equal(json.length, 5);
  assert.deepEqual(Object.keys(json[0]), [
    'row',
    'col',
    'metric',
    'epoch',
    'stat',
    'unit',
    'mean',
    'std',
    'ci95',
    'median',
    'min',
    'max',
    'n',
    'failed',
    'queued',
    'running',
    'missing',
    'mixed',
    'runs',
    'paper',
    'z',
  ]);
  assert.deepEqual([json[0].unit, json[0].mean, json[0].median], ['%', 90, 90]);
  assert.deepEqual([json[0].paper, json[0].z], [null, null], 'no references: null');
  assert.deepEqual(json[0].row, { algorithm: 'sgd' });
  assert.deepEqual(json[0].col, { 'device.n_states': null });
  const a4 = json.find(
    (c) => canonicalJson(c.row) === '{"algorithm":"analog-sgd"}' && canonicalJson(c.col) === '{"device.n_states":4}',
  );
  assert.equal(a4?.n, 3);
  assert.equal((a4?.runs as string[]).length, 3);
});

test('least squares: weight_error by default, lr rows, single column', () => {
  const t = buildSweepPivot(db, 'ls');
  assert.deepEqual([t.rows, t.cols, t.metric], [['lr'], [], 'weight_error']);
  assert.deepEqual(t.rowLabels, [['0.01'], ['0.1']]);
  close(cellAt(t, ['0.1'], [])?.mean ?? null, 1 + 1.5, 'lr 0.1: 1 + seed');
  const md = renderSweepTable(db, 'ls');
  assert.match(md, /\| lr \| weight_error \|/);
  // the interval clipped at 0: an error is never negative
  assert.match(md, /\| 0\.1 \| 2\.500 ± 0\.7071 \[0, 8\.853\] \(n=2\) \|/);
  const csv = parseCsv(formatPivotCsv(t));
  assert.deepEqual(
    [csv[1][csv[0].indexOf('unit')], csv[1][csv[0].indexOf('mean')]],
    ['', '1.6'],
    'errors as stored (lr 0.01: 0.1 + seed), without unit',
  );
});

test('export: one row per run, config flattened, swept values, metrics, provenance; CSV quoting', () => {
  const runs = sweepRuns(db, requireSweep(db, 'qs').id);
  const table = exportRows(runs);
  const csv = formatExport(table, 'csv');
  const rows = parseCsv(csv);
  assert.equal(rows.length, 1 + 21);
  const header = rows[0];
  for (const c of [
    'hash',
    'status',
    'attempt',
    'error',
    'swept.device.n_states',
    'swept.seed',
    'swept.algorithm',
    'swept.n_tiles',
    'config.algorithm',
    'config.device.n_states',
    'config.n_tiles',
    'config.model.hidden',
    'config.seed',
    'epochs',
    'test_accuracy',
    'wall_ms',
    'worker',
    'package_version',
    'numerics_version',
    'git_commit',
    'node_version',
    'host',
  ]) {
    assert.ok(header.includes(c), `column ${c}`);
  }
  assert.ok(
    rows.every((r) => r.length === header.length),
    'every row has every column',
  );
  const col = (r: string[], c: string) => r[header.indexOf(c)];
  const failed = rows.find((r) => col(r, 'status') === 'failed');
  assert.ok(failed);
  assert.equal(col(failed, 'error'), 'diverged: "loss", then NaN');
  assert.match(csv, /,"diverged: ""loss"", then NaN",/, 'quotes doubled inside a quoted field');
  assert.equal(col(rows[1], 'config.model.hidden'), '[8,4]');
  assert.match(csv, /,"\[8,4\]",/, 'a field with a comma is quoted');
  assert.equal(col(rows[1], 'config.device.n_states'), '', 'sgd has no device');
  assert.equal(col(rows[1], 'swept.device.n_states'), '16', 'but was assigned one');
  assert.equal(col(rows[1], 'test_accuracy'), String(0.9 - 0.1));
  assert.equal(col(rows[1], 'epochs'), '2');
  assert.equal(col(rows[1], 'worker'), 'w1');
  const configCols = header.filter((h) => h.startsWith('config.'));
  assert.deepEqual(configCols, [...configCols].sort(), 'config columns in a stable (sorted) order');
  const jsonl = formatExport(table, 'jsonl')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(jsonl.length, 21);
  assert.deepEqual(jsonl[0]['config.model.hidden'], [8, 4]);
  assert.equal(jsonl[0]['config.device.n_states'], null);
  assert.deepEqual(Object.keys(jsonl[5]), table.columns);
});

test('status: counts by state, progress, throughput over the last minutes, ETA, workers', () => {
  db.prepare(
    'INSERT INTO workers (id, name, host, slots, free_slots, connected, registered_at, last_heartbeat_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ).run('w1', 'node-a', 'a.lan', 8, 2, 1, T0, T0 + 5 * MIN);
  try {
    // qs: 19 runs finished from T0 + 1 min 10 s every 10 s, all leased (started) at T0
    const now = T0 + 6 * MIN;
    const r = statusReport(db, now);
    const qs = r.sweeps.find((s) => s.name === 'qs');
    assert.ok(qs);
    assert.deepEqual([qs.total, qs.queued, qs.running, qs.done, qs.failed], [21, 1, 1, 18, 1]);
    close(qs.progress, (100 * 19) / 21, 'progress');
    close(qs.runsPerMinute, 19 / 6, 'finished per minute since the first of them started');
    close(qs.etaMs, (2 / (19 / 6)) * MIN, 'ETA');
    const ls = r.sweeps.find((s) => s.name === 'ls');
    assert.deepEqual([ls?.done, ls?.etaMs], [4, 0]);
    // an hour later nothing finished in the window: no throughput, ETA unknown
    const later = statusReport(db, T0 + 60 * MIN).sweeps.find((s) => s.name === 'qs');
    assert.deepEqual([later?.runsPerMinute, later?.etaMs], [0, null]);
    assert.equal(r.workers.length, 1);
    assert.deepEqual([r.workers[0].name, r.workers[0].connected, r.workers[0].heartbeatAgeMs], ['node-a', true, MIN]);
  } finally {
    db.prepare('DELETE FROM workers').run();
  }
});

test('query: writes and statements without rows are refused before running, SELECT returns rows', () => {
  // a writable connection: the guard itself must refuse (the read-only connection is a second wall)
  const before = (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  for (const sql of [
    "INSERT INTO sweeps (name, spec_json, created_at, updated_at) VALUES ('x', '{}', 0, 0)",
    "UPDATE runs SET status = 'queued'",
    'DELETE FROM runs',
    'DROP TABLE results',
    'CREATE TABLE t (a)',
    'PRAGMA user_version = 9',
    `ATTACH '${join(tmpdir(), 'aimc-attach-test.db')}' AS other`,
    "VACUUM INTO '/tmp/x.db'",
    'SELECT 1; DELETE FROM runs',
  ]) {
    assert.throws(() => readonlyQuery(db, sql), QueryError, sql);
  }
  assert.throws(() => readonlyQuery(db, 'DELETE FROM runs'), /refused: DELETE writes to the database/);
  assert.throws(() => readonlyQuery(db, 'ATTACH ":memory:" AS m'), /refused: ATTACH returns no rows/);
  assert.throws(() => readonlyQuery(db, 'SELEC 1'), /query: near "SELEC": syntax error/);
  assert.equal((db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, before);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const r = readonlyQuery(
    db,
    'SELECT status, count(*) AS n FROM runs r JOIN sweep_runs s ON s.run_hash = r.hash WHERE s.sweep_id = 1 ' +
      'GROUP BY status ORDER BY status',
  );
  assert.deepEqual(r.columns, ['status', 'n']);
  assert.deepEqual(r.rows, [
    ['done', 18],
    ['failed', 1],
    ['queued', 1],
    ['running', 1],
  ]);
  const ro = openStoreReadonly(fixture.file);
  try {
    assert.deepEqual(readonlyQuery(ro, 'SELECT count(*) AS n FROM results').rows, [[22]]);
    assert.throws(() => readonlyQuery(ro, 'DELETE FROM results'), QueryError);
  } finally {
    ro.close();
  }
});

test('pivot and plot: --epoch tail averages the last 20 % of epochs per run, then over seeds', () => {
  const tdb = openStore(join(mkdtempSync(join(tmpdir(), 'aimc-tail-')), 'tail.db'));
  const q = new SqliteRunQueue(tdb);
  const runs = [1, 2].map((seed) => ({
    hash: `${seed}`.repeat(64),
    configJson: JSON.stringify({ algorithm: 'residual', seed }),
    numericsVersion: 2,
    assignmentsJson: JSON.stringify({ seed }),
  }));
  const { sweepId } = q.recordSweep({ name: 'tail', description: '', specJson: '{}', source: 'tail.yaml', runs }, T0);
  for (const [i, lease] of q.lease('w', 2, T0, 1000, sweepId).entries()) {
    // weight error 10 - epoch (+ 2 for the second seed): epochs 9 and 10 are the last 20 % of 10
    const history = Array.from({ length: 11 }, (_, e) => ({
      epoch: e,
      train_loss: 1,
      weight_error: 10 - e + 2 * i,
      pulses: {},
    }));
    assert.deepEqual(q.complete('w', lease, { numerics_version: 2, history, weights_digest: 'd' }, T0), {
      accepted: true,
    });
  }
  const cell = (epoch: 'final' | 'best' | 'tail') =>
    buildSweepPivot(tdb, 'tail', { rows: ['algorithm'], cols: [], metric: 'weight_error', epoch }).cells[0];
  close(cell('final').mean, 1, 'final: (0 + 2) / 2');
  close(cell('tail').mean, 1.5, 'tail: ((1 + 0) / 2 + (3 + 2) / 2) / 2');
  assert.match(
    formatPivotMarkdown(buildSweepPivot(tdb, 'tail', { epoch: 'tail', metric: 'weight_error' })),
    /mean of the last 20 % of epochs/,
  );
  // the plot reads the same tail means as the table (src/store/results-read.ts holds the rule)
  const plot = buildSweepPlot(tdb, 'tail', {
    x: 'seed',
    metric: 'weight_error',
    epoch: 'tail',
    group: [],
    facet: null,
  });
  const ys = plot.figure.panels[0].series[0].points.map((p) => p.y);
  assert.deepEqual(ys, [0.5, 2.5], 'plot uses the same rule');
  tdb.close();
});

test('a field canonical configs leave out at its default reads as that default where its group is present', () => {
  assert.deepEqual(resolvedValueAt({ update: { desired_bl: 31 } }, 'update.closed_form_pulses'), {
    present: true,
    value: false,
  });
  assert.deepEqual(resolvedValueAt({ update: { closed_form_pulses: true } }, 'update.closed_form_pulses'), {
    present: true,
    value: true,
  });
  // no update section (the digital baseline), or a field without omitAtDefault: absent
  assert.deepEqual(resolvedValueAt({ seed: 1 }, 'update.closed_form_pulses'), { present: false, value: undefined });
  assert.deepEqual(resolvedValueAt({ update: {} }, 'update.desired_bl'), { present: false, value: undefined });
  // ... and only where the field applies: task.source is an mnist field
  assert.deepEqual(resolvedValueAt({ task: { kind: 'mnist' } }, 'task.source'), { present: true, value: 'digits' });
  assert.deepEqual(resolvedValueAt({ task: { kind: 'fashion-mnist' } }, 'task.source'), {
    present: false,
    value: undefined,
  });
});
