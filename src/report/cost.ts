/**
 * Cost beside accuracy, for the report: per cell of a sweep's table (its default layout, the
 * view's where the sweep has one), the table's metric next to the three hardware cost estimates
 * every run records (update_ns, energy_nj, storage_bytes; docs/cost.md) at the final epoch
 * (means over the whole run), with the non-default `cost.*` constants of the cell's runs; and a
 * scatter of the table's metric against update_ns on a log axis, one point per cell, coloured and
 * labelled by algorithm.
 *
 * Results recorded before the estimates existed have them empty: such a cell says `without
 * value`, never 0, and is left out of the scatter (with a note saying how many).
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import type { Metric } from '../core/tasks/run-result.ts';
import type { SweepRunRow } from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import type { ReferenceCell } from '../sweep/reference.ts';
import { formatNumber } from './format.ts';
import { flattenConfig, keyValuesText, valueText } from './key-values.ts';
import { epochText, logScalable, metricText, printedScale, titleUnit } from './metric-text.ts';
import { type PivotCell, pivotRuns, type PivotTable } from './pivot-cells.ts';
import type { Figure, FigurePoint, FigureSeries } from './svg.ts';

/** The cost estimates, in the order the report shows them, with their units. */
export const COST_METRICS = [
  { metric: 'update_ns', unit: 'ns', what: 'update time per vector update, slowest layer' },
  { metric: 'energy_nj', unit: 'nJ', what: 'energy per training image' },
  { metric: 'storage_bytes', unit: 'bytes', what: 'digital storage' },
] as const satisfies readonly { metric: Metric; unit: string; what: string }[];

/** The caveats of docs/cost.md a reader of the numbers needs, in one note. */
export const COST_CAVEATS =
  "Estimates, not measurements (docs/cost.md): each run's own pulse, read and operation counts priced with the " +
  "papers' constants, means over the whole run. update_ns is the slowest layer's time per vector update (per " +
  'patch in a conv layer). Not in energy_nj: digital operations (cost.flop_pj is 0 unless set, so digital SGD ' +
  "and mixed precision are charged nothing for their digital work), converters and periphery beyond the papers' " +
  "read figures, data movement between tiles and the digital unit. A transfer's column read is charged as a " +
  "full read of the array (an upper bound). Mixed precision's update_ns keeps the residual paper's Table 5 " +
  'operation count, about twice its Table 7. No area.';

export interface CostRow {
  /** the table cell (of the table's metric) this row is about */
  cell: PivotCell;
  /** the cell's row and column labels */
  labels: string[];
  /** one per COST_METRICS entry: the same cell of that metric's pivot (same runs) */
  costs: PivotCell[];
  /** the cell's runs' `cost.*` values other than the defaults (`cost.flop_pj=1`), distinct, sorted */
  constants: string[];
  /** the algorithm of the cell's runs (several joined by `/`) */
  algorithm: string;
  /** whether the cell's runs have a device (digital SGD has none) */
  hasDevice: boolean;
}

export interface CostView {
  /** the layout keys: the table's rows then cols */
  keys: string[];
  rows: CostRow[];
  /** one pivot per COST_METRICS entry, for their paper values */
  pivots: PivotTable[];
  /** whether any run of the sweep sets a cost constant (then the table gets a column for them) */
  anyConstants: boolean;
  /** the scatter of the table's metric against update_ns; null when no cell has both */
  figure: Figure | null;
  /** why there is no figure, or what it leaves out */
  notes: string[];
}

/** A run's non-default cost constants: its canonical config keeps only those. */
function costConstants(config: Record<string, unknown>): string[] {
  const section = config.cost;
  if (typeof section !== 'object' || section === null) return [];
  const text = (v: unknown) => (typeof v === 'string' ? v : canonicalJson(v));
  return [...flattenConfig(section, 'cost').entries()].map(([k, v]) => `${k}=${text(v)}`);
}

