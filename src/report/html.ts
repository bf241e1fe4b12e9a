/**
 * The report of one sweep as a single self-contained HTML file: inline CSS and SVG, no scripts,
 * no external resources. It holds the sweep's name, description and definition, where its
 * results came from (package and numerics versions, git commits, hosts), its run counts, the
 * default pivot table (with its warnings, and the papers' values and z where the sweep gives
 * references; the sweep's view decides the layout where it gives one), the cost estimates beside
 * that table's metric (a table and a scatter against update_ns, src/report/cost.ts), the plots
 * (learning curves of the default metric, the final metric against every numeric swept key), the
 * failed runs with their errors, and the commands that reproduce it.
 * Tables wider than the window, and figures beyond shrinking to 3/4 of their size, scroll
 * sideways inside their own box, never the page (test/report-browser.test.ts looks).
 */
import type { Db } from '../store/open.ts';
import { type ProvenanceRow, requireSweep, sweepDetails, type SweepRunRow, sweepRuns, sweepEpochMetrics } from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import { referencesOfStoredDefinition } from '../sweep/reference.ts';
import { COST_CAVEATS, COST_METRICS, type CostView, costView } from './cost.ts';
import { cellText, formatNumber, paperColumns, paperSources, paperText, pivotTitle, statNote, Z_NOTE, zText } from './format.ts';
import { buildSweepPivot, ReportError, storedView, type PivotCell, type PivotTable } from './pivot.ts';
import { numericSweptKeys, type PlotRun, plotRuns, type SweepPlot } from './plot.ts';
import { escapeXml, renderSvg } from './svg.ts';

export interface ReportOptions {
  /** the database as the reader names it (for the commands to reproduce) */
  db: string;
  /** the time the report is made (ms); default now */
  now?: number;
}

export interface SweepReport {
  html: string;
  plots: SweepPlot[];
  /** the cost table and scatter (the scatter null when no cell records update_ns) */
  cost: CostView;
  failed: number;
  /** the table's and the plots' warnings */
  warnings: string[];
}

const esc = escapeXml;

/** A word safe for a POSIX shell as it is, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const iso = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

const CSS = `
body { font: 15px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 28px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
nav a { margin-right: 14px; }
.meta, .note { color: #555; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mixed { background: #fff6e0; }
th.paper, td.paper, th.z, td.z { background: #f2f6fc; }
table.cost td.none { color: #777; font-style: italic; }
table.cost span.paper { color: #345; background: #f2f6fc; padding: 0 3px; }
table.cost td.constants { font-size: 12px; min-width: 10em; }
table.pivot tbody th, table.cost tbody th { white-space: nowrap; }
ol.sources { font-size: 13px; color: #555; margin: 4px 0; }
pre, code { font: 12.5px/1.4 ui-monospace, Menlo, Consolas, monospace; }
pre { background: #f6f6f6; padding: 10px 12px; overflow-x: auto; border: 1px solid #e4e4e4; }
pre.error { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 4px 6px; background: #fff4f4; border-color: #f0d0d0; min-width: 16em; }
table.failed td.swept { min-width: 12em; }
figure { margin: 16px 0 28px; }
figure .scroll svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: #555; }
ul.warnings li { color: #8a5a00; }
`;

/** A table inside a box that scrolls sideways when the table is wider than the page. */
function scrolling(tableHtml: string): string {
  return `<div class="scroll">\n${tableHtml}\n</div>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`);
  return scrolling(`<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs.join('\n')}\n</tbody>\n</table>`);
}

/** `key=value`, escaped; a long one (over 24 characters) may break after its `=`. */
function keyValueHtml(key: string, value: string): string {
  const kv = `${key}=${value}`;
  return kv.length > 24 ? `${esc(key)}=<wbr/>${esc(value)}` : esc(kv);
}

/** A column head of several keys: one `key=value` per line. */
function colHeadHtml(keys: readonly string[], labels: readonly string[]): string {
  return keys.map((k, i) => keyValueHtml(k, labels[i])).join(',<br/>');
}

// ---- the pivot as HTML ------------------------------------------------------------------------

