/**
 * What a reader of a table, plot or report is shown by default, and how far to trust it: the
 * sweep's `view:` section (grammar, file:line errors, stored with the definition only when given,
 * used by `table`, `run`'s closing table, `plot` and `report` when no option is given, and how
 * options override it), the shipped sweeps' views against the "Read with" lines of their
 * descriptions, `--stat median` and the 95 % t-interval of the mean, the units of CSV and JSON,
 * and the report's cost beside accuracy (old results without the estimates, non-default cost
 * constants, the scatter). Databases are populated through SqliteRunQueue (no training).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsv, runCli } from './helpers.ts';
import { sweepDefinitionJson } from '../src/coordinator/scheduler.ts';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { costView } from '../src/report/cost.ts';
import { buildSweepReport } from '../src/report/html.ts';
import { meanStdText } from '../src/report/html-tables.ts';
import { buildSweepPivot, renderSweepTable } from '../src/report/pivot.ts';
import { buildSweepPlot } from '../src/report/plot.ts';
import { summarize, tQuantile975 } from '../src/report/stats.ts';
import { renderSvg } from '../src/report/svg.ts';
import { formatPivotCsv, formatPivotMarkdown } from '../src/report/table-formats.ts';
import { openStore } from '../src/store/open.ts';
import { requireSweep, sweepRuns } from '../src/store/results-read.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson } from '../src/sweep/canonical.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText, readSweepFile, SweepError } from '../src/sweep/spec.ts';

const expand = (yaml: string) => expandSweep(parseSweepText(yaml, 'sweeps/v.yaml'));
const fails = (yaml: string, re: RegExp) =>
  assert.throws(
    () => expand(yaml),
    (e: unknown) => e instanceof SweepError && re.test(e.message),
    `expected ${re}`,
  );
const close = (a: number | null | undefined, b: number, what: string, tol = 1e-9) =>
  assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);

const LS = `name: v
base: { task: { in_size: 2, out_size: 1, n_samples: 4 }, epochs: 10 }
grid: { seed: [1, 2, 3] }
cases:
  - { algorithm: analog-sgd }
  - { algorithm: residual, n_tiles: [1, 2] }
`;

// ---- the grammar ------------------------------------------------------------------------------

test('view: parsed with the sweep (lists, or keys separated by commas as on the command line)', () => {
  const spec = parseSweepText(
    `${LS}view: { rows: [algorithm, n_tiles], metric: step_weight_error, epoch: tail, stat: median }\n`,
    'v.yaml',
  );
  assert.deepEqual(spec.view, {
    rows: ['algorithm', 'n_tiles'],
    metric: 'step_weight_error',
    epoch: 'tail',
    stat: 'median',
  });
  assert.deepEqual(parseSweepText(`${LS}view:\n  rows: algorithm, n_tiles\n  cols: []\n`, 'v.yaml').view, {
    rows: ['algorithm', 'n_tiles'],
    cols: [],
  });
  assert.equal(parseSweepText(LS, 'v.yaml').view, null);
  assert.equal(expand(`${LS}view: { rows: [algorithm, n_tiles], metric: step_weight_error }\n`).runs.length, 9);
});

test('view: errors name the file, the line and the field', () => {
  fails(
    `${LS}view: { rows: [algorithm], colour: red }\n`,
    /^sweeps\/v\.yaml:7: view\.colour: unknown view field \(allowed: rows, cols, metric, epoch, stat\)$/,
  );
  fails(
    `${LS}view:\n  rows:\n    - algorithm\n    - device.n_sates\n`,
    /^sweeps\/v\.yaml:10: view\.rows\[1\]: device\.n_sates: unknown run config field$/,
  );
  fails(
    `${LS}view:\n  cols: [device]\n`,
    /^sweeps\/v\.yaml:8: view\.cols\[0\]: device is a group of fields; name one of its fields/,
  );
  fails(
    `${LS}view:\n  metric: accuracy\n`,
    /^sweeps\/v\.yaml:8: view\.metric: expected one of train_loss, .*, got "accuracy"$/,
  );
  fails(`${LS}view:\n  epoch: last\n`, /^sweeps\/v\.yaml:8: view\.epoch: expected one of final, best, tail/);
  fails(`${LS}view:\n  stat: mode\n`, /^sweeps\/v\.yaml:8: view\.stat: expected one of mean, median, got "mode"$/);
  fails(`${LS}view:\n  rows: [device]\n  cols: [device.n_states]\n`, /view\.rows\[0\]: device is a group/);
  fails(
    `${LS}view:\n  rows: [algorithm]\n  cols: [n_tiles, algorithm]\n`,
    /^sweeps\/v\.yaml:9: view\.cols: algorithm \(view\.rows\) and algorithm overlap; name each key once$/,
  );
  fails(`${LS}view:\n  metric: wall_ms\n  epoch: tail\n`, /view\.epoch: tail: wall_ms is per run, not per epoch/);
  fails(`${LS}view: {}\n`, /^sweeps\/v\.yaml:7: view: expected a mapping with any of rows, cols, metric, epoch, stat$/);
  fails(`${LS}view: [algorithm]\n`, /view: expected a mapping/);
  // against the runs the sweep expands to
  fails(
    `${LS}view:\n  rows: [algorithm]\n  cols: [gamma]\n`,
    /^sweeps\/v\.yaml:9: view\.cols\[0\]: gamma: no run of the sweep has this key$/,
  );
  fails(
    `${LS}view:\n  metric: test_accuracy\n`,
    /^sweeps\/v\.yaml:8: view\.metric: test_accuracy: only classification runs record it, and the sweep's runs are all least squares$/,
  );
  fails(
    `name: c\nbase: { task: { kind: mnist, train_size: 10, test_size: 10 }, epochs: 1 }\ngrid: { seed: [1] ` +
      `}\nview: { metric: step_weight_error }\n`,
    /view\.metric: step_weight_error: only least-squares runs record it, and the sweep has none \(its tasks: mnist\)/,
  );
});

test('view: stored with the definition only when given, so that old definitions keep their text', () => {
  const plain = parseSweepText(LS, 'v.yaml');
  assert.equal(
    sweepDefinitionJson(plain),
    canonicalJson({ base: plain.base, grid: plain.grid, cases: plain.cases, zip: plain.zip, exclude: plain.exclude }),
  );
  const viewed = parseSweepText(`${LS}view: { stat: median, rows: [algorithm, n_tiles] }\n`, 'v.yaml');
  assert.deepEqual((JSON.parse(sweepDefinitionJson(viewed)) as { view: unknown }).view, {
    rows: ['algorithm', 'n_tiles'],
    stat: 'median',
  });
});

/** The options of `aimc-sweep table` on a line of a description, as a view. */
function readWith(description: string, name: string): Record<string, unknown> | null {
  const line = description.split('\n').find((l) => l.includes(`aimc-sweep table --sweep ${name} `));
  if (!line) return null;
  const words = line.trim().split(/\s+/);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < words.length; i++) {
    const k = words[i].replace(/^--/, '');
    if (!words[i].startsWith('--') || k === 'sweep') continue;
    out[k] = k === 'rows' || k === 'cols' ? words[i + 1].split(',') : words[i + 1];
  }
  return out;
}