/** The cost view of a sweep's table `pivot` (pivotRuns of the same `runs`, in expansion order). */
export function costView(
  pivot: PivotTable,
  runs: readonly SweepRunRow[],
  references: readonly ReferenceCell[] = [],
): CostView {
  const layout = { rows: pivot.rows, cols: pivot.cols };
  const pivots = COST_METRICS.map(({ metric }) => {
    const valued = runs.map((r) => ({
      hash: r.hash,
      status: r.status,
      config: r.config,
      value: r.status === 'done' && r.result ? r.result[metric] : null,
    }));
    return pivotRuns(pivot.sweep, valued, { ...layout, metric }, 'final', references);
  });
  const at = (t: PivotTable) => new Map(t.cells.map((c) => [`${c.rowIndex}:${c.colIndex}`, c]));
  const byAt = pivots.map(at);
  const byHash = new Map(runs.map((r) => [r.hash, r]));
  let anyConstants = false;
  const rows: CostRow[] = pivot.cells.map((cell) => {
    const id = `${cell.rowIndex}:${cell.colIndex}`;
    const configs = cell.hashes.map((h) => byHash.get(h)?.config ?? {});
    const constants = [...new Set(configs.flatMap(costConstants))].sort();
    if (constants.length) anyConstants = true;
    return {
      cell,
      labels: [...pivot.rowLabels[cell.rowIndex], ...pivot.colLabels[cell.colIndex]],
      costs: byAt.map((m) => m.get(id) as PivotCell),
      constants,
      algorithm: [...new Set(configs.map((c) => valueText(resolvedValueAt(c, 'algorithm'))))].join('/'),
      hasDevice: configs.some((c) => resolvedValueAt(c, 'device').present),
    };
  });
  const { figure, notes } = costFigure(pivot, rows);
  return { keys: [...pivot.rows, ...pivot.cols], rows, pivots, anyConstants, figure, notes };
}

/** What the scatter's x is. */
const X_WHAT = 'update_ns at the final epoch (the whole run), mean ± 1 std';

/** A key's last part (`device.n_states` -> `n_states`), for short point labels. */
const short = (key: string): string => key.slice(key.lastIndexOf('.') + 1);

/**
 * The scatter: x = update_ns (log axis, ±1 std of the cell's runs), y = the table's metric and
 * statistic; one colour per algorithm; one panel per value of the first layout key (columns
 * first) that is neither `algorithm` nor specific to some algorithms (a key every run with a
 * device has: `device.n_states`, `task.kind`), cells without it (digital SGD) in every panel.
 */
