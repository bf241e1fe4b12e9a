/**
 * Plots of a sweep's results as SVG figures (rendered by svg.ts):
 *
 * - `x = 'epoch'` (learning curves): per group of runs, the mean over its done runs (the seeds) of
 *   a metric at every recorded epoch (epoch 0, the untrained model, included), with a shaded
 *   band of ±1 sample std;
 * - `x = <numeric run config key>` (e.g. `device.n_states`): per group, the final (or best)
 *   metric against the key's values, mean with ±1 std error bars; a log-scaled x axis when the
 *   values span more than a factor of 10. A group none of whose runs has the key (digital SGD
 *   has no device) is drawn as a dashed reference level across the panel.
 *
 * Groups are the values of the `group` keys (default: the rows of the default table layout);
 * `facet` makes one panel per value of a key (default for learning curves: the table's first
 * column key, so that a line never averages over, say, 4 and 16 states); runs without the facet
 * key (again digital SGD) are drawn in every panel. Accuracies are shown in %, and losses and
 * errors on a log y axis when their means span more than a factor of 10 (where svg.ts draws ±1
 * std geometrically). Learning curves of more than SMOOTH_ABOVE epochs are drawn as window means
 * with the raw range faint behind (learningCurve). Lines that average over runs differing in
 * more than the seed are warned about, as the table does.
 *
 * The defaults (metric, groups, panels, the epoch statistic of a key on x, mean or median) are the
 * table's: the sweep's `view:` where it gives one. `stat: 'median'` draws the median over seeds
 * with the range from the lowest to the highest value instead of mean ± 1 std.
 */
import { type KeyValue, resolvedValueAt } from '../core/config/resolved-value.ts';
import { RUN_SCHEMA } from '../core/config/run-config.ts';
import { fieldAt } from '../core/config/schema.ts';
import type { Db } from '../store/open.ts';
import { meanStd, summarize } from './stats.ts';
import { type EpochRow, requireSweep, type ResultRow, type SweepRunRow, sweepEpochMetrics, sweepRuns, TAIL_FRACTION } from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import { formatNumber } from './format.ts';
import { isAccuracyMetric } from '../core/tasks/run-result.ts';
import {
  defaultLayout,
  type EpochChoice,
  flattenConfig,
  METRICS,
  type Metric,
  ReportError,
  requireRecordedMetric,
  resolveTableOptions,
  type Stat,
  STATS,
  storedView,
  type SweepView,
  sweptKeys,
  valueText,
} from './pivot.ts';
import { type Figure, type FigurePoint, type FigureSeries, renderSvg } from './svg.ts';

export interface PlotOptions {
  /** default: as `table` (test_accuracy when the runs have it, else weight_error) */
  metric?: Metric;
  /** 'epoch' (learning curves; the default) or a numeric dotted run config key */
  x?: string;
  /** keys whose values make the lines (default: the rows of the default table layout) */
  group?: string[];
  /** one panel per value of this key; null: one panel; undefined: chosen (see the module doc) */
  facet?: string | null;
  /** with a key on x: each run's final epoch (default) or its best (max accuracy, min loss/error) */
  epoch?: EpochChoice;
  /** mean ± 1 std (default) or median with the range over seeds */
  stat?: Stat;
  /** the sweep's default view (its defaults for the options above); null or absent: none */
  view?: SweepView | null;
}

/** A run as the plots see it: the sweep's view of it and its accepted attempt's epochs. */
export interface PlotRun {
  hash: string;
  status: SweepRunRow['status'];
  config: Record<string, unknown>;
  assignments: Record<string, unknown>;
  result: Pick<ResultRow, Metric> | null;
  /** ascending epochs (empty when none recorded) */
  epochs: readonly EpochRow[];
}

export interface SweepPlot {
  figure: Figure;
  metric: Metric;
  x: string;
  group: string[];
  facet: string | null;
  epoch: EpochChoice;
  stat: Stat;
  /** what the reader should know (lines averaging over more than the seed, values left out) */
  warnings: string[];
}

/** Losses and errors (log y when their means span a factor of 10): every metric but accuracies and wall_ms. */
const isLoss = (m: Metric): boolean => m !== 'wall_ms' && !isAccuracyMetric(m);