test('shipped sweeps: the view is exactly the "Read with" command of the description', () => {
  const dir = new URL('../sweeps/', import.meta.url).pathname;
  const withView = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => readSweepFile(join(dir, f)));
  for (const name of ['residual-toy', 'closed-form-check', 'quickstart', 'states-by-algorithm'])
    assert.ok(
      withView.some((s) => s.name === name && s.view),
      `${name} has a view`,
    );
  for (const spec of withView) {
    const read = readWith(spec.description, spec.name);
    if (spec.name.startsWith('paper-')) assert.ok(read && spec.view, `${spec.name}: a Read with line and a view`);
    if (read) assert.deepEqual(spec.view, read, `${spec.name}: the view is the description's command`);
  }
  // the quickstart's description has none: its view is the README's table (rows algorithm, columns states)
  const qs = withView.find((s) => s.name === 'quickstart');
  assert.deepEqual(qs?.view, { rows: ['algorithm'], cols: ['device.n_states'] });
  const toy = withView.find((s) => s.name === 'residual-toy');
  assert.deepEqual(toy?.view, { rows: ['algorithm', 'n_tiles'], metric: 'step_weight_error', epoch: 'tail' });
});

// ---- statistics ---------------------------------------------------------------------------------

test('stats: t quantiles, the interval of the mean, median, clipping', () => {
  close(tQuantile975(1), 12.7062047, 't(1)');
  close(tQuantile975(2), 4.30265273, 't(2)');
  close(tQuantile975(30), 2.04227246, 't(30)');
  close(tQuantile975(40), 2.02107539, 't(40), expansion', 1e-5);
  close(tQuantile975(120), 1.97993041, 't(120), expansion', 1e-6);
  assert.throws(() => tQuantile975(0), RangeError);
  const s = summarize([1, 2, 3, 10]);
  assert.deepEqual([s.median, s.min, s.max], [2.5, 1, 10]);
  close(s.ci95?.[0], 4 - (3.18244631 * s.std!) / 2, 'lower');
  assert.deepEqual(summarize([5]).ci95, null, 'n = 1: no interval');
  assert.deepEqual(summarize([0.1, 0.9], [0, 1]).ci95, [0, 1], 'clipped to the metric range');
  assert.equal(meanStdText(6.30123, 0.01493), '6.301 ± 0.015');
  assert.equal(meanStdText(10.72, 0.003661), '10.72 ± <0.01', 'a spread below the printed digits says so');
  assert.equal(meanStdText(3.931e-5, 2.7e-6), '3.931e-5 ± 3e-6');
  assert.equal(meanStdText(6862, 0), '6862', 'no ± 0');
  assert.equal(meanStdText(270, null), '270', 'bytes are whole');
  assert.equal(meanStdText(5.011, 9e-16), '5.011', 'rounding noise is no spread');
});

