/**
 * The pivot of a sweep's results: runs grouped by the values of the row and column keys (any
 * dotted run config keys), each cell the mean and sample standard deviation of one metric over
 * its done runs (the seeds), with the count of runs done, failed and still queued or running.
 * A cell whose runs differ in a key other than `seed` and the layout's keys is reported (a
 * mean over an unseen parameter is not a mean over seeds).
 *
 * Values are ordered by first appearance in the sweep's expansion, numbers numerically, a key
 * absent from a run's config (a field that does not apply, e.g. `n_tiles` for `sgd`) as `-`
 * after every value.
 *
 * Each cell also carries the 95 % t-interval of its mean and the median, min and max of its
 * values, for `--stat median`.
 *
 * When the sweep's definition gives the papers' numbers for the metric (`reference:`), each cell
 * whose runs a reference cell matches carries that paper value and z, the difference in units
 * of the combined standard deviation (src/sweep/reference.ts picks the reference of a cell).
 * When it gives a default view (`view:`, src/sweep/view.ts), the options a reader leaves out are
 * taken from it (resolveTableOptions).
 */
import { type KeyValue, resolvedValueAt } from '../core/config/resolved-value.ts';
import { RUN_SCHEMA } from '../core/config/run-config.ts';
import { fieldAt } from '../core/config/schema.ts';
import { isAccuracyMetric } from '../core/tasks/run-result.ts';
import type { Db } from '../store/open.ts';
import { summarize, zScore } from './stats.ts';
import { bestEpochValues, METRICS, type Metric, requireSweep, type ResultRow, sweepDetails, sweepRuns, tailEpochValues } from '../store/results-read.ts';
import type { RunStatus } from '../store/run-queue.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import { describeWhere, referenceForCell, type ReferenceCell, referenceMatches, referencesOfStoredDefinition } from '../sweep/reference.ts';
import { EPOCH_CHOICES, type EpochChoice, type Stat, STATS, type SweepView, viewOfStoredDefinition } from '../sweep/view.ts';
import { cellName, formatPivotMarkdown } from './format.ts';

export { EPOCH_CHOICES, type EpochChoice, METRICS, type Metric, type Stat, STATS, type SweepView };

/** Options the layout was not given are a bad request (unknown key, overlap); exit code 2. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}


// ---- values of dotted keys ------------------------------------------------------------------

/** How a value is shown: numbers and strings as they are, `-` when absent, JSON otherwise. */
export function valueText(v: KeyValue): string {
  if (!v.present) return '-';
  if (typeof v.value === 'string') return v.value;
  if (typeof v.value === 'number' || typeof v.value === 'boolean') return String(v.value);
  return canonicalJson(v.value);
}

/** A key that tells values apart exactly (absent distinct from every value). */
function identity(v: KeyValue): string {
  return v.present ? canonicalJson(v.value) : '\u0000absent';
}

/** The leaves of a config as dotted keys (arrays are leaves). */
export function flattenConfig(config: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (typeof config === 'object' && config !== null && !Array.isArray(config)) {
    const entries = Object.entries(config as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, config);
    for (const [k, v] of entries) if (v !== undefined) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, config);
  }
  return out;
}

/** Whether `key` is `layoutKey`, lies inside it, or contains it. */
function covers(layoutKey: string, key: string): boolean {
  return key === layoutKey || key.startsWith(`${layoutKey}.`) || layoutKey.startsWith(`${key}.`);
}

/** A rank per distinct value of one key: numbers numerically, others by first appearance, absent last. */
function valueRanks(values: readonly KeyValue[]): Map<string, number> {
  const firsts = new Map<string, KeyValue>();
  for (const v of values) if (!firsts.has(identity(v))) firsts.set(identity(v), v);
  const present = [...firsts.values()].filter((v) => v.present);
  const numeric = present.length > 0 && present.every((v) => typeof v.value === 'number');
  if (numeric) present.sort((a, b) => (a.value as number) - (b.value as number));
  const ranks = new Map<string, number>();
  present.forEach((v, i) => ranks.set(identity(v), i));
  ranks.set('\u0000absent', present.length);
  return ranks;
}

// ---- the default layout -----------------------------------------------------------------------

