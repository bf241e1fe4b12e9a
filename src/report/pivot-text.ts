/**
 * The texts of a pivot table's parts, as the markdown table and the report's HTML table both
 * print them: its title, each cell (value, spread, counts, † when it mixes runs), the papers'
 * values and z beside the cells, and the notes under the table. Values in the unit the title
 * prints (metric-text.ts).
 */
import { epochText, metricText, titleUnit } from './metric-text.ts';
import type { PivotCell, PivotTable } from './pivot-cells.ts';

/**
 * What a cell shows of its values, without the counts: `mean ± std [lo, hi]` (the 95 %
 * t-interval of the mean) or `median [min, max]`; the value alone for n = 1 (no spread to
 * show); '' without a value.
 */
export function cellValueText(t: Pick<PivotTable, 'metric' | 'stat'>, c: PivotCell): string {
  if (c.mean === null) return '';
  const num = (x: number) => metricText(t.metric, x);
  if (t.stat === 'median') {
    const m = c.median ?? c.mean;
    return c.n >= 2 && c.min !== null && c.max !== null ? `${num(m)} [${num(c.min)}, ${num(c.max)}]` : num(m);
  }
  if (c.std === null) return num(c.mean);
  return `${num(c.mean)} ± ${num(c.std)}${c.ci95 ? ` [${num(c.ci95[0])}, ${num(c.ci95[1])}]` : ''}`;
}

/** What the cells of a table show, for its title: `mean ± std [95 % CI]` or `median [min, max]`. */
export function statTitle(t: Pick<PivotTable, 'stat'>): string {
  return t.stat === 'median' ? 'median [min, max]' : 'mean ± std [95 % CI]';
}

/** What the bracket of a cell is, for the line under a table. */
export function statNote(t: Pick<PivotTable, 'stat'>): string {
  return t.stat === 'median'
    ? 'median [min, max]: the middle value over the seeds (n even: the mean of the two middle ones) and the lowest ' +
        'and highest; the value alone where n = 1'
    : '[lo, hi]: 95 % confidence interval of the mean over the seeds, mean ± t(0.975, n-1) std/√n, clipped to the ' +
        "metric's range; none where n = 1 (no spread to estimate), and wide for n = 2 (t = 12.7)";
}

/** `n=2, 1 failed, 1 queued` */
export function countsText(c: Pick<PivotCell, 'n' | 'failed' | 'queued' | 'running' | 'missing'>): string {
  const parts = [`n=${c.n}`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.queued) parts.push(`${c.queued} queued`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.missing) parts.push(`${c.missing} without value`);
  return parts.join(', ');
}

/** A whole cell: its value (cellValueText), its counts, † when it mixes runs. */
export function cellText(t: Pick<PivotTable, 'metric' | 'stat'>, c: PivotCell): string {
  const value = cellValueText(t, c);
  return `${value ? `${value} ` : ''}(${countsText(c)})${c.mixed.length ? ' †' : ''}`;
}

/** `22 runs: 20 done, 1 failed, 1 queued` */
function runCountsText(t: PivotTable): string {
  const { total, done, failed, queued, running } = t.counts;
  const parts = [`${done} done`];
  if (failed) parts.push(`${failed} failed`);
  if (queued) parts.push(`${queued} queued`);
  if (running) parts.push(`${running} running`);
  return `${total} run${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** The title line of a table: sweep, metric and unit, epoch statistic, what the cells show, run counts. */
export function pivotTitle(t: PivotTable): string {
  const what = `${t.metric}${titleUnit(t.metric)}, ${epochText(t.epoch)}, ${statTitle(t)}`;
  return `${t.sweep}: ${what} over seeds (${runCountsText(t)})`;
}

// ---- the papers' values beside the cells ----------------------------------------------------

/** The column indices that have a paper value in at least one cell (they get `paper` and `z` columns). */
export function paperColumns(t: PivotTable): Set<number> {
  return new Set(t.cells.filter((c) => c.paper !== null).map((c) => c.colIndex));
}

/** The distinct sources of the paper values, numbered 1, 2, ... in row-major order. */
export function paperSources(t: PivotTable): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of t.cells) if (c.paper && !out.has(c.paper.source)) out.set(c.paper.source, out.size + 1);
  return out;
}

/** `68.09 ± 0.49`: the paper's value in the printed unit; empty without one. */
export function paperText(t: Pick<PivotTable, 'metric'>, c: PivotCell | undefined): string {
  if (!c?.paper) return '';
  const std = c.paper.std === null ? '' : ` ± ${metricText(t.metric, c.paper.std)}`;
  return `${metricText(t.metric, c.paper.mean)}${std}`;
}

/** z with one decimal and its sign (`+0.4`, `-2.1`); empty when there is none. */
export function zText(c: PivotCell | undefined): string {
  if (c?.z === null || c?.z === undefined) return '';
  const s = c.z.toFixed(1);
  return s === '-0.0' ? '0.0' : c.z > 0 ? `+${s}` : s;
}

/** What z is, for the line under a table that shows it. */
export const Z_NOTE =
  'z = (mean - paper) / sqrt(std² + paper std²) in the printed unit (a std the paper does not give counts as 0); ' +
  'empty where n < 2 or both stds are 0';