const percent = (m: Metric): boolean => m === 'train_accuracy' || m === 'test_accuracy';

/** Whether `key` is `other`, lies inside it, or contains it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function identity(v: KeyValue): string {
  return v.present ? canonicalJson(v.value) : '\u0000absent';
}

function checkKey(option: string, key: string): void {
  if (key === '' || fieldAt(RUN_SCHEMA, key) === undefined) throw new ReportError(`--${option} ${JSON.stringify(key)}: unknown run config field`);
}

/**
 * The distinct tuples of `keys` over `runs`, ordered as the table orders them: per key by first
 * appearance, numbers numerically, absent last; tuples lexicographically by those ranks.
 */
function orderedTuples(runs: readonly PlotRun[], keys: readonly string[]): { id: string; values: KeyValue[] }[] {
  const values = runs.map((r) => keys.map((k) => resolvedValueAt(r.config, k)));
  const ranks = keys.map((_, i) => {
    const firsts = new Map<string, KeyValue>();
    for (const v of values) if (!firsts.has(identity(v[i]))) firsts.set(identity(v[i]), v[i]);
    const present = [...firsts.values()].filter((v) => v.present);
    if (present.length > 0 && present.every((v) => typeof v.value === 'number')) present.sort((a, b) => (a.value as number) - (b.value as number));
    const rank = new Map(present.map((v, j) => [identity(v), j]));
    rank.set('\u0000absent', present.length);
    return rank;
  });
  const seen = new Map<string, KeyValue[]>();
  for (const v of values) {
    const id = v.map(identity).join('\u0001');
    if (!seen.has(id)) seen.set(id, v);
  }
  const rankOf = (v: KeyValue[]) => v.map((x, i) => ranks[i].get(identity(x)) as number);
  return [...seen.entries()]
    .map(([id, v]) => ({ id, values: v, rank: rankOf(v) }))
    .sort((a, b) => {
      for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i] - b.rank[i];
      return 0;
    })
    .map(({ id, values: v }) => ({ id, values: v }));
}

const tupleId = (r: PlotRun, keys: readonly string[]): string => keys.map((k) => identity(resolvedValueAt(r.config, k))).join('\u0001');

/** The best value of a run's epochs (epoch 0 only when it is the only one), as `table --epoch best`. */
export function bestOfEpochs(epochs: readonly EpochRow[], metric: Metric): number | null {
  const better = isAccuracyMetric(metric) ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const pick = (rows: readonly EpochRow[]) => {
    let best: number | null = null;
    for (const e of rows) {
      const v = e[metric];
      if (v !== null && Number.isFinite(v) && (best === null || better(v, best))) best = v;
    }
    return best;
  };
  return pick(epochs.filter((e) => e.epoch > 0)) ?? pick(epochs);
}

