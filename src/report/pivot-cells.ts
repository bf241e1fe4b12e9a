/**
 * The pivot of runs (pure): runs grouped by the values of the row and column keys (any dotted
 * run config keys), each cell the mean and sample standard deviation of one metric over its done
 * runs (the seeds), the 95 % t-interval of the mean, and the median, min and max of its values
 * (for `--stat median`), with the count of runs done, failed and still queued or running.
 *
 * A cell whose runs differ in a key other than `seed` and the layout's keys is reported (a mean
 * over an unseen parameter is not a mean over seeds). When the sweep's definition gives the
 * papers' numbers for the metric (`reference:`), each cell whose runs a reference cell matches
 * carries that paper value and z, the difference in units of the combined standard deviation
 * (src/sweep/reference.ts picks the reference of a cell).
 */
import { type KeyValue, resolvedValueAt } from '../core/config/resolved-value.ts';
import type { Metric } from '../core/tasks/run-result.ts';
import type { SweepRunRow } from '../store/results-read.ts';
import { describeWhere, referenceForCell, type ReferenceCell, referenceMatches } from '../sweep/reference.ts';
import type { EpochChoice, Stat } from '../sweep/view.ts';
import {
  differingKeys,
  keysOverlap,
  keyValuesText,
  listWithMore,
  type MixedKey,
  mixedWarning,
  orderedTuples,
  tupleId,
  valueText,
} from './key-values.ts';
import type { Layout } from './layout.ts';
import { printedScale, storedRange } from './metric-text.ts';
import { summarize, zScore } from './stats.ts';

type RunStatus = SweepRunRow['status'];

/** One run as the pivot sees it: `value` is the chosen metric of a done run (null otherwise). */
export interface PivotRun {
  hash: string;
  status: RunStatus;
  config: Record<string, unknown>;
  value: number | null;
}

export type { MixedKey };

/** A paper's value for a cell, in the unit of the cell's mean (accuracies as fractions). */
export interface PaperValue {
  mean: number;
  /** null: not given by the paper */
  std: number | null;
  source: string;
  /** the reference cell's keys and values */
  where: Record<string, unknown>;
}

export interface PivotCell {
  /** index into `rowLabels` / `colLabels` */
  rowIndex: number;
  colIndex: number;
  /** the cell's key values (absent keys as `present: false`) */
  row: KeyValue[];
  col: KeyValue[];
  /** over the done runs that have the metric */
  mean: number | null;
  /** sample standard deviation (n - 1); null for n < 2 */
  std: number | null;
  /** the 95 % t-interval of the mean (clipped to the metric's range); null for n < 2 */
  ci95: [number, number] | null;
  /** median, lowest and highest value over the done runs; null when n = 0 */
  median: number | null;
  min: number | null;
  max: number | null;
  n: number;
  /** done runs without a value for the metric */
  missing: number;
  failed: number;
  queued: number;
  running: number;
  /** keys other than seed and the layout's in which the cell's runs differ */
  mixed: MixedKey[];
  hashes: string[];
  /** the paper's value (the sweep's reference for this cell and metric); null when none */
  paper: PaperValue | null;
  /**
   * (mean - paper mean) / sqrt(std^2 + paper std^2), in the printed unit; null without a paper
   * value or a mean, for n < 2 (no std of ours), and when both stds are 0
   */
  z: number | null;
}

export interface PivotTable {
  sweep: string;
  metric: Metric;
  epoch: EpochChoice;
  /** what the cells show: mean ± std [95 % interval], or median [min, max] */
  stat: Stat;
  rows: string[];
  cols: string[];
  /** value texts per row / column, in display order */
  rowLabels: string[][];
  colLabels: string[][];
  /** cells that hold at least one run, row-major */
  cells: PivotCell[];
  counts: Record<RunStatus, number> & { total: number };
  /** cells that average over more than the seed (marked †) */
  warnings: string[];
  /** references of the metric that no cell shows, or that disagree on a cell */
  referenceWarnings: string[];
}

