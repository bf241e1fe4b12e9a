/**
 * The markdown, CSV and JSON forms of a pivot table (`table --format md|csv|json`), with the
 * papers' values and z beside the cells that have them. Every form gives the metric in the unit
 * its title prints (metric-text.ts); CSV and JSON name it in a `unit` field.
 */
import type { KeyValue } from '../core/config/resolved-value.ts';
import { toCsv } from './format.ts';
import { keyValuesText } from './key-values.ts';
import { inPrintedUnit, metricUnit } from './metric-text.ts';
import type { PivotCell, PivotTable } from './pivot-cells.ts';
import { cellText, paperColumns, paperSources, paperText, pivotTitle, statNote, Z_NOTE, zText } from './pivot-text.ts';

function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * A GitHub markdown table under a title line; each data column with a paper value in at least
 * one cell is followed by a `paper` column (the value and its source's number) and a `z`
 * column; the sources, what z is, and the warnings (cells marked †) below.
 */
export function formatPivotMarkdown(t: PivotTable): string {
  const rowHeads = t.rows.length ? t.rows : ['runs'];
  const colHeads = t.cols.length ? t.colLabels.map((l) => keyValuesText(t.cols, l)) : [t.metric];
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
      const ours = c ? cellText(t, c) : '';
      if (!withPaper.has(ci)) return [ours];
      const paper = c?.paper ? `${paperText(t, c)} [${sources.get(c.paper.source)}]` : '';
      return [ours, paper, zText(c)];
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

/** A key's value as JSON gives it: as it is, null when absent. */
function rawValue(v: KeyValue): unknown {
  return v.present ? v.value : null;
}

/** A key's value as a CSV field: as it is, `-` when absent, JSON for lists and objects. */
function labelField(v: KeyValue): unknown {
  if (!v.present) return '-';
  return typeof v.value === 'object' && v.value !== null ? JSON.stringify(v.value) : v.value;
}

const CSV_HEADER = [
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

/**
 * One line per cell: row keys, column keys, mean, std, the 95 % t-interval of the mean
 * (`ci95_lo`, `ci95_hi`), median, min, max, the unit of all of these, n, failed, queued,
 * running, missing, mixed, then the paper's mean, std and source and z (empty where the cell has
 * none). Values in the printed unit (percent for accuracies, as the markdown table and the
 * sweep's `reference:` give them), at full precision.
 */
export function formatPivotCsv(t: PivotTable): string {
  const u = (x: number | null | undefined) => inPrintedUnit(t.metric, x);
  const rows = t.cells.map((c: PivotCell) => [
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
  return toCsv([...t.rows, ...t.cols, ...CSV_HEADER], rows);
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