/** The mean of a run's metric over its last TAIL_FRACTION of epochs (as tailEpochValues in SQL). */
export function tailOfEpochs(epochs: readonly EpochRow[], metric: Metric): number | null {
  if (epochs.length === 0) return null;
  const last = epochs[epochs.length - 1].epoch;
  let sum = 0;
  let n = 0;
  for (const e of epochs) {
    const v = e[metric];
    if ((e.epoch === last || e.epoch > last * (1 - TAIL_FRACTION)) && v !== null) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : null;
}

/**
 * The numeric swept keys of a sweep (not seed) worth a plot against: those with at least two
 * values within one group of runs (`groupKeys`: the lines; a key fixed per group, like a learning
 * rate set per algorithm case, would only put each line at one point).
 */
export function numericSweptKeys(runs: readonly Pick<PlotRun, 'config' | 'assignments'>[], groupKeys: readonly string[] = []): string[] {
  return sweptKeys(runs).filter((k) => {
    if (k === 'seed') return false;
    const by = groupKeys.filter((g) => !overlaps(g, k));
    const groups = new Map<string, Set<number>>();
    for (const r of runs) {
      const v = resolvedValueAt(r.config, k);
      if (v.present && typeof v.value !== 'number') return false;
      if (!v.present) continue;
      const id = by.map((g) => identity(resolvedValueAt(r.config, g))).join('\u0001');
      const set = groups.get(id) ?? new Set<number>();
      set.add(v.value as number);
      groups.set(id, set);
    }
    return [...groups.values()].some((set) => set.size >= 2);
  });
}

/** The layout of a plot: the options given, the rest chosen; throws ReportError for bad options. */
export function plotLayout(
  runs: readonly PlotRun[],
  options: PlotOptions = {},
): { metric: Metric; x: string; group: string[]; facet: string | null; epoch: EpochChoice; stat: Stat } {
  if (options.metric !== undefined && !(METRICS as readonly string[]).includes(options.metric)) {
    throw new ReportError(`--metric ${JSON.stringify(options.metric)}: expected one of ${METRICS.join(', ')}`);
  }
  if (options.stat !== undefined && !(STATS as readonly string[]).includes(options.stat)) throw new ReportError(`--stat ${JSON.stringify(options.stat)}: expected one of ${STATS.join(', ')}`);
  const x = options.x ?? 'epoch';
  if (x !== 'epoch') checkKey('x', x);
  for (const k of options.group ?? []) checkKey('group', k);
  if (options.facet) checkKey('facet', options.facet);
  if (x === 'epoch' && options.epoch !== undefined && options.epoch !== 'final') {
    throw new ReportError(`--epoch ${options.epoch}: learning curves (--x epoch) show every epoch; --epoch applies to --x <config key>`);
  }
  if (options.metric === 'wall_ms' && options.epoch !== undefined && options.epoch !== 'final') {
    throw new ReportError(`--epoch ${options.epoch}: wall_ms is per run, not per epoch (use --epoch final)`);
  }
  const named = [...(x === 'epoch' ? [] : [['x', x]]), ...(options.group ?? []).map((k) => ['group', k]), ...(options.facet ? [['facet', options.facet]] : [])];
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      if (overlaps(named[i][1], named[j][1])) throw new ReportError(`--${named[i][0]} ${named[i][1]} and --${named[j][0]} ${named[j][1]} overlap; name each key once`);
    }
  }
  // the view's defaults, as the table takes them (its epoch only for a key on x: curves show every epoch)
  const viewed = resolveTableOptions(options.view ?? null, { metric: options.metric, epoch: options.epoch, stat: options.stat });
  const layout = defaultLayout(
    runs.map((r) => ({ config: r.config, assignments: r.assignments, result: r.result })),
    { rows: viewed.rows, cols: viewed.cols, ...(viewed.metric ? { metric: viewed.metric } : {}) },
  );
  const free = (k: string, taken: readonly string[]) => !taken.some((t) => overlaps(t, k));
  const onX = x === 'epoch' ? [] : [x];
  const group = options.group ?? layout.rows.filter((k) => free(k, [...onX, ...(options.facet ? [options.facet] : [])]));
  const varies = (k: string) => new Set(runs.map((r) => identity(resolvedValueAt(r.config, k)))).size > 1;
  const facet = options.facet !== undefined ? options.facet : (layout.cols.find((k) => free(k, [...onX, ...group]) && varies(k)) ?? null);
  const epoch = x === 'epoch' ? 'final' : (viewed.epoch ?? 'final');
  if (layout.metric === 'wall_ms' && epoch !== 'final') throw new ReportError(`--epoch ${epoch}: wall_ms is per run, not per epoch (use --epoch final)`);
  return { metric: layout.metric, x, group, facet, epoch, stat: viewed.stat ?? 'mean' };
}

interface Line {
  group: number;
  runs: PlotRun[];
}

/** Learning curves with more epochs than this are drawn as means over windows of epochs. */
export const SMOOTH_ABOVE = 120;
/** about this many windows per smoothed curve */
export const SMOOTH_WINDOWS = 60;

export interface CurvePoint {
  /** the epoch, or the mean epoch of a window */
  x: number;
  /** the mean (stat mean) or the median (stat median) over the runs */
  y: number;
  /** stat mean: the sample std (null for n < 2); stat median: null */
  std: number | null;
  /** stat median, n >= 2: the lowest and highest value over the runs */
  bounds?: [number, number];
  n: number;
  /** the first and last epoch the point covers */
  from: number;
  to: number;
  /** of a window: the lowest and highest per-epoch mean within it */
  range?: [number, number];
}