/** The pivot of `runs` (in expansion order) for a layout, with the papers' values of `references`; pure. */
export function pivotRuns(
  sweep: string,
  runs: readonly PivotRun[],
  layout: Layout,
  epoch: EpochChoice = 'final',
  references: readonly ReferenceCell[] = [],
  stat: Stat = 'mean',
): PivotTable {
  const { rows, cols, metric } = layout;
  const keys = [...rows, ...cols];
  const values = runs.map((r) => keys.map((k) => resolvedValueAt(r.config, k)));
  const rowTuples = orderedTuples(values.map((v) => v.slice(0, rows.length)));
  const colTuples = orderedTuples(values.map((v) => v.slice(rows.length)));
  const rowIndex = new Map(rowTuples.map((t, i) => [t.id, i]));
  const colIndex = new Map(colTuples.map((t, i) => [t.id, i]));

  const byCell = new Map<number, { row: KeyValue[]; col: KeyValue[]; runs: PivotRun[] }>();
  const nCols = colTuples.length;
  runs.forEach((r, i) => {
    const row = values[i].slice(0, rows.length);
    const col = values[i].slice(rows.length);
    const at = (rowIndex.get(tupleId(row)) as number) * nCols + (colIndex.get(tupleId(col)) as number);
    const cell = byCell.get(at) ?? { row, col, runs: [] };
    cell.runs.push(r);
    byCell.set(at, cell);
  });

  // the papers' numbers are in the printed unit (percent for accuracies): cells carry them in the stored one
  const scale = printedScale(metric);
  const raw = (x: number): number => (scale === 1 ? x : Number((x / scale).toPrecision(15)));
  const shown = new Set<number>();
  const conflicts: string[] = [];
  const cells: PivotCell[] = [...byCell.entries()]
    .sort(([a], [b]) => a - b)
    .map(([at, c]) => {
      const done = c.runs.filter((r) => r.status === 'done');
      const xs = done.filter((r) => r.value !== null && Number.isFinite(r.value)).map((r) => r.value as number);
      const summary = xs.length > 0 ? summarize(xs, storedRange(metric)) : null;
      const stats = summary ?? { mean: null, std: null, ci95: null, median: null, min: null, max: null };
      const fit = referenceForCell(
        references,
        metric,
        c.runs.map((r) => r.config),
      );
      for (const i of fit.fits) shown.add(i);
      if (fit.conflict.length) {
        const name = cellWhere(rows, c.row.map(valueText), cols, c.col.map(valueText)) || 'all runs';
        const which = fit.conflict.map((i) => `[${i}]`).join(', ');
        const differ = `all apply and give different values of ${metric}; none is shown`;
        conflicts.push(`(${name}): references ${which} ${differ}`);
      }
      const ref = fit.chosen === null ? null : references[fit.chosen];
      const paper: PaperValue | null = ref && {
        mean: raw(ref.mean),
        std: ref.std === null ? null : raw(ref.std),
        source: ref.source,
        where: ref.where,
      };
      const z =
        ref && stats.mean !== null
          ? zScore(
              { mean: stats.mean * scale, std: stats.std === null ? null : stats.std * scale },
              { mean: ref.mean, std: ref.std },
            )
          : null;
      return {
        rowIndex: Math.floor(at / nCols),
        colIndex: at % nCols,
        row: c.row,
        col: c.col,
        ...stats,
        n: xs.length,
        missing: done.length - xs.length,
        failed: c.runs.filter((r) => r.status === 'failed').length,
        queued: c.runs.filter((r) => r.status === 'queued').length,
        running: c.runs.filter((r) => r.status === 'running').length,
        mixed: differingKeys(
          c.runs.map((r) => r.config),
          ['seed', ...keys],
        ),
        hashes: c.runs.map((r) => r.hash),
        paper,
        z,
      };
    });

  const counts = { total: runs.length, queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of runs) counts[r.status]++;
  const rowLabels = rowTuples.map((t) => t.values.map(valueText));
  const colLabels = colTuples.map((t) => t.values.map(valueText));
  const referenceWarnings = [...conflicts, ...unshownReferences(references, metric, shown, runs, keys)];
  const warnings = mixWarnings(cells, rows, cols, rowLabels, colLabels);
  return { sweep, metric, epoch, stat, rows, cols, rowLabels, colLabels, cells, counts, warnings, referenceWarnings };
}

/** `rows=labels / cols=labels`, either part left out where it has no keys; '' for neither. */
function cellWhere(
  rows: readonly string[],
  rowLabels: readonly string[],
  cols: readonly string[],
  colLabels: readonly string[],
): string {
  return [keyValuesText(rows, rowLabels), keyValuesText(cols, colLabels)].filter((s) => s).join(' / ');
}

/** A warning per reference of the metric that fits no cell: its keys the layout averages over. */
function unshownReferences(
  references: readonly ReferenceCell[],
  metric: Metric,
  shown: ReadonlySet<number>,
  runs: readonly PivotRun[],
  keys: readonly string[],
): string[] {
  const out: string[] = [];
  references.forEach((r, i) => {
    if (r.metric !== metric || shown.has(i)) return;
    const value = `${r.mean}${r.std === null ? '' : ` ± ${r.std}`}`;
    const what = `reference[${i}] (${describeWhere(r.where)}: ${value}, ${r.source})`;
    const free = Object.keys(r.where).filter((k) => !keys.some((l) => keysOverlap(l, k)));
    if (!runs.some((run) => referenceMatches(r, run.config))) out.push(`${what} matches no run of the sweep`);
    else {
      const them = free.length === 1 ? 'it' : 'them';
      const over = free.length ? ` (they average over ${free.join(', ')}; add ${them} to --rows or --cols)` : '';
      const why = 'the cells that hold the runs it matches also hold runs it does not match';
      out.push(`${what} is not shown: ${why}${over}`);
    }
  });
  return out;
}

/** One warning per set of mixed keys, naming the keys, their values and the cells. */
function mixWarnings(
  cells: readonly PivotCell[],
  rows: string[],
  cols: string[],
  rowLabels: string[][],
  colLabels: string[][],
): string[] {
  const groups = new Map<string, { mixed: MixedKey[]; where: string[] }>();
  for (const c of cells) {
    if (c.mixed.length === 0) continue;
    const id = c.mixed.map((m) => m.key).join(',');
    const g = groups.get(id) ?? { mixed: [], where: [] };
    for (const m of c.mixed) {
      const known = g.mixed.find((x) => x.key === m.key);
      if (known) for (const v of m.values) if (!known.values.includes(v)) known.values.push(v);
      if (!known) g.mixed.push({ key: m.key, values: [...m.values] });
    }
    g.where.push(`(${cellWhere(rows, rowLabels[c.rowIndex], cols, colLabels[c.colIndex]) || 'all runs'})`);
    groups.set(id, g);
  }
  return [...groups.values()].map((g) => {
    const what = g.mixed.map((m) => `${m.key} (${m.values.join(', ')})`).join(', ');
    const where = listWithMore(g.where, 6, ', ');
    return mixedWarning(g.where.length, 'cell', what, where, g.mixed.length, '--rows or --cols');
  });
}