// ---- a database: the view at work ---------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'aimc-view-'));
const DB = join(dir, 'results.db');
const VIEWED =
  `${LS.replace('name: v', 'name: viewed')}view: { rows: [algorithm, n_tiles], metric: step_weight_error, epoch: ` +
  `tail }\n`;
const CLS = `name: cls
base: { task: { kind: mnist, train_size: 10, test_size: 10 }, epochs: 2 }
grid: { device.n_states: [4, 16], seed: [1, 2, 3] }
cases:
  - { algorithm: sgd }
  - { algorithm: analog-sgd }
  - { algorithm: mp, cost.flop_pj: 1 }
  - { algorithm: residual, n_tiles: [2, 3] }
`;
/**
 * the tail (epochs 9, 10) of step_weight_error: 0.1 x tiles-or-4 x seed; the final weight_error: 100 (a phase snapshot)
 */
const tailOf = (tiles: number, seed: number) => 0.1 * tiles * seed;
const ACC: Record<string, number> = { sgd: 0.9, 'analog-sgd': 0.5, mp: 0.85, residual: 0.7 };
const NS: Record<string, number> = { sgd: 70, 'analog-sgd': 6.3, mp: 72, residual: 9 };

function record(q: SqliteRunQueue, yaml: string, withCost: boolean): void {
  const spec = parseSweepText(yaml, `sweeps/${yaml.slice(6, yaml.indexOf('\n'))}.yaml`);
  const { runs } = expandSweep(spec);
  const id = q.recordSweep(
    {
      name: spec.name,
      description: '',
      specJson: sweepDefinitionJson(spec),
      source: spec.file,
      runs: runs.map((r) => ({
        hash: r.hash,
        configJson: r.configJson,
        numericsVersion: 1,
        assignmentsJson: canonicalJson(r.assignments),
      })),
    },
    Date.now(),
  ).sweepId;
  for (const lease of q.lease('w', 1000, Date.now(), 3_600_000, id)) {
    const c = JSON.parse(lease.configJson) as {
      algorithm: string;
      seed: number;
      n_tiles?: number;
      epochs: number;
      task: { kind: string };
      device?: { n_states: number };
    };
    const history: EpochMetrics[] = [];
    for (let e = 0; e <= c.epochs; e++) {
      if (c.task.kind === 'least-squares') {
        const tail = tailOf(c.n_tiles ?? 4, c.seed);
        history.push({
          epoch: e,
          train_loss: 1,
          weight_error: e === c.epochs ? 100 : 50,
          ...(e === 0 ? {} : { step_loss: 1, step_weight_error: e >= 9 ? tail : 7 }),
          pulses: {},
        });
      } else {
        const acc =
          ACC[c.algorithm] +
          (c.device?.n_states === 16 ? 0.05 : 0) +
          0.01 * (c.seed - 2) +
          (c.n_tiles === 3 ? 0.01 : 0);
        const cost =
          withCost && e > 0
            ? {
                update_ns: NS[c.algorithm] * (1 + 0.001 * c.seed),
                energy_nj: c.algorithm === 'sgd' ? 0 : 0.25,
                storage_bytes: 270,
              }
            : {};
        history.push({
          epoch: e,
          train_loss: 1,
          test_loss: 1,
          test_accuracy: e === 0 ? 0.1 : acc,
          train_accuracy: acc,
          ...cost,
          pulses: {},
        });
      }
    }
    const result: RunResult = {
      numerics_version: 1,
      config: c as never,
      history,
      final: history[history.length - 1],
      weights_digest: 'd',
      wall_ms: 5,
    };
    assert.equal(q.complete('w', lease, result, Date.now()).accepted, true);
  }
}
{
  const db = openStore(DB);
  const q = new SqliteRunQueue(db);
  record(q, VIEWED, false);
  record(q, CLS, true);
  // other runs (3 epochs): results recorded before the cost estimates existed
  record(q, CLS.replace('name: cls', 'name: old').replace('epochs: 2', 'epochs: 3'), false);
  db.close();
}
const db = openStore(DB);