/**
 * The learning curve of one line: at each recorded epoch the mean and sample std over its runs
 * of the metric (times `scale`). A curve of more than SMOOTH_ABOVE epochs is drawn as window
 * means instead: epoch 0 (the untrained model) on its own, then windows of `window` consecutive
 * epochs (about SMOOTH_WINDOWS of them); each run's values are averaged over the window, and the
 * point is the mean ± std over the runs of those window means, with the range of the per-epoch
 * means in the window (what the smoothing hides). `window` is 1 when the curve is drawn as is.
 */
export function learningCurve(runs: readonly Pick<PlotRun, 'epochs'>[], metric: Metric, scale = 1, stat: Stat = 'mean'): { points: CurvePoint[]; window: number } {
  const perRun = runs.map((r) => {
    const m = new Map<number, number>();
    for (const e of r.epochs) {
      const v = e[metric];
      if (v !== null && Number.isFinite(v)) m.set(e.epoch, v * scale);
    }
    return m;
  });
  const epochs = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const at = (e: number) => perRun.flatMap((m) => (m.has(e) ? [m.get(e) as number] : []));
  if (epochs.length <= SMOOTH_ABOVE) {
    return {
      window: 1,
      points: epochs.map((e) => {
        const xs = at(e);
        return { x: e, ...centre(xs, stat), n: xs.length, from: e, to: e };
      }),
    };
  }
  const window = Math.ceil(epochs.filter((e) => e > 0).length / SMOOTH_WINDOWS);
  const chunks: number[][] = [];
  for (const e of epochs) {
    const last = chunks[chunks.length - 1];
    if (e === 0 || last === undefined || last[0] === 0 || last.length >= window) chunks.push([e]);
    else last.push(e);
  }
  const points = chunks.map((chunk) => {
    const runMeans = perRun.flatMap((m) => {
      const vs = chunk.flatMap((e) => (m.has(e) ? [m.get(e) as number] : []));
      return vs.length ? [vs.reduce((a, b) => a + b, 0) / vs.length] : [];
    });
    const epochMeans = chunk.map((e) => centre(at(e), stat).y);
    const point: CurvePoint = { x: chunk.reduce((a, b) => a + b, 0) / chunk.length, ...centre(runMeans, stat), n: runMeans.length, from: chunk[0], to: chunk[chunk.length - 1] };
    if (chunk.length > 1) point.range = [Math.min(...epochMeans), Math.max(...epochMeans)];
    return point;
  });
  return { points, window };
}

/**
 * The centre and spread of a point over its runs: mean ± std, or the median with the range
 * (bounds) from the lowest to the highest value when there are two or more.
 */
export function centre(xs: readonly number[], stat: Stat): { y: number; std: number | null; bounds?: [number, number] } {
  if (stat === 'mean') {
    const { mean, std } = meanStd(xs);
    return { y: mean, std };
  }
  const s = summarize(xs);
  return xs.length >= 2 ? { y: s.median, std: null, bounds: [s.min, s.max] } : { y: s.median, std: null };
}

/** `12.3 ± 0.4` or `12.3 [11.9, 12.8]`: a point's value and spread as its tooltip gives it. */
function spreadText(p: { y: number; std: number | null; bounds?: [number, number] }, fmt: (v: number) => string): string {
  if (p.bounds) return `${fmt(p.y)} [${fmt(p.bounds[0])}, ${fmt(p.bounds[1])}]`;
  return `${fmt(p.y)}${p.std === null ? '' : ` ± ${fmt(p.std)}`}`;
}