/** The pivot as an HTML table; as in markdown, a `paper` and a `z` column after each data column that has a paper value. */
export function pivotHtml(t: PivotTable): string {
  const rowHeads = t.rows.length ? t.rows : ['runs'];
  const colHeads = t.cols.length ? t.colLabels.map((l) => colHeadHtml(t.cols, l)) : [esc(t.metric)];
  const byAt = new Map(t.cells.map((c) => [`${c.rowIndex}:${c.colIndex}`, c]));
  const withPaper = paperColumns(t);
  const sources = paperSources(t);
  const out = [`<p><strong>${esc(pivotTitle(t))}</strong></p>`, '<div class="scroll">', '<table class="pivot">'];
  const dataHeads = colHeads.flatMap((h, ci) => (withPaper.has(ci) ? [`<th>${h}</th>`, '<th class="paper">paper</th>', '<th class="z">z</th>'] : [`<th>${h}</th>`]));
  out.push(`<thead><tr>${[...rowHeads.map((h) => `<th>${keyHeadHtml(h)}</th>`), ...dataHeads].join('')}</tr></thead>`, '<tbody>');
  t.rowLabels.forEach((labels, ri) => {
    const heads = (t.rows.length ? labels : ['all']).map((l) => `<th>${esc(l)}</th>`);
    const cells = t.colLabels.flatMap((_, ci) => {
      const c = byAt.get(`${ri}:${ci}`);
      const ours = c ? `<td class="num${c.mixed.length ? ' mixed' : ''}">${esc(cellText(t, c))}</td>` : '<td></td>';
      if (!withPaper.has(ci)) return [ours];
      const paper = c?.paper
        ? `<td class="num paper" title="${esc(c.paper.source)}">${esc(paperText(t, c))} <sup>[${sources.get(c.paper.source)}]</sup></td>`
        : '<td class="paper"></td>';
      return [ours, paper, `<td class="num z">${esc(zText(c))}</td>`];
    });
    out.push(`<tr>${[...heads, ...cells].join('')}</tr>`);
  });
  out.push('</tbody>', '</table>', '</div>', `<p class="note">${esc(statNote(t))}</p>`);
  if (sources.size) {
    out.push(`<ol class="sources">${[...sources.keys()].map((s) => `<li>paper: ${esc(s)}</li>`).join('')}</ol>`, `<p class="note">${esc(Z_NOTE)}</p>`);
  }
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

/** A layout key as a column head: it may break after its dots (a long key over short values). */
function keyHeadHtml(key: string): string {
  return esc(key).replace(/\./g, '.<wbr/>');
}

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
    return ` <span class="paper" title="${esc(c.paper.source)}">paper ${esc(paperText(t, c))} <sup>[${sources.get(c.paper.source)}]</sup></span>`;
  };
  const unit = pivot.metric === 'test_accuracy' || pivot.metric === 'train_accuracy' ? ' (%)' : '';
  const heads = [
    ...(view.keys.length ? view.keys : ['runs']).map((k) => `<th>${keyHeadHtml(k)}</th>`),
    `<th>${esc(`${pivot.metric}${unit}`)}</th>`,
    ...COST_METRICS.map((m) => `<th title="${esc(m.what)}">${esc(m.metric)} (${esc(m.unit)})</th>`),
    ...(view.anyConstants ? ['<th title="the cost constants of the cell\'s runs that differ from the papers\' defaults">cost constants</th>'] : []),
  ];
  const out = [
    `<p><strong>${esc(`${pivot.sweep}: ${pivot.metric}${unit} as in the table above, beside the cost estimates at the final epoch (mean ± std over seeds)`)}</strong></p>`,
    '<div class="scroll">',
    '<table class="cost">',
    `<thead><tr>${heads.join('')}</tr></thead>`,
    '<tbody>',
  ];
  let zeroEnergy = false;
  for (const r of view.rows) {
    const labels = (view.keys.length ? r.labels : ['all']).map((l) => `<th>${esc(l)}</th>`);
    // the table's statistic without its interval (the table above has it), to keep the row short
    const metricCell = `<td class="num${r.cell.mixed.length ? ' mixed' : ''}">${esc(cellText(pivot, { ...r.cell, ci95: null }))}${paperOf(pivot, r.cell)}</td>`;
    const costs = r.costs.map((c, i) => {
      const none = c !== undefined && c.mean === null;
      // an energy of 0: nothing analog is read or pulsed, and digital work is not priced (flop_pj 0)
      const zero = COST_METRICS[i].metric === 'energy_nj' && c?.mean === 0;
      if (zero) zeroEnergy = true;
      const text = `${costCellText(c)}${zero ? ' ‡' : ''}`;
      return `<td class="num${none ? ' none' : ''}"${zero ? ' title="no analog array is read or pulsed, and digital operations cost no energy unless cost.flop_pj is set"' : ''}>${esc(text)}${paperOf(view.pivots[i], c)}</td>`;
    });
    const constants = view.anyConstants ? [`<td class="constants">${esc(r.constants.length ? r.constants.join(', ') : 'defaults')}</td>`] : [];
    out.push(`<tr>${[...labels, metricCell, ...costs, ...constants].join('')}</tr>`);
  }
  out.push('</tbody>', '</table>', '</div>');
  if (sources.size) out.push(`<ol class="sources">${[...sources.keys()].map((s) => `<li>paper: ${esc(s)}</li>`).join('')}</ol>`);
  const constantsNote = view.anyConstants
    ? 'The runs whose cost constants column is not "defaults" were priced with their own constants (the run config\'s cost section).'
    : "Every run is priced with the papers' default constants (the run config's cost section changes them).";
  const zeroNote = zeroEnergy ? ' ‡ 0 nJ: a run that reads and pulses no analog array (digital SGD) with cost.flop_pj 0 has no energy the model prices.' : '';
  out.push(`<p class="note cost-caveats">${esc(`${COST_CAVEATS} ${constantsNote}${zeroNote}`)}</p>`);
  return out.join('\n');
}