test('table: without options the sweep is read as its view says; run prints the same table', () => {
  const t = buildSweepPivot(db, 'viewed');
  assert.deepEqual(
    [t.rows, t.cols, t.metric, t.epoch, t.stat],
    [['algorithm', 'n_tiles'], [], 'step_weight_error', 'tail', 'mean'],
  );
  const r2 = t.cells.find((c) => t.rowLabels[c.rowIndex].join() === 'residual,2');
  close(
    r2?.mean,
    (tailOf(2, 1) + tailOf(2, 2) + tailOf(2, 3)) / 3,
    'the tail mean of step_weight_error, not the final weight_error',
  );
  const md = renderSweepTable(db, 'viewed');
  assert.match(
    md,
    /^### viewed: step_weight_error, mean of the last 20 % of epochs, mean ± std \[95 % CI\] over seeds \(9 runs: 9 done\)\n/,
  );
  assert.match(md, /\n\| algorithm \| n_tiles \| step_weight_error \|\n/);
  assert.match(md, /\n\| residual \| 2 \| 0\.4000 ± 0\.2000 \[0, 0\.8968\] \(n=3\) \|\n/);
});

test(
  'table: options override the view; its layout only when neither --rows nor --cols, its epoch only with its ' +
    'metric',
  () => {
    const rowsOnly = buildSweepPivot(db, 'viewed', { rows: ['algorithm'] });
    assert.deepEqual(
      [rowsOnly.rows, rowsOnly.metric, rowsOnly.epoch],
      [['algorithm'], 'step_weight_error', 'tail'],
      'the rest of the view still applies',
    );
    const other = buildSweepPivot(db, 'viewed', { metric: 'weight_error' });
    assert.deepEqual([other.metric, other.epoch], ['weight_error', 'final'], "another metric: not the view's epoch");
    close(other.cells[0].mean, 100, 'the final weight_error');
    assert.equal(
      buildSweepPivot(db, 'viewed', { metric: 'step_weight_error' }).epoch,
      'tail',
      'the same metric keeps its epoch',
    );
    assert.equal(buildSweepPivot(db, 'viewed', { epoch: 'final' }).epoch, 'final');
    assert.equal(
      buildSweepPivot(db, 'viewed', { metric: 'wall_ms' }).epoch,
      'final',
      'wall_ms never takes the tail of the view',
    );
    const median = buildSweepPivot(db, 'viewed', { stat: 'median' });
    assert.equal(median.stat, 'median');
    assert.match(formatPivotMarkdown(median), /\| residual \| 2 \| 0\.4000 \[0\.2000, 0\.6000\] \(n=3\) \|/);
    assert.match(formatPivotMarkdown(median), /over seeds .*\n[\s\S]*median \[min, max\]: the middle value/);
    // a sweep recorded without a view is read as before
    const plain = buildSweepPivot(db, 'cls');
    assert.deepEqual(
      [plain.rows, plain.cols, plain.metric, plain.epoch, plain.stat],
      [['algorithm'], ['device.n_states'], 'test_accuracy', 'final', 'mean'],
    );
  },
);