/** The plot of `runs` (a sweep's, in expansion order); pure. */
export function plotRuns(sweep: string, runs: readonly PlotRun[], options: PlotOptions = {}): SweepPlot {
  const { metric, x, group, facet, epoch, stat } = plotLayout(runs, options);
  const warnings: string[] = [];
  const notes: string[] = [];
  const done = runs.filter((r) => r.status === 'done' && r.result !== null);
  const scale = percent(metric) ? 100 : 1;
  const fmt = (v: number) => (percent(metric) ? v.toFixed(2) : formatNumber(v));

  // groups (colours, legend) over the done runs
  const groups = orderedTuples(done, group);
  const groupIndex = new Map(groups.map((g, i) => [g.id, i]));
  const groupName = (i: number) => (group.length ? groups[i].values.map(valueText).join(', ') : '');
  const groupWhere = (i: number) => (group.length ? group.map((k, j) => `${k}=${valueText(groups[i].values[j])}`).join(', ') : 'all runs');

  // panels: one per present facet value; runs without the key in every panel
  let panels: { title: string; runs: PlotRun[] }[];
  if (facet === null) panels = [{ title: '', runs: done }];
  else {
    const values = orderedTuples(done, [facet]);
    const present = values.filter((v) => v.values[0].present);
    const absent = done.filter((r) => !resolvedValueAt(r.config, facet).present);
    if (present.length === 0 || absent.length === 0) panels = values.map((v) => ({ title: `${facet}=${valueText(v.values[0])}`, runs: done.filter((r) => tupleId(r, [facet]) === v.id) }));
    else {
      panels = present.map((v) => ({ title: `${facet}=${valueText(v.values[0])}`, runs: [...done.filter((r) => tupleId(r, [facet]) === v.id), ...absent] }));
      const who = [...new Set(absent.map((r) => groupIndex.get(tupleId(r, group)) as number))].map(groupWhere);
      notes.push(`runs without ${facet} (${who.join('; ')}) are drawn in every panel`);
    }
  }

  const linesOf = (panelRuns: readonly PlotRun[]): Line[] => {
    const by = new Map<number, PlotRun[]>();
    for (const r of panelRuns) {
      const gi = groupIndex.get(tupleId(r, group)) as number;
      const list = by.get(gi);
      if (list) list.push(r);
      else by.set(gi, [r]);
    }
    return [...by.entries()].sort(([a], [b]) => a - b).map(([gi, rs]) => ({ group: gi, runs: rs }));
  };

  // the value of a run at its final/best epoch (for a key on x)
  const valueOf = (r: PlotRun): number | null => {
    const v = epoch === 'best' ? bestOfEpochs(r.epochs, metric) : epoch === 'tail' ? tailOfEpochs(r.epochs, metric) : (r.result?.[metric] ?? null);
    return v !== null && Number.isFinite(v) ? v : null;
  };

  if (x !== 'epoch') {
    const bad = done.map((r) => resolvedValueAt(r.config, x)).find((v) => v.present && typeof v.value !== 'number');
    if (bad) throw new ReportError(`--x ${x}: not a number (${valueText(bad)}); put a numeric key on x, or use --group/--facet for ${x}`);
    if (done.length > 0 && !done.some((r) => resolvedValueAt(r.config, x).present)) throw new ReportError(`--x ${x}: no done run of ${sweep} has this key`);
  }

  const mixed: { keys: string[]; where: string }[] = [];
  const excluded = ['seed', ...group, ...(facet ? [facet] : []), ...(x === 'epoch' ? [] : [x])];
  const checkMixed = (line: Line, where: string) => {
    if (line.runs.length < 2) return;
    const flat = line.runs.map((r) => flattenConfig(r.config));
    const keys = new Set<string>();
    for (const f of flat) for (const k of f.keys()) keys.add(k);
    const differing: string[] = [];
    for (const k of [...keys].sort()) {
      if (excluded.some((e) => overlaps(e, k))) continue;
      const seen = new Map<string, string>();
      for (const f of flat) {
        const v: KeyValue = f.has(k) ? { present: true, value: f.get(k) } : { present: false, value: undefined };
        if (!seen.has(identity(v))) seen.set(identity(v), valueText(v));
      }
      if (seen.size > 1) differing.push(`${k} (${[...seen.values()].join(', ')})`);
    }
    if (differing.length) {
      mixed.push({ keys: differing, where: `${groupWhere(line.group)}${where ? ` at ${where}` : ''}` });
    }
  };

  let missing = 0;
  let dropped = 0;
  /** the window widths (epochs) of the learning curves drawn as window means */
  const windows = new Set<number>();
  const figurePanels = panels.map((panel) => {
    const series: FigureSeries[] = [];
    for (const line of linesOf(panel.runs)) {
      if (x === 'epoch' || line.runs.every((r) => !resolvedValueAt(r.config, x).present)) checkMixed(line, panel.title);
      const name = groupName(line.group) || 'all runs';
      if (x === 'epoch') {
        for (const r of line.runs) if (r.epochs.length === 0) missing++;
        const curve = learningCurve(line.runs, metric, scale, stat);
        const points: FigurePoint[] = curve.points.map((p) => ({
          x: p.x,
          y: p.y,
          std: p.std,
          n: p.n,
          ...(p.bounds ? { bounds: p.bounds } : {}),
          ...(p.range ? { range: p.range } : {}),
          label: `${name}, ${p.from === p.to ? `epoch ${p.from}` : `epochs ${p.from}–${p.to}`}: ${spreadText(p, fmt)} (n=${p.n})`,
        }));
        if (curve.window > 1) windows.add(curve.window);
        if (points.length) series.push({ group: line.group, points, ...(curve.window > 1 ? { smoothed: true } : {}) });
        continue;
      }
      const withX = line.runs.filter((r) => resolvedValueAt(r.config, x).present);
      if (withX.length === 0) {
        // a reference level: the group has no such key at all
        const xs = line.runs.map(valueOf).filter((v): v is number => v !== null);
        missing += line.runs.length - xs.length;
        if (xs.length === 0) continue;
        const c = centre(xs.map((v) => v * scale), stat);
        series.push({ group: line.group, reference: true, points: [{ x: NaN, ...c, n: xs.length, label: `${name} (no ${x}): ${spreadText(c, fmt)} (n=${xs.length})` }] });
        continue;
      }
      dropped += line.runs.length - withX.length;
      // keys derived from x (device.dw_min from device.n_states) vary along the line: what must
      // not vary is anything but the seed among the runs of one point
      const byXRuns = new Map<number, PlotRun[]>();
      for (const r of withX) {
        const xv = resolvedValueAt(r.config, x).value as number;
        byXRuns.set(xv, [...(byXRuns.get(xv) ?? []), r]);
      }
      for (const [xv, rs] of byXRuns) checkMixed({ group: line.group, runs: rs }, [panel.title, `${x}=${xv}`].filter((t) => t).join(', '));
      const byX = new Map<number, number[]>();
      for (const r of withX) {
        const v = valueOf(r);
        if (v === null) {
          missing++;
          continue;
        }
        const xv = resolvedValueAt(r.config, x).value as number;
        const list = byX.get(xv);
        if (list) list.push(v * scale);
        else byX.set(xv, [v * scale]);
      }
      const points: FigurePoint[] = [...byX.entries()]
        .sort(([a], [b]) => a - b)
        .map(([xv, xs]) => {
          const c = centre(xs, stat);
          return { x: xv, ...c, n: xs.length, label: `${name}, ${x}=${xv}: ${spreadText(c, fmt)} (n=${xs.length})` };
        });
      if (points.length) series.push({ group: line.group, points });
    }
    return { title: panel.title, series };
  });

  // references get their legend entry marked
  const refGroups = new Set(figurePanels.flatMap((p) => p.series.filter((s) => s.reference).map((s) => s.group)));
  const legend = groups.map((_, i) => (refGroups.has(i) ? `${groupName(i) || 'all runs'} (no ${x})` : groupName(i)));

  // mixed lines, one warning per set of keys (as the table warns about cells)
  const byKeys = new Map<string, { keys: string[]; where: string[] }>();
  for (const m of mixed) {
    const id = m.keys.join(', ');
    const entry = byKeys.get(id) ?? { keys: m.keys, where: [] };
    entry.where.push(m.where);
    byKeys.set(id, entry);
  }
  const mixedUnit = x === 'epoch' ? 'line' : 'point';
  for (const [, { keys, where }] of byKeys) {
    const list = where.length > 4 ? `${where.slice(0, 4).join('; ')} and ${where.length - 4} more` : where.join('; ');
    const what = keys.length > 4 ? `${keys.slice(0, 4).join(', ')} and ${keys.length - 4} more keys` : keys.join(', ');
    warnings.push(
      `${where.length} ${mixedUnit}${where.length === 1 ? '' : 's'} average over runs that differ in ${what}, not only in seed: ${list}; add ${keys.length === 1 ? 'it' : 'them'} to --group or --facet`,
    );
  }
  if (dropped) warnings.push(`${dropped} done run${dropped === 1 ? '' : 's'} without ${x} left out (their group has runs with it)`);
  if (missing) warnings.push(`${missing} done run${missing === 1 ? '' : 's'} without a recorded ${metric}${x === 'epoch' ? ' per epoch' : ''} left out`);
  if (done.length === 0) warnings.push(`${sweep} has no done run yet`);

  const means = figurePanels.flatMap((p) => p.series.flatMap((s) => s.points.map((pt) => pt.y)));
  const xsAll = figurePanels.flatMap((p) => p.series.filter((s) => !s.reference).flatMap((s) => s.points.map((pt) => pt.x)));
  const spans = (vs: number[]) => vs.length > 0 && vs.every((v) => v > 0) && Math.max(...vs) / Math.min(...vs) > 10;
  const yLog = isLoss(metric) && spans(means);
  const xLog = x !== 'epoch' && spans(xsAll);

  if (windows.size) {
    const w = [...windows].sort((a, b) => a - b);
    notes.push(
      `curves of more than ${SMOOTH_ABOVE} epochs: each point is the mean over a window of ${w.join(' or ')} epochs (each run's window mean, then mean ± std over seeds); the faint band is the range of the per-epoch means within the window`,
    );
  }
  if (yLog && stat === 'mean' && figurePanels.some((p) => p.series.some((s) => s.points.some((pt) => pt.std !== null)))) {
    notes.push(`log scale: ±1 std is drawn from mean²/(mean + std) to mean + std, as far below the mean as above on the log axis`);
  }
  const counts = { done: done.length, total: runs.length };
  const failed = runs.filter((r) => r.status === 'failed').length;
  const runText = `${counts.done} of ${counts.total} runs done${failed ? `, ${failed} failed` : ''}`;
  const unit = percent(metric) ? ' (%)' : '';
  const spreadWords = stat === 'median' ? 'median and range (lowest to highest) over seeds' : 'mean ± 1 std over seeds';
  const epochWords = epoch === 'tail' ? 'mean of the last 20 % of epochs' : `${epoch} epoch`;
  const figure: Figure = {
    title: `${sweep}: ${metric}${unit} vs ${x}`,
    subtitle:
      (x === 'epoch' ? `${spreadWords} (shaded)` : `${epochWords}, ${spreadWords} (error bars)`) +
      (facet ? `; one panel per ${facet}` : '') +
      `; ${runText}`,
    xLabel: x,
    yLabel: x === 'epoch' ? `${metric}${unit}` : epoch === 'tail' ? `${metric}${unit}, tail mean` : `${epoch} ${metric}${unit}`,
    xLog,
    yLog,
    spread: x === 'epoch' ? 'band' : 'errorbars',
    xTicksAtData: x !== 'epoch',
    xInteger: x === 'epoch',
    groups: legend,
    legendTitle: group.length ? group.join(', ') : undefined,
    panels: figurePanels,
    notes: [...notes, ...warnings.map((w) => `warning: ${w}`)],
  };
  return { figure, metric, x, group, facet, epoch, stat, warnings };
}