/** What the layout looks at: a run's canonical config, the swept values that made it, its result. */
export interface LayoutRun {
  config: Record<string, unknown>;
  assignments: Record<string, unknown>;
  result?: Pick<ResultRow, 'test_accuracy' | 'weight_error'> | null;
}

export interface Layout {
  rows: string[];
  cols: string[];
  metric: Metric;
}

/** test_accuracy when the runs have it (or are classification runs), else weight_error. */
export function defaultMetric(runs: readonly LayoutRun[]): Metric {
  if (runs.some((r) => typeof r.result?.test_accuracy === 'number')) return 'test_accuracy';
  if (runs.some((r) => typeof r.result?.weight_error === 'number')) return 'weight_error';
  const kinds = new Set(runs.map((r) => valueText(resolvedValueAt(r.config, 'task.kind'))));
  if ([...kinds].some((k) => k !== 'least-squares' && k !== '-')) return 'test_accuracy';
  return 'weight_error';
}

/** The swept keys of the runs, in the order they first appear. */
export function sweptKeys(runs: readonly LayoutRun[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.assignments)) keys.add(k);
  return [...keys];
}

function distinctCount(runs: readonly LayoutRun[], key: string): number {
  return new Set(runs.map((r) => identity(resolvedValueAt(r.config, key)))).size;
}

/**
 * The layout of a table nobody specified: rows = `algorithm` when it varies, else the first
 * varying swept key (never `seed`); columns = the other swept keys that vary within at least
 * two row values (so a key swept inside one case only, like `n_tiles` of the residual case,
 * or one fixed per case, stays out; when that leaves none, the keys varying within any row);
 * metric as `defaultMetric`. Whatever `given` holds is kept, the rest chosen around it.
 */
export function defaultLayout(runs: readonly LayoutRun[], given: Partial<Layout> = {}): Layout {
  const swept = sweptKeys(runs).filter((k) => k !== 'seed');
  const varies = (k: string): boolean => distinctCount(runs, k) > 1;
  const rows =
    given.rows ??
    (() => {
      const free = (k: string): boolean => !(given.cols ?? []).some((c) => covers(c, k));
      if (free('algorithm') && varies('algorithm')) return ['algorithm'];
      const first = swept.find((k) => free(k) && varies(k));
      return first === undefined ? [] : [first];
    })();
  const cols =
    given.cols ??
    (() => {
      const groups = new Map<string, LayoutRun[]>();
      for (const r of runs) {
        const id = rows.map((k) => identity(resolvedValueAt(r.config, k))).join('\u0001');
        const g = groups.get(id);
        if (g) g.push(r);
        else groups.set(id, [r]);
      }
      const candidates = swept.filter((k) => !rows.some((rk) => covers(rk, k)) && varies(k));
      const withinRows = (k: string): number => [...groups.values()].filter((g) => distinctCount(g, k) > 1).length;
      const chosen = candidates.filter((k) => withinRows(k) >= 2);
      return chosen.length > 0 ? chosen : candidates.filter((k) => withinRows(k) >= 1);
    })();
  return { rows, cols, metric: given.metric ?? defaultMetric(runs) };
}

// ---- the pivot ------------------------------------------------------------------------------

/** One run as the pivot sees it: `value` is the chosen metric of a done run (null otherwise). */
export interface PivotRun {
  hash: string;
  status: RunStatus;
  config: Record<string, unknown>;
  value: number | null;
}

/** Keys that differ between the runs of a cell, with the values seen. */
export interface MixedKey {
  key: string;
  values: string[];
}

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