function costFigure(pivot: PivotTable, rows: readonly CostRow[]): { figure: Figure | null; notes: string[] } {
  const notes: string[] = [];
  const keys = [...pivot.rows, ...pivot.cols];
  const usable = rows.filter((r) => r.cell.mean !== null && r.costs[0].mean !== null && r.costs[0].mean > 0);
  const noCost = rows.filter((r) => r.cell.mean !== null && r.costs[0].mean === null).length;
  if (noCost) {
    const cells = `${noCost} cell${noCost === 1 ? '' : 's'} without update_ns`;
    const are = noCost === 1 ? 'is' : 'are';
    notes.push(`${cells} (results recorded before the cost estimates existed) ${are} not drawn`);
  }
  if (usable.length === 0) return { figure: null, notes };

  const keyIndex = (k: string) => keys.indexOf(k);
  const labelOf = (r: CostRow, k: string) => r.labels[keyIndex(k)];
  const algorithmOf = (r: CostRow): string => r.algorithm;
  const algorithms = [...new Set(usable.map(algorithmOf))];
  // a key is specific to some algorithms (n_tiles, tile_gamma) when a cell with a device lacks it;
  // one that only cells without a device lack (device.n_states of digital SGD) is a condition
  const specific = (k: string) => usable.some((r) => labelOf(r, k) === '-' && r.hasDevice);
  const facet = [...pivot.cols, ...pivot.rows].find((k) => {
    if (k === 'algorithm' || specific(k)) return false;
    const values = new Set(usable.map((r) => labelOf(r, k)));
    values.delete('-');
    // more than 6 panels would each be too small to read: then one panel, the key in the tooltips
    return values.size >= 2 && values.size <= 6;
  });
  const panelValues = facet ? [...new Set(usable.map((r) => labelOf(r, facet)).filter((v) => v !== '-'))] : [''];
  const groupOf = new Map(algorithms.map((a, i) => [a, i]));
  const scale = printedScale(pivot.metric);
  const fmtY = (v: number) => metricText(pivot.metric, v / scale);
  const median = pivot.stat === 'median';
  const tagKeys = keys.filter((k) => k !== 'algorithm' && k !== facet && specific(k));

  const point = (r: CostRow): FigurePoint => {
    const c = r.cell;
    const u = r.costs[0];
    const y = ((median ? c.median : c.mean) as number) * scale;
    const range = c.n >= 2 && c.min !== null && c.max !== null;
    const spread: { std: number | null; bounds?: [number, number] } = median
      ? range
        ? { std: null, bounds: [(c.min as number) * scale, (c.max as number) * scale] }
        : { std: null }
      : { std: c.std === null ? null : c.std * scale };
    const tagParts = tagKeys.flatMap((k) => (labelOf(r, k) === '-' ? [] : [`${short(k)}=${labelOf(r, k)}`]));
    const where = keyValuesText(keys, r.labels);
    const yText = median
      ? `${fmtY(y)}${spread.bounds ? ` [${fmtY(spread.bounds[0])}, ${fmtY(spread.bounds[1])}]` : ''}`
      : `${fmtY(y)}${spread.std === null ? '' : ` ± ${fmtY(spread.std)}`}`;
    const xText = `${formatNumber(u.mean as number)}${u.std === null ? '' : ` ± ${formatNumber(u.std)}`}`;
    return {
      x: u.mean as number,
      xStd: u.std,
      y,
      ...spread,
      n: c.n,
      tag: [algorithmOf(r), ...tagParts].join(' '),
      label: `${where || 'all runs'}: ${pivot.metric} ${yText}, update_ns ${xText} ns (n=${c.n})`,
    };
  };
  const panels = panelValues.map((v) => {
    const inPanel = usable.filter((r) => !facet || labelOf(r, facet) === v || labelOf(r, facet) === '-');
    const series: FigureSeries[] = algorithms.flatMap((a) => {
      const pts = inPanel.filter((r) => algorithmOf(r) === a).map(point);
      return pts.length ? [{ group: groupOf.get(a) as number, points: pts.sort((p, q) => p.x - q.x) }] : [];
    });
    return { title: facet ? `${facet}=${v}` : '', series };
  });
  if (facet && usable.some((r) => labelOf(r, facet) === '-')) {
    notes.push(`cells without ${facet} (no device) are drawn in every panel`);
  }
  const ys = usable.map((r) => ((median ? r.cell.median : r.cell.mean) as number) * scale);
  const yLog = logScalable(pivot.metric) && ys.every((y) => y > 0) && Math.max(...ys) / Math.min(...ys) > 10;
  const unit = titleUnit(pivot.metric);
  const yWhat = `${epochText(pivot.epoch)}, ${median ? 'median and range over seeds' : 'mean ± 1 std over seeds'}`;
  const figure: Figure = {
    title: `${pivot.sweep}: ${pivot.metric}${unit} against update time`,
    subtitle: `one point per cell of the table; y: ${yWhat}; x: ${X_WHAT}`,
    xLabel: 'update_ns (ns per vector update)',
    yLabel: `${pivot.metric}${unit}`,
    xLog: true,
    yLog,
    spread: 'errorbars',
    scatter: true,
    groups: algorithms,
    legendTitle: 'algorithm',
    panels,
    notes: [...notes, 'estimates (docs/cost.md): see the note under the cost table'],
  };
  return { figure, notes };
}