// ---- provenance -------------------------------------------------------------------------------

function provenanceRows(runs: readonly SweepRunRow[], recordedBy: ProvenanceRow | null): string[][] {
  const by = new Map<string, { p: ProvenanceRow | null; n: number }>();
  for (const r of runs) {
    if (r.result === null) continue;
    const id = canonicalJson(r.result.provenance);
    const e = by.get(id) ?? { p: r.result.provenance, n: 0 };
    e.n++;
    by.set(id, e);
  }
  const row = (what: string, p: ProvenanceRow | null, n: string) =>
    p === null ? [what, '(not recorded)', '', '', '', '', '', n] : [what, p.package_version, String(p.numerics_version), p.git_commit || '(unknown)', p.node_version, p.host, p.platform, n];
  const rows = [...by.values()].sort((a, b) => b.n - a.n).map((e) => row('computed', e.p, String(e.n)));
  if (recordedBy) rows.unshift(row('sweep recorded', recordedBy, ''));
  return rows;
}

// ---- the report -------------------------------------------------------------------------------

function runSummary(r: SweepRunRow): string {
  const a = Object.entries(r.assignments).map(([k, v]) => `${k}=${typeof v === 'string' ? v : canonicalJson(v)}`);
  return a.length ? a.join(', ') : '(no swept values)';
}

/** An SVG that shrinks with the page down to 3/4 of its size (its 12 px text to 9 px), then scrolls sideways. */
function sizedSvg(text: string): string {
  const svg = text.trimEnd();
  const width = Number(/^<svg [^>]*\bwidth="(\d+)"/.exec(svg)?.[1] ?? 0);
  return width ? svg.replace(/^(<svg [^>]*)>/, `$1 style="min-width: ${Math.round(width * 0.75)}px">`) : svg;
}