function mixedKeys(runs: readonly PivotRun[], layoutKeys: readonly string[]): MixedKey[] {
  if (runs.length < 2) return [];
  const flat = runs.map((r) => flattenConfig(r.config));
  const keys = new Set<string>();
  for (const f of flat) for (const k of f.keys()) keys.add(k);
  const mixed: MixedKey[] = [];
  for (const key of [...keys].sort()) {
    if (key === 'seed' || layoutKeys.some((l) => covers(l, key))) continue;
    const seen = new Map<string, string>();
    for (const f of flat) {
      const v: KeyValue = f.has(key) ? { present: true, value: f.get(key) } : { present: false, value: undefined };
      if (!seen.has(identity(v))) seen.set(identity(v), valueText(v));
    }
    if (seen.size > 1) mixed.push({ key, values: [...seen.values()] });
  }
  return mixed;
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
  const ranks = keys.map((_, i) => valueRanks(values.map((v) => v[i])));
  const tupleOrder = (offset: number, width: number) => {
    const seen = new Map<string, { kv: KeyValue[]; rank: number[] }>();
    for (const v of values) {
      const kv = v.slice(offset, offset + width);
      const id = kv.map(identity).join('\u0001');
      if (!seen.has(id)) seen.set(id, { kv, rank: kv.map((x, i) => ranks[offset + i].get(identity(x)) as number) });
    }
    const list = [...seen.entries()].sort(([, a], [, b]) => {
      for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i] - b.rank[i];
      return 0;
    });
    return { ids: new Map(list.map(([id], i) => [id, i])), tuples: list.map(([, t]) => t.kv) };
  };
  const rowOrder = tupleOrder(0, rows.length);
  const colOrder = tupleOrder(rows.length, cols.length);

  const byCell = new Map<number, { row: KeyValue[]; col: KeyValue[]; runs: PivotRun[] }>();
  const nCols = colOrder.tuples.length;
  runs.forEach((r, i) => {
    const row = values[i].slice(0, rows.length);
    const col = values[i].slice(rows.length);
    const ri = rowOrder.ids.get(row.map(identity).join('\u0001')) as number;
    const ci = colOrder.ids.get(col.map(identity).join('\u0001')) as number;
    const at = ri * nCols + ci;
    const cell = byCell.get(at) ?? { row, col, runs: [] };
    cell.runs.push(r);
    byCell.set(at, cell);
  });

  // the papers' numbers are in the printed unit (percent for accuracies): cells carry them in the stored one
  const scale = isAccuracyMetric(metric) ? 100 : 1;
  const raw = (x: number): number => (scale === 1 ? x : Number((x / scale).toPrecision(15)));
  const shown = new Set<number>();
  const conflicts: string[] = [];
  const cells: PivotCell[] = [...byCell.entries()]
    .sort(([a], [b]) => a - b)
    .map(([at, c]) => {
      const done = c.runs.filter((r) => r.status === 'done');
      const xs = done.filter((r) => r.value !== null && Number.isFinite(r.value)).map((r) => r.value as number);
      const summary = xs.length > 0 ? summarize(xs, scale === 100 ? [0, 1] : [0, Infinity]) : null;
      const stats = summary ?? { mean: null, std: null, ci95: null, median: null, min: null, max: null };
      const fit = referenceForCell(references, metric, c.runs.map((r) => r.config));
      for (const i of fit.fits) shown.add(i);
      if (fit.conflict.length) {
        const name = [cellName(rows, c.row.map(valueText)), cellName(cols, c.col.map(valueText))].filter((x) => x).join(' / ') || 'all runs';
        conflicts.push(`(${name}): references ${fit.conflict.map((i) => `[${i}]`).join(', ')} all apply and give different values of ${metric}; none is shown`);
      }
      const ref = fit.chosen === null ? null : references[fit.chosen];
      const paper: PaperValue | null = ref && { mean: raw(ref.mean), std: ref.std === null ? null : raw(ref.std), source: ref.source, where: ref.where };
      const z =
        ref && stats.mean !== null ? zScore({ mean: stats.mean * scale, std: stats.std === null ? null : stats.std * scale }, { mean: ref.mean, std: ref.std }) : null;
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
        mixed: mixedKeys(c.runs, keys),
        hashes: c.runs.map((r) => r.hash),
        paper,
        z,
      };
    });

  const counts = { total: runs.length, queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of runs) counts[r.status]++;
  const rowLabels = rowOrder.tuples.map((t) => t.map(valueText));
  const colLabels = colOrder.tuples.map((t) => t.map(valueText));
  const referenceWarnings = [...conflicts, ...unshownReferences(references, metric, shown, runs, keys)];
  return { sweep, metric, epoch, stat, rows, cols, rowLabels, colLabels, cells, counts, warnings: mixWarnings(cells, rows, cols, rowLabels, colLabels), referenceWarnings };
}

