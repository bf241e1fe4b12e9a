/**
 * Text forms of reports: numbers, RFC 4180 CSV, aligned text tables, and the markdown, CSV and
 * JSON forms of a pivot table (with the papers' values and z beside the cells that have them).
 *
 * One rule for units: every form of a table gives the metric in the unit its title prints,
 * accuracies in percent and every other metric as stored (ns, nJ, bytes, ms, or a loss or error
 * without unit); CSV and JSON name it in a `unit` field. Only `export` and `query` give the
 * stored values themselves (accuracies as fractions).
 */
import type { KeyValue } from '../core/config/resolved-value.ts';
import { isAccuracyMetric, type Metric } from '../core/tasks/run-result.ts';
import type { PivotCell, PivotTable } from './pivot.ts';

// ---- numbers and durations ------------------------------------------------------------------

/** Four significant digits; plain notation from 1e-3 to 1e9, exponential outside. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return x.toPrecision(4);
  if (a >= 1e4 && a < 1e9) return x.toFixed(0);
  return x.toExponential(3);
}

/** 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

// ---- CSV (RFC 4180) -------------------------------------------------------------------------

export const CSV_EOL = '\r\n';

/** One field: null/undefined empty; quoted when it holds a comma, quote, CR or LF (quotes doubled). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: readonly unknown[]): string {
  return fields.map(csvField).join(',') + CSV_EOL;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return csvLine(header) + rows.map(csvLine).join('');
}

// ---- aligned text ---------------------------------------------------------------------------

/** Columns padded to their widest cell; `right[i]` right-aligns column i. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

// ---- pivot tables ---------------------------------------------------------------------------

export function cellName(keys: readonly string[], labels: readonly string[]): string {
  return keys.map((k, i) => `${k}=${labels[i]}`).join(', ');
}

function percentMetric(t: PivotTable): boolean {
  return isAccuracyMetric(t.metric);
}

/** A value of the table's metric as tables print it: percent with 2 decimals for accuracies, else 4 significant digits. */
export function metricText(t: Pick<PivotTable, 'metric'>, x: number): string {
  return isAccuracyMetric(t.metric) ? (100 * x).toFixed(2) : formatNumber(x);
}

/** The unit tables print a metric in: `%` for accuracies, `ns`, `nJ`, `bytes`, `ms`; '' for losses and errors. */
export function metricUnit(metric: Metric): string {
  if (isAccuracyMetric(metric)) return '%';
  return ({ update_ns: 'ns', energy_nj: 'nJ', storage_bytes: 'bytes', wall_ms: 'ms' } as Partial<Record<Metric, string>>)[metric] ?? '';
}

/** A stored value in the printed unit, at full precision (percent for accuracies: 0.6809 is 68.09). */
export function inPrintedUnit(metric: Metric, x: number | null | undefined): number | null {
  if (x === null || x === undefined) return null;
  return isAccuracyMetric(metric) ? Number((100 * x).toPrecision(15)) : x;
}

/**
 * What a cell shows of its values, without the counts: `mean ± std [lo, hi]` (the 95 %
 * t-interval of the mean) or `median [min, max]`; the value alone for n = 1 (no spread to
 * show); '' without a value.
 */
