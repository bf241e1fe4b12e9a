/**
 * The report's two tables as HTML: the pivot (as the markdown table, with a `paper` and a `z`
 * column after each data column that has a paper value) and the cost estimates beside the
 * table's metric, cell by cell, with the caveats under it. Every text is escaped.
 */
import { COST_CAVEATS, COST_METRICS, type CostView } from './cost.ts';
import { formatNumber } from './format.ts';
import { titleUnit } from './metric-text.ts';
import type { PivotCell, PivotTable } from './pivot-cells.ts';
import { cellText, paperColumns, paperSources, paperText, pivotTitle, statNote, Z_NOTE, zText } from './pivot-text.ts';
import { escapeXml as esc } from './svg.ts';

/** `key=value`, escaped; a long one (over 24 characters) may break after its `=`. */
function keyValueHtml(key: string, value: string): string {
  const kv = `${key}=${value}`;
  return kv.length > 24 ? `${esc(key)}=<wbr/>${esc(value)}` : esc(kv);
}

/** A column head of several keys: one `key=value` per line. */
function colHeadHtml(keys: readonly string[], labels: readonly string[]): string {
  return keys.map((k, i) => keyValueHtml(k, labels[i])).join(',<br/>');
}

/** A layout key as a column head: it may break after its dots (a long key over short values). */
function keyHeadHtml(key: string): string {
  return esc(key).replace(/\./g, '.<wbr/>');
}

/** The sources of the papers' values, numbered as the cells cite them. */
function sourcesHtml(sources: Iterable<string>): string {
  return `<ol class="sources">${[...sources].map((s) => `<li>paper: ${esc(s)}</li>`).join('')}</ol>`;
}

// ---- the pivot ----------------------------------------------------------------------------------

/**
 * The pivot as an HTML table; as in markdown, a `paper` and a `z` column after each data column
 * that has a paper value.
 */