/** A warning per reference of the metric that fits no cell: its keys the layout averages over. */
function unshownReferences(references: readonly ReferenceCell[], metric: Metric, shown: ReadonlySet<number>, runs: readonly PivotRun[], keys: readonly string[]): string[] {
  const out: string[] = [];
  references.forEach((r, i) => {
    if (r.metric !== metric || shown.has(i)) return;
    const what = `reference[${i}] (${describeWhere(r.where)}: ${r.mean}${r.std === null ? '' : ` ± ${r.std}`}, ${r.source})`;
    const free = Object.keys(r.where).filter((k) => !keys.some((l) => covers(l, k)));
    if (!runs.some((run) => referenceMatches(r, run.config))) out.push(`${what} matches no run of the sweep`);
    else {
      const over = free.length ? ` (they average over ${free.join(', ')}; add ${free.length === 1 ? 'it' : 'them'} to --rows or --cols)` : '';
      out.push(`${what} is not shown: the cells that hold the runs it matches also hold runs it does not match${over}`);
    }
  });
  return out;
}

/** One warning per set of mixed keys, naming the keys, their values and the cells. */
function mixWarnings(cells: readonly PivotCell[], rows: string[], cols: string[], rowLabels: string[][], colLabels: string[][]): string[] {
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
    const name = [cellName(rows, rowLabels[c.rowIndex]), cellName(cols, colLabels[c.colIndex])].filter((s) => s).join(' / ');
    g.where.push(`(${name || 'all runs'})`);
    groups.set(id, g);
  }
  return [...groups.values()].map((g) => {
    const what = g.mixed.map((m) => `${m.key} (${m.values.join(', ')})`).join(', ');
    const cellsText = g.where.length > 6 ? `${g.where.slice(0, 6).join(', ')} and ${g.where.length - 6} more` : g.where.join(', ');
    return `${g.where.length} cell${g.where.length === 1 ? '' : 's'} average over runs that differ in ${what}, not only in seed: ${cellsText}; add ${g.mixed.length === 1 ? 'it' : 'them'} to --rows or --cols`;
  });
}

// ---- from the database ------------------------------------------------------------------------

export interface TableOptions {
  /** dotted run config keys; chosen by defaultLayout when not given */
  rows?: string[];
  cols?: string[];
  metric?: Metric;
  /** the final epoch's value (default), each run's best epoch's, or its tail mean */
  epoch?: EpochChoice;
  /** mean ± std [95 % interval] (default) or median [min, max] */
  stat?: Stat;
}

/**
 * The options of a table (or a plot) with what the reader left out taken from the sweep's view:
 * its rows and cols when neither --rows nor --cols is given (one of them alone is completed by
 * defaultLayout, as without a view, so that the two never overlap); its metric without --metric;
 * its epoch without --epoch unless --metric names another metric than the view's (the epoch
 * statistic belongs to the metric: a tail mean of step_weight_error says nothing of wall_ms); its
 * stat without --stat.
 */
export function resolveTableOptions(view: SweepView | null, options: TableOptions): TableOptions {
  if (view === null) return options;
  const layoutGiven = options.rows !== undefined || options.cols !== undefined;
  const sameMetric = options.metric === undefined || options.metric === view.metric;
  return {
    rows: layoutGiven ? options.rows : view.rows,
    cols: layoutGiven ? options.cols : view.cols,
    metric: options.metric ?? view.metric,
    epoch: options.epoch ?? (sameMetric ? view.epoch : undefined),
    stat: options.stat ?? view.stat,
  };
}

/** The view recorded with a sweep's definition (null when it has none). */
export function storedView(db: Db, sweepId: number, sweepName: string): SweepView | null {
  return viewOfStoredDefinition(sweepDetails(db, sweepId).spec_json, (path, message) => {
    throw new ReportError(`${db.name}: sweep ${sweepName}: the recorded definition's ${path}: ${message}`);
  });
}

function checkStat(stat: string | undefined): void {
  if (stat !== undefined && !(STATS as readonly string[]).includes(stat)) throw new ReportError(`--stat ${JSON.stringify(stat)}: expected one of ${STATS.join(', ')}`);
}