/** A sweep's runs with their epochs, as plotRuns takes them. */
export function loadPlotRuns(db: Db, sweepId: number): PlotRun[] {
  const epochs = sweepEpochMetrics(db, sweepId);
  return sweepRuns(db, sweepId).map((r) => ({ hash: r.hash, status: r.status, config: r.config, assignments: r.assignments, result: r.result, epochs: epochs.get(r.hash) ?? [] }));
}

/** The plot of sweep `sweep` from a results database; StoreError for an unknown sweep, ReportError for bad options. */
export function buildSweepPlot(db: Db, sweep: string, options: PlotOptions = {}): SweepPlot {
  // options that are wrong whatever the sweep holds are refused before looking it up
  plotLayout([], { ...options, group: options.group ?? [], facet: options.facet ?? null });
  const s = requireSweep(db, sweep);
  const runs = loadPlotRuns(db, s.id);
  if (options.metric !== undefined) requireRecordedMetric(s.name, options.metric, runs.map((r) => (r.status === 'done' ? r.result : null)));
  return plotRuns(s.name, runs, { ...options, view: options.view === undefined ? storedView(db, s.id, s.name) : options.view });
}

/** The SVG document of a sweep plot and its warnings. */
export function renderSweepPlot(db: Db, sweep: string, options: PlotOptions = {}): { svg: string; plot: SweepPlot } {
  const plot = buildSweepPlot(db, sweep, options);
  return { svg: renderSvg(plot.figure), plot };
}