export function pivotHtml(t: PivotTable): string {
  const rowHeads = t.rows.length ? t.rows : ['runs'];
  const colHeads = t.cols.length ? t.colLabels.map((l) => colHeadHtml(t.cols, l)) : [esc(t.metric)];
  const byAt = new Map(t.cells.map((c) => [`${c.rowIndex}:${c.colIndex}`, c]));
  const withPaper = paperColumns(t);
  const sources = paperSources(t);
  const out = [`<p><strong>${esc(pivotTitle(t))}</strong></p>`, '<div class="scroll">', '<table class="pivot">'];
  const dataHeads = colHeads.flatMap((h, ci) =>
    withPaper.has(ci) ? [`<th>${h}</th>`, '<th class="paper">paper</th>', '<th class="z">z</th>'] : [`<th>${h}</th>`],
  );
  const heads = [...rowHeads.map((h) => `<th>${keyHeadHtml(h)}</th>`), ...dataHeads];
  out.push(`<thead><tr>${heads.join('')}</tr></thead>`, '<tbody>');
  t.rowLabels.forEach((labels, ri) => {
    const rowHead = (t.rows.length ? labels : ['all']).map((l) => `<th>${esc(l)}</th>`);
    const cells = t.colLabels.flatMap((_, ci) => {
      const c = byAt.get(`${ri}:${ci}`);
      const ours = c ? `<td class="num${c.mixed.length ? ' mixed' : ''}">${esc(cellText(t, c))}</td>` : '<td></td>';
      if (!withPaper.has(ci)) return [ours];
      const paper = c?.paper
        ? `<td class="num paper" title="${esc(c.paper.source)}">` +
          `${esc(paperText(t, c))} <sup>[${sources.get(c.paper.source)}]</sup></td>`
        : '<td class="paper"></td>';
      return [ours, paper, `<td class="num z">${esc(zText(c))}</td>`];
    });
    out.push(`<tr>${[...rowHead, ...cells].join('')}</tr>`);
  });
  out.push('</tbody>', '</table>', '</div>', `<p class="note">${esc(statNote(t))}</p>`);
  if (sources.size) out.push(sourcesHtml(sources.keys()), `<p class="note">${esc(Z_NOTE)}</p>`);
  const warnings = [...t.warnings.map((w) => `† warning: ${w}`), ...t.referenceWarnings.map((w) => `warning: ${w}`)];
  if (warnings.length) out.push(`<ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  return out.join('\n');
}

// ---- cost beside accuracy ---------------------------------------------------------------------

/**
 * `6.301 ± 0.015`: a mean with 4 significant digits (a whole number as it is: 270 bytes) and its
 * std to the same decimals; `± <0.001` where the std is below the last printed digit, one
 * significant digit beside a mean in exponent form, and nothing for a value every seed shares.
 */
export function meanStdText(mean: number, std: number | null): string {
  const same = std === null || std <= 1e-12 * Math.abs(mean);
  const m = Number.isInteger(mean) && Math.abs(mean) < 1e9 ? String(mean) : formatNumber(mean);
  if (same) return m;
  const decimals = /^-?\d+\.(\d+)$/.exec(m)?.[1].length ?? (/^-?\d+$/.test(m) ? 0 : -1);
  if (decimals < 0) return `${m} ± ${std.toExponential(0)}`;
  const fixed = std.toFixed(decimals);
  return Number(fixed) !== 0 ? `${m} ± ${fixed}` : `${m} ± <${(10 ** -decimals).toFixed(decimals)}`;
}

/** A cost cell: mean ± std over the cell's runs; `without value` where no done run records it (never 0). */
function costCellText(c: PivotCell | undefined): string {
  if (!c) return '';
  if (c.mean === null) return c.missing ? `without value (${c.missing} run${c.missing === 1 ? '' : 's'})` : '';
  const value = meanStdText(c.mean, c.std);
  return c.missing ? `${value} (n=${c.n}, ${c.missing} without value)` : value;
}

/**
 * Tooltips, as they are (not escaped: the constants column's has a bare `'`, which a double-quoted
 * attribute allows).
 */
const ZERO_ENERGY_TITLE =
  'no analog array is read or pulsed, and digital operations cost no energy unless cost.flop_pj is set';
const CONSTANTS_TITLE = "the cost constants of the cell's runs that differ from the papers' defaults";

/**
 * The cost table: per cell of the results table, its metric (as the results table shows it)
 * beside the mean ± std of update_ns, energy_nj and storage_bytes at the final epoch, the
 * papers' values of any of them where the sweep gives references, and the cell's non-default
 * cost constants; then the caveats.
 */
export function costHtml(pivot: PivotTable, view: CostView): string {
  const sources = new Map<string, number>();
  const paperOf = (t: PivotTable, c: PivotCell | undefined): string => {
    if (!c?.paper) return '';
    if (!sources.has(c.paper.source)) sources.set(c.paper.source, sources.size + 1);
    const cite = `<sup>[${sources.get(c.paper.source)}]</sup>`;
    return ` <span class="paper" title="${esc(c.paper.source)}">paper ${esc(paperText(t, c))} ${cite}</span>`;
  };
  const unit = titleUnit(pivot.metric);
  const heads = [
    ...(view.keys.length ? view.keys : ['runs']).map((k) => `<th>${keyHeadHtml(k)}</th>`),
    `<th>${esc(`${pivot.metric}${unit}`)}</th>`,
    ...COST_METRICS.map((m) => `<th title="${esc(m.what)}">${esc(m.metric)} (${esc(m.unit)})</th>`),
    ...(view.anyConstants ? [`<th title="${CONSTANTS_TITLE}">cost constants</th>`] : []),
  ];
  const caption =
    `${pivot.sweep}: ${pivot.metric}${unit} as in the table above, beside the cost estimates at the ` + `final epoch`;
  const out = [
    `<p><strong>${esc(`${caption} (mean ± std over seeds)`)}</strong></p>`,
    '<div class="scroll">',
    '<table class="cost">',
    `<thead><tr>${heads.join('')}</tr></thead>`,
    '<tbody>',
  ];
  let zeroEnergy = false;
  for (const r of view.rows) {
    const labels = (view.keys.length ? r.labels : ['all']).map((l) => `<th>${esc(l)}</th>`);
    // the table's statistic without its interval (the table above has it), to keep the row short
    const metricText = esc(cellText(pivot, { ...r.cell, ci95: null }));
    const mixed = r.cell.mixed.length ? ' mixed' : '';
    const metricCell = `<td class="num${mixed}">${metricText}${paperOf(pivot, r.cell)}</td>`;
    const costs = r.costs.map((c, i) => {
      const none = c !== undefined && c.mean === null;
      // an energy of 0: nothing analog is read or pulsed, and digital work is not priced (flop_pj 0)
      const zero = COST_METRICS[i].metric === 'energy_nj' && c?.mean === 0;
      if (zero) zeroEnergy = true;
      const text = `${costCellText(c)}${zero ? ' ‡' : ''}`;
      const title = zero ? ` title="${ZERO_ENERGY_TITLE}"` : '';
      return `<td class="num${none ? ' none' : ''}"${title}>${esc(text)}${paperOf(view.pivots[i], c)}</td>`;
    });
    const constantsText = r.constants.length ? r.constants.join(', ') : 'defaults';
    const constants = view.anyConstants ? [`<td class="constants">${esc(constantsText)}</td>`] : [];
    out.push(`<tr>${[...labels, metricCell, ...costs, ...constants].join('')}</tr>`);
  }
  out.push('</tbody>', '</table>', '</div>');
  if (sources.size) out.push(sourcesHtml(sources.keys()));
  const constantsNote = view.anyConstants
    ? 'The runs whose cost constants column is not "defaults" were priced with their own constants ' +
      "(the run config's cost section)."
    : "Every run is priced with the papers' default constants (the run config's cost section changes them).";
  const zeroNote = zeroEnergy
    ? ' ‡ 0 nJ: a run that reads and pulses no analog array (digital SGD) with cost.flop_pj 0 has no energy the ' +
      'model prices.'
    : '';
  out.push(`<p class="note cost-caveats">${esc(`${COST_CAVEATS} ${constantsNote}${zeroNote}`)}</p>`);
  return out.join('\n');
}