/**
 * A metric asked for by name that no done run of the sweep records (a classification metric of a
 * least-squares sweep, step metrics of results stored before they existed) is a bad request
 * naming the metrics the sweep has; before any run is done there is nothing to tell.
 */
export function requireRecordedMetric(sweep: string, metric: Metric, results: readonly (Pick<ResultRow, Metric> | null)[]): void {
  const has = (r: Pick<ResultRow, Metric>, m: Metric) => typeof r[m] === 'number';
  const done = results.filter((r): r is Pick<ResultRow, Metric> => r !== null);
  if (done.length === 0 || done.some((r) => has(r, metric))) return;
  const recorded = METRICS.filter((m) => done.some((r) => has(r, m)));
  throw new ReportError(`--metric ${metric}: no done run of ${sweep} records it; its metrics: ${recorded.join(', ') || '(none)'}`);
}

function checkKeys(option: string, keys: readonly string[]): void {
  for (const k of keys) {
    if (k === '' || fieldAt(RUN_SCHEMA, k) === undefined) throw new ReportError(`--${option} ${JSON.stringify(k)}: unknown run config field`);
  }
}

/** The pivot of sweep `sweep` from a results database (read-only or not). */
export function buildSweepPivot(db: Db, sweep: string, options: TableOptions = {}): PivotTable {
  if (options.epoch !== undefined && !EPOCH_CHOICES.includes(options.epoch)) throw new ReportError(`--epoch ${JSON.stringify(options.epoch)}: expected one of ${EPOCH_CHOICES.join(', ')}`);
  checkStat(options.stat);
  if (options.rows) checkKeys('rows', options.rows);
  if (options.cols) checkKeys('cols', options.cols);
  if (options.metric !== undefined && !(METRICS as readonly string[]).includes(options.metric)) {
    throw new ReportError(`--metric ${JSON.stringify(options.metric)}: expected one of ${METRICS.join(', ')}`);
  }
  const all = [...(options.rows ?? []), ...(options.cols ?? [])];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      if (covers(all[i], all[j])) throw new ReportError(`--rows/--cols: ${all[i]} and ${all[j]} overlap; name each key once`);
    }
  }
  const s = requireSweep(db, sweep);
  const runs = sweepRuns(db, s.id);
  if (options.metric !== undefined) requireRecordedMetric(s.name, options.metric, runs.map((r) => (r.status === 'done' ? r.result : null)));
  const references = referencesOfStoredDefinition(sweepDetails(db, s.id).spec_json, (path, message) => {
    throw new ReportError(`${db.name}: sweep ${s.name}: the recorded definition's ${path}: ${message}`);
  });
  const o = resolveTableOptions(storedView(db, s.id, s.name), options);
  const epoch = o.epoch ?? 'final';
  const layout = defaultLayout(runs, { rows: o.rows, cols: o.cols, metric: o.metric });
  const metric = layout.metric;
  if (epoch !== 'final' && metric === 'wall_ms') throw new ReportError(`--epoch ${epoch}: wall_ms is per run, not per epoch (use --epoch final)`);
  const best =
    metric === 'wall_ms' || epoch === 'final'
      ? undefined
      : epoch === 'best'
        ? bestEpochValues(db, s.id, metric, isAccuracyMetric(metric) ? 'max' : 'min')
        : tailEpochValues(db, s.id, metric);
  const pivotInput: PivotRun[] = runs.map((r) => ({
    hash: r.hash,
    status: r.status,
    config: r.config,
    value: r.status !== 'done' || r.result === null ? null : best ? (best.get(r.hash) ?? null) : r.result[metric],
  }));
  return pivotRuns(s.name, pivotInput, layout, epoch, references, o.stat ?? 'mean');
}

/**
 * The markdown table of a sweep (title line, table, warnings), as `table` prints it by default
 * and `run` (and `submit --wait --db`) after a sweep; options not given are the sweep's view's,
 * else chosen by defaultLayout. Throws StoreError for an unknown sweep and ReportError for bad
 * options.
 */
export function renderSweepTable(db: Db, sweep: string, options: TableOptions = {}): string {
  return formatPivotMarkdown(buildSweepPivot(db, sweep, options));
}