/** The report of sweep `sweep`; StoreError for an unknown sweep. */
export function buildSweepReport(db: Db, sweep: string, options: ReportOptions): SweepReport {
  const s = requireSweep(db, sweep);
  const details = sweepDetails(db, s.id);
  const runs = sweepRuns(db, s.id);
  const epochs = sweepEpochMetrics(db, s.id);
  const plotInput: PlotRun[] = runs.map((r) => ({ hash: r.hash, status: r.status, config: r.config, assignments: r.assignments, result: r.result, epochs: epochs.get(r.hash) ?? [] }));
  const view = storedView(db, s.id, s.name);
  const pivot = buildSweepPivot(db, s.name);
  const plots: SweepPlot[] = [plotRuns(s.name, plotInput, { metric: pivot.metric, view })];
  for (const key of numericSweptKeys(plotInput, plots[0].group)) plots.push(plotRuns(s.name, plotInput, { metric: pivot.metric, x: key, view }));
  const references = referencesOfStoredDefinition(details.spec_json, (path, message) => {
    throw new ReportError(`${db.name}: sweep ${s.name}: the recorded definition's ${path}: ${message}`);
  });
  const cost = costView(pivot, runs, references);
  const failedRuns = runs.filter((r) => r.status === 'failed');
  const counts = { total: runs.length, done: 0, failed: 0, queued: 0, running: 0 };
  for (const r of runs) counts[r.status]++;

  const o: string[] = [];
  o.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(`${s.name}: aimc-sweep report`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${esc(s.name)}</h1>`,
  );
  if (s.description) o.push(`<p class="description">${esc(s.description)}</p>`);
  o.push(
    `<p class="meta">definition <code>${esc(s.source || '(unknown)')}</code> · recorded ${esc(iso(s.created_at))}, updated ${esc(iso(s.updated_at))} · report made ${esc(iso(options.now ?? Date.now()))} from <code>${esc(options.db)}</code></p>`,
    '<nav><a href="#status">status</a><a href="#results">results</a><a href="#cost">cost</a><a href="#plots">plots</a><a href="#failed">failed runs</a><a href="#definition">definition</a><a href="#provenance">provenance</a><a href="#reproduce">reproduce</a></nav>',
  );

  o.push('<h2 id="status">Status</h2>');
  const progress = counts.total === 0 ? 100 : (100 * (counts.done + counts.failed)) / counts.total;
  o.push(
    table(
      ['runs', 'done', 'failed', 'queued', 'running', 'progress'],
      [[String(counts.total), String(counts.done), String(counts.failed), String(counts.queued), String(counts.running), `${progress.toFixed(1)} %`]],
      [true, true, true, true, true, true],
    ),
  );

  o.push('<h2 id="results">Results</h2>', pivotHtml(pivot));
  if (view) {
    const given = [
      view.rows && `rows ${view.rows.join(', ')}`,
      view.cols && `cols ${view.cols.length ? view.cols.join(', ') : '(none)'}`,
      view.metric && `metric ${view.metric}`,
      view.epoch && `epoch ${view.epoch}`,
      view.stat && `stat ${view.stat}`,
    ].filter((x): x is string => typeof x === 'string');
    o.push(`<p class="note">The layout and statistic the sweep's definition chooses (its <code>view:</code>: ${esc(given.join('; '))}).</p>`);
  }
  o.push(
    `<p class="note">Other layouts: <code>${esc(`npx aimc-sweep table --sweep ${shellQuote(s.name)} --rows K --cols K [--metric M] [--epoch final|best|tail] [--stat median] --db ${shellQuote(options.db)}`)}</code></p>`,
  );

  o.push('<h2 id="cost">Cost beside accuracy</h2>', costHtml(pivot, cost));
  if (cost.figure) {
    o.push('<figure class="cost">', '<div class="scroll">', sizedSvg(renderSvg(cost.figure)), '</div>', `<figcaption>${esc(cost.figure.title)}: each point a cell of the table above; hover a point for its cell and values</figcaption>`, '</figure>');
  } else {
    o.push(`<p class="note">No scatter: ${esc(cost.notes.join('; ') || 'no cell has a value of the table\'s metric yet')}.</p>`);
  }

  o.push('<h2 id="plots">Plots</h2>');
  for (const p of plots) {
    const cmd = `npx aimc-sweep plot --sweep ${shellQuote(s.name)}${p.x === 'epoch' ? '' : ` --x ${shellQuote(p.x)}`} --metric ${p.metric} --db ${shellQuote(options.db)} --out plot.svg`;
    const warned = p.warnings.length ? `<ul class="warnings">${p.warnings.map((w) => `<li>warning: ${esc(w)}</li>`).join('')}</ul>` : '';
    o.push('<figure>', '<div class="scroll">', sizedSvg(renderSvg(p.figure)), '</div>', `<figcaption>${esc(p.figure.title)}: <code>${esc(cmd)}</code>${warned}</figcaption>`, '</figure>');
  }

  o.push('<h2 id="failed">Failed runs</h2>');
  if (failedRuns.length === 0) o.push('<p>None.</p>');
  else {
    o.push('<div class="scroll">', '<table class="failed">', '<thead><tr><th title="the first 12 characters; the whole hash in the tooltip">hash</th><th>swept values</th><th>attempt</th><th>error</th></tr></thead>', '<tbody>');
    for (const r of failedRuns) {
      o.push(
        `<tr><td><code class="hash" title="${esc(r.hash)}">${esc(r.hash.slice(0, 12))}</code></td><td class="swept">${esc(runSummary(r))}</td><td class="num">${r.attempt}</td><td><pre class="error">${esc(r.error ?? 'failed')}</pre></td></tr>`,
      );
    }
    o.push('</tbody>', '</table>', '</div>');
  }

  o.push('<h2 id="definition">Definition</h2>');
  let spec: string;
  try {
    spec = JSON.stringify(JSON.parse(details.spec_json), null, 2);
  } catch {
    spec = details.spec_json;
  }
  o.push(`<p class="note">As recorded from <code>${esc(s.source || '(unknown)')}</code> (the part of the definition that decides the runs, canonical JSON):</p>`, `<pre>${esc(spec)}</pre>`);

  o.push('<h2 id="provenance">Provenance</h2>');
  const prov = provenanceRows(runs, details.provenance);
  if (prov.length === 0) o.push('<p>No run is done yet.</p>');
  else o.push(table(['', 'package', 'numerics', 'git commit', 'node', 'host', 'platform', 'runs'], prov, [false, false, true, false, false, false, false, true]));
  const workers = new Map<string, number>();
  for (const r of runs) if (r.result) workers.set(r.result.worker ?? '(unknown)', (workers.get(r.result.worker ?? '(unknown)') ?? 0) + 1);
  if (workers.size) {
    o.push(
      `<p class="note">Workers: ${esc(
        [...workers.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([w, n]) => `${w} (${n} run${n === 1 ? '' : 's'})`)
          .join(', '),
      )}</p>`,
    );
  }

  o.push('<h2 id="reproduce">Reproduce</h2>');
  const commits = [...new Set(runs.flatMap((r) => (r.result?.provenance?.git_commit ? [r.result.provenance.git_commit] : [])))];
  if (details.provenance?.git_commit && commits.length === 0) commits.push(details.provenance.git_commit);
  const cmds: string[] = [];
  if (commits.length === 1) cmds.push(`git checkout ${commits[0]}`, 'npm ci');
  else if (commits.length > 1) cmds.push(`# results from ${commits.length} commits: ${commits.join(', ')}`, 'npm ci');
  const source = shellQuote(s.source || `${s.name}.yaml`);
  cmds.push(`npx aimc-sweep run ${source} --db ${shellQuote(options.db)}`);
  if (failedRuns.length) cmds.push(`npx aimc-sweep run ${source} --db ${shellQuote(options.db)} --retry-failed`);
  cmds.push(`npx aimc-sweep table --sweep ${shellQuote(s.name)} --db ${shellQuote(options.db)}`);
  cmds.push(`npx aimc-sweep report --sweep ${shellQuote(s.name)} --db ${shellQuote(options.db)} --out ${shellQuote(`${s.name}.html`)}`);
  o.push(
    `<pre>${esc(cmds.join('\n'))}</pre>`,
    '<p class="note">The definition path is as it was given to <code>run</code> (relative to the directory it ran in); the git commit is the one the results were computed at (uncommitted changes are not recorded). Runs are identified by the hash of their canonical config and the numerics version: <code>run</code> computes only the runs the database does not hold (point <code>--db</code> at a new file to compute them all again; the same seeds give the same bits).</p>',
  );
  o.push('</main>', '</body>', '</html>');

  const warnings = [...pivot.warnings, ...pivot.referenceWarnings, ...plots.flatMap((p) => p.warnings.map((w) => `${p.figure.title}: ${w}`))];
  return { html: o.join('\n') + '\n', plots, cost, failed: failedRuns.length, warnings };
}