export function cellValueText(t: Pick<PivotTable, 'metric' | 'stat'>, c: PivotCell): string {
  if (c.mean === null) return '';
  const num = (x: number) => metricText(t, x);
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
    ? 'median [min, max]: the middle value over the seeds (n even: the mean of the two middle ones) and the lowest and highest; the value alone where n = 1'
    : "[lo, hi]: 95 % confidence interval of the mean over the seeds, mean ± t(0.975, n-1) std/√n, clipped to the metric's range; none where n = 1 (no spread to estimate), and wide for n = 2 (t = 12.7)";
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
export function paperText(t: PivotTable, c: PivotCell | undefined): string {
  if (!c?.paper) return '';
  return `${metricText(t, c.paper.mean)}${c.paper.std === null ? '' : ` ± ${metricText(t, c.paper.std)}`}`;
}

/** z with one decimal and its sign (`+0.4`, `-2.1`); empty when there is none. */
export function zText(c: PivotCell | undefined): string {
  if (c?.z === null || c?.z === undefined) return '';
  const s = c.z.toFixed(1);
  return s === '-0.0' ? '0.0' : c.z > 0 ? `+${s}` : s;
}

/** What z is, for the line under a table that shows it. */
export const Z_NOTE = 'z = (mean - paper) / sqrt(std² + paper std²) in the printed unit (a std the paper does not give counts as 0); empty where n < 2 or both stds are 0';

function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
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

function markdownCell(t: PivotTable, c: PivotCell | undefined): string {
  return c ? cellText(t, c) : '';
}

function runCountsText(t: PivotTable): string {
  const { total, done, failed, queued, running } = t.counts;
  const parts = [`${done} done`];
  if (failed) parts.push(`${failed} failed`);
  if (queued) parts.push(`${queued} queued`);
  if (running) parts.push(`${running} running`);
  return `${total} run${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

export function pivotTitle(t: PivotTable): string {
  return `${t.sweep}: ${t.metric}${percentMetric(t) ? ' (%)' : ''}, ${t.epoch === 'tail' ? 'mean of the last 20 % of epochs' : `${t.epoch} epoch`}, ${statTitle(t)} over seeds (${runCountsText(t)})`;
}

/**
 * A GitHub markdown table under a title line; each data column with a paper value in at least
 * one cell is followed by a `paper` column (the value and its source's number) and a `z`
 * column; the sources, what z is, and the warnings (cells marked †) below.
 */
export function formatPivotMarkdown(t: PivotTable): string {
  const rowHeads = t.rows.length ? t.rows : ['runs'];
  const colHeads = t.cols.length ? t.colLabels.map((l) => cellName(t.cols, l)) : [t.metric];
  const byAt = new Map(t.cells.map((c) => [`${c.rowIndex}:${c.colIndex}`, c]));
  const withPaper = paperColumns(t);
  const sources = paperSources(t);
  const dataHeads = colHeads.flatMap((h, ci) => (withPaper.has(ci) ? [h, 'paper', 'z'] : [h]));
  const lines = [`### ${mdEscape(pivotTitle(t))}`, ''];
  lines.push(`| ${[...rowHeads, ...dataHeads].map(mdEscape).join(' | ')} |`);
  lines.push(`|${rowHeads.map(() => '---').join('|')}|${dataHeads.map(() => '--:').join('|')}|`);
  t.rowLabels.forEach((labels, ri) => {
    const heads = t.rows.length ? labels : ['all'];
    const cells = t.colLabels.flatMap((_, ci) => {
      const c = byAt.get(`${ri}:${ci}`);
      if (!withPaper.has(ci)) return [markdownCell(t, c)];
      const paper = c?.paper ? `${paperText(t, c)} [${sources.get(c.paper.source)}]` : '';
      return [markdownCell(t, c), paper, zText(c)];
    });
    lines.push(`| ${[...heads, ...cells].map(mdEscape).join(' | ')} |`);
  });
  lines.push('', mdEscape(statNote(t)));
  if (sources.size) {
    for (const [source, n] of sources) lines.push(`paper [${n}]: ${mdEscape(source)}`);
    lines.push(mdEscape(Z_NOTE));
  }
  if (t.warnings.length || t.referenceWarnings.length) {
    lines.push('');
    for (const w of t.warnings) lines.push(`† warning: ${mdEscape(w)}`);
    for (const w of t.referenceWarnings) lines.push(`warning: ${mdEscape(w)}`);
  }
  return lines.join('\n') + '\n';
}

function rawValue(v: KeyValue): unknown {
  return v.present ? v.value : null;
}

function labelField(v: KeyValue): unknown {
  if (!v.present) return '-';
  return typeof v.value === 'object' && v.value !== null ? JSON.stringify(v.value) : v.value;
}

/**
 * One line per cell: row keys, column keys, mean, std, the 95 % t-interval of the mean
 * (`ci95_lo`, `ci95_hi`), median, min, max, the unit of all of these, n, failed, queued,
 * running, missing, mixed, then the paper's mean, std and source and z (empty where the cell has
 * none). Values in the printed unit (percent for accuracies, as the markdown table and the
 * sweep's `reference:` give them), at full precision.
 */
export function formatPivotCsv(t: PivotTable): string {
  const header = [
    ...t.rows,
    ...t.cols,
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
  ];
  const u = (x: number | null | undefined) => inPrintedUnit(t.metric, x);
  const rows = t.cells.map((c) => [
    ...c.row.map(labelField),
    ...c.col.map(labelField),
    u(c.mean),
    u(c.std),
    u(c.ci95?.[0]),
    u(c.ci95?.[1]),
    u(c.median),
    u(c.min),
    u(c.max),
    metricUnit(t.metric),
    c.n,
    c.failed,
    c.queued,
    c.running,
    c.missing,
    c.mixed.map((m) => m.key).join(' '),
    u(c.paper?.mean),
    u(c.paper?.std),
    c.paper?.source,
    c.z,
  ]);
  return toCsv(header, rows);
}

/**
 * An array of cell objects (absent keys as null; values in the printed unit, named by `unit`:
 * percent for accuracies), each with `ci95` ([lo, hi] or null), `paper` ({ mean, std, source,
 * where } in the same unit, or null) and `z` (or null).
 */
export function formatPivotJson(t: PivotTable): string {
  const u = (x: number | null | undefined) => inPrintedUnit(t.metric, x);
  const cells = t.cells.map((c) => ({
    row: Object.fromEntries(t.rows.map((k, i) => [k, rawValue(c.row[i])])),
    col: Object.fromEntries(t.cols.map((k, i) => [k, rawValue(c.col[i])])),
    metric: t.metric,
    epoch: t.epoch,
    stat: t.stat,
    unit: metricUnit(t.metric),
    mean: u(c.mean),
    std: u(c.std),
    ci95: c.ci95 ? [u(c.ci95[0]), u(c.ci95[1])] : null,
    median: u(c.median),
    min: u(c.min),
    max: u(c.max),
    n: c.n,
    failed: c.failed,
    queued: c.queued,
    running: c.running,
    missing: c.missing,
    mixed: c.mixed,
    runs: c.hashes,
    paper: c.paper ? { ...c.paper, mean: u(c.paper.mean), std: u(c.paper.std) } : null,
    z: c.z,
  }));
  return JSON.stringify(cells, null, 2) + '\n';
}