test('cli: table --stat median; csv in percent with the unit; the view without options', async () => {
  const [median, csv, viewed] = await Promise.all([
    runCli('table', '--sweep', 'cls', '--db', DB, '--stat', 'median'),
    runCli('table', '--sweep', 'cls', '--db', DB, '--format', 'csv'),
    runCli('table', '--sweep', 'viewed', '--db', DB),
  ]);
  assert.equal(median.code, 0, median.stderr);
  assert.match(median.stdout, /^### cls: test_accuracy \(%\), final epoch, median \[min, max\] over seeds/);
  assert.match(
    median.stdout,
    /\n\| analog-sgd \| 50\.00 \[49\.00, 51\.00\] \(n=3\) \| 55\.00 \[54\.00, 56\.00\] \(n=3\) \| {2}\|\n/,
  );
  assert.equal(csv.code, 0, csv.stderr);
  const rows = parseCsv(csv.stdout);
  const col = (name: string) => rows[0].indexOf(name);
  const a4 = rows.find((r) => r[0] === 'analog-sgd' && r[1] === '4');
  assert.deepEqual(
    [a4?.[col('mean')], a4?.[col('unit')], a4?.[col('median')], a4?.[col('min')]],
    ['50', '%', '50', '49'],
  );
  close(Number(a4?.[col('ci95_hi')]), 50 + (4.30265273 * 1) / Math.sqrt(3), 'the interval in percent');
  assert.equal(viewed.code, 0, viewed.stderr);
  assert.match(viewed.stdout, /step_weight_error, mean of the last 20 % of epochs/);
});

test('plot: the view decides metric, lines and the epoch statistic of a key on x; median draws the range', () => {
  const curves = buildSweepPlot(db, 'viewed');
  assert.deepEqual(
    [curves.metric, curves.group, curves.epoch],
    ['step_weight_error', ['algorithm', 'n_tiles'], 'final'],
  );
  const byTiles = buildSweepPlot(db, 'viewed', { x: 'n_tiles' });
  assert.deepEqual(
    [byTiles.group, byTiles.epoch],
    [['algorithm'], 'tail'],
    'n_tiles leaves the lines; the tail mean as the table',
  );
  const pt = byTiles.figure.panels[0].series.flatMap((s) => s.points).find((p) => p.x === 2);
  close(pt?.y, 0.4, 'the tail mean at 2 tiles');
  const median = buildSweepPlot(db, 'viewed', { x: 'n_tiles', stat: 'median' });
  const mp = median.figure.panels[0].series.flatMap((s) => s.points).find((p) => p.x === 2);
  assert.deepEqual([mp?.y, mp?.std, mp?.bounds?.map((b) => Number(b.toFixed(12)))], [0.4, null, [0.2, 0.6]]);
  assert.match(
    median.figure.subtitle ?? '',
    /mean of the last 20 % of epochs, median and range \(lowest to highest\) over seeds/,
  );
  assert.match(renderSvg(median.figure), /class="errorbar"/);
});

test(
  'report: the view is said; cost beside accuracy with "without value" for old results, constants, the ' + 'scatter',
  () => {
    const viewed = buildSweepReport(db, 'viewed', { db: DB, now: 0 }).html;
    assert.match(viewed, /its <code>view:<\/code>: rows algorithm, n_tiles; metric step_weight_error; epoch tail/);
    assert.match(viewed, /viewed: step_weight_error, mean of the last 20 % of epochs/);

    const r = buildSweepReport(db, 'cls', { db: DB, now: 0 });
    const table = r.html.slice(
      r.html.indexOf('<table class="cost">'),
      r.html.indexOf('</table>', r.html.indexOf('<table class="cost">')),
    );
    assert.match(table, /<th>update_ns \(ns\)<\/th>|<th title="[^"]*">update_ns \(ns\)<\/th>/);
    assert.match(table, /<th title="[^"]*">cost constants<\/th>/);
    assert.match(
      table,
      /<tr><th>mp<\/th><th>4<\/th><td class="num">85\.00 ± 1\.00 \(n=3\)<\/td><td class="num">72\.14 ± 0\.07<\/td>/,
    );
    assert.match(table, /<td class="constants">cost\.flop_pj=1<\/td><\/tr>/);
    assert.match(table, /<tr><th>analog-sgd<\/th><th>4<\/th>.*<td class="constants">defaults<\/td><\/tr>/);
    assert.match(
      table,
      /<td class="num" title="no analog array is read or pulsed[^"]*">0 ‡<\/td>/,
      'digital SGD: 0 nJ, marked',
    );
    assert.match(r.html, /flop_pj is 0 unless set/);
    assert.ok(r.cost.figure, 'a scatter');
    const svg = renderSvg(r.cost.figure);
    assert.equal(r.cost.figure.panels.length, 2, 'one panel per number of states');
    assert.equal(
      (svg.match(/<circle class="point"/g) ?? []).length,
      2 * 4,
      'analog-sgd, mp and residual per panel, sgd (no device) in both',
    );
    assert.doesNotMatch(svg, /class="series"/, 'points, no lines');
    assert.match(svg, /<text class="tag"[^>]*>residual<\/text>/);
    assert.match(svg, /update_ns \(ns per vector update\) \(log scale\)/);
    assert.ok(r.cost.figure.xLog);

    const old = buildSweepReport(db, 'old', { db: DB, now: 0 });
    assert.equal(old.cost.figure, null);
    const oldTable = old.html.slice(
      old.html.indexOf('<table class="cost">'),
      old.html.indexOf('</table>', old.html.indexOf('<table class="cost">')),
    );
    assert.doesNotMatch(oldTable, />0<\/td>/, 'never 0');
    assert.equal((oldTable.match(/without value \((3|6) runs\)/g) ?? []).length, 3 * 7, 'three estimates x 7 cells');
    assert.match(
      old.html,
      /No scatter: 7 cells without update_ns \(results recorded before the cost estimates existed\) are not drawn/,
    );
  },
);

test('cost view: cells line up with the table; cost references would show there', () => {
  const pivot = buildSweepPivot(db, 'cls');
  const runs = sweepRuns(db, requireSweep(db, 'cls').id);
  const v = costView(pivot, runs);
  assert.equal(v.rows.length, pivot.cells.length);
  for (const row of v.rows) for (const c of row.costs) assert.deepEqual(c.hashes, row.cell.hashes);
  // keys some algorithms lack (n_tiles) label the points; the number of states makes the panels
  const byTiles = costView(
    buildSweepPivot(db, 'cls', { rows: ['algorithm', 'n_tiles'], cols: ['device.n_states'] }),
    runs,
  );
  const tags = byTiles.figure?.panels[0].series.flatMap((s) => s.points.map((p) => p.tag));
  assert.deepEqual(tags, ['sgd', 'analog-sgd', 'mp', 'residual n_tiles=2', 'residual n_tiles=3']);
  assert.deepEqual(
    byTiles.figure?.panels.map((p) => p.title),
    ['device.n_states=4', 'device.n_states=16'],
  );
  const csv = formatPivotCsv(v.pivots[0]);
  assert.match(csv.split('\r\n')[0], /,unit,/);
  assert.match(csv, /,ns,/);
});

test('report file: written by the cli', async () => {
  const out = join(dir, 'cls.html');
  const r = await runCli('report', '--sweep', 'cls', '--db', DB, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(out, 'utf8'), /<h2 id="cost">Cost beside accuracy<\/h2>/);
  assert.match(r.stdout, /report of cls \(3 plots and the cost scatter, 0 failed runs\)/);
});
