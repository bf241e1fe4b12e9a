/**
 * The report of one sweep as a single self-contained HTML file: inline CSS and SVG, no scripts,
 * no external resources. It holds the sweep's name, description and definition, where its
 * results came from (package and numerics versions, git commits, hosts), its run counts, the
 * default pivot table (with its warnings, and the papers' values and z where the sweep gives
 * references), the plots (learning curves of the default metric, the final metric against every
 * numeric swept key), the failed runs with their errors, and the commands that reproduce it.
 * Tables wider than the window, and figures beyond shrinking to 3/4 of their size, scroll
 * sideways inside their own box, never the page (test/report-browser.test.ts looks).
 */
import type { Db } from '../store/open.ts';
import { type ProvenanceRow, requireSweep, sweepDetails, type SweepRunRow, sweepRuns, sweepEpochMetrics } from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import { metricText, paperColumns, paperSources, paperText, pivotTitle, Z_NOTE, zText } from './format.ts';
import { buildSweepPivot, type PivotCell, type PivotTable } from './pivot.ts';
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

function cellText(t: PivotTable, c: PivotCell): string {
  const num = (x: number) => metricText(t, x);
  const parts = [`n=${c.n}`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.queued) parts.push(`${c.queued} queued`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.missing) parts.push(`${c.missing} without value`);
  const value = c.mean === null ? '' : `${num(c.mean)}${c.std === null ? '' : ` ± ${num(c.std)}`} `;
  return `${value}(${parts.join(', ')})${c.mixed.length ? ' †' : ''}`;
}

/** The pivot as an HTML table; as in markdown, a `paper` and a `z` column after each data column that has a paper value. */
export function pivotHtml(t: PivotTable): string {
  const rowHeads = t.rows.length ? t.rows : ['runs'];
  const colHeads = t.cols.length ? t.colLabels.map((l) => colHeadHtml(t.cols, l)) : [esc(t.metric)];
  const byAt = new Map(t.cells.map((c) => [`${c.rowIndex}:${c.colIndex}`, c]));
  const withPaper = paperColumns(t);
  const sources = paperSources(t);
  const out = [`<p><strong>${esc(pivotTitle(t))}</strong></p>`, '<div class="scroll">', '<table class="pivot">'];
  const dataHeads = colHeads.flatMap((h, ci) => (withPaper.has(ci) ? [`<th>${h}</th>`, '<th class="paper">paper</th>', '<th class="z">z</th>'] : [`<th>${h}</th>`]));
  out.push(`<thead><tr>${[...rowHeads.map((h) => `<th>${esc(h)}</th>`), ...dataHeads].join('')}</tr></thead>`, '<tbody>');
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
  out.push('</tbody>', '</table>', '</div>');
  if (sources.size) {
    out.push(`<ol class="sources">${[...sources.keys()].map((s) => `<li>paper: ${esc(s)}</li>`).join('')}</ol>`, `<p class="note">${esc(Z_NOTE)}</p>`);
  }
  const warnings = [...t.warnings.map((w) => `† warning: ${w}`), ...t.referenceWarnings.map((w) => `warning: ${w}`)];
  if (warnings.length) out.push(`<ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
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

/** The report of sweep `sweep`; StoreError for an unknown sweep. */
export function buildSweepReport(db: Db, sweep: string, options: ReportOptions): SweepReport {
  const s = requireSweep(db, sweep);
  const details = sweepDetails(db, s.id);
  const runs = sweepRuns(db, s.id);
  const epochs = sweepEpochMetrics(db, s.id);
  const plotInput: PlotRun[] = runs.map((r) => ({ hash: r.hash, status: r.status, config: r.config, assignments: r.assignments, result: r.result, epochs: epochs.get(r.hash) ?? [] }));
  const pivot = buildSweepPivot(db, s.name);
  const plots: SweepPlot[] = [plotRuns(s.name, plotInput, { metric: pivot.metric })];
  for (const key of numericSweptKeys(plotInput, plots[0].group)) plots.push(plotRuns(s.name, plotInput, { metric: pivot.metric, x: key }));
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
    '<nav><a href="#status">status</a><a href="#results">results</a><a href="#plots">plots</a><a href="#failed">failed runs</a><a href="#definition">definition</a><a href="#provenance">provenance</a><a href="#reproduce">reproduce</a></nav>',
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
  o.push(
    `<p class="note">Other layouts: <code>${esc(`npx aimc-sweep table --sweep ${shellQuote(s.name)} --rows K --cols K [--metric M] [--epoch best] --db ${shellQuote(options.db)}`)}</code></p>`,
  );

  o.push('<h2 id="plots">Plots</h2>');
  for (const p of plots) {
    const cmd = `npx aimc-sweep plot --sweep ${shellQuote(s.name)}${p.x === 'epoch' ? '' : ` --x ${shellQuote(p.x)}`} --metric ${p.metric} --db ${shellQuote(options.db)} --out plot.svg`;
    const warned = p.warnings.length ? `<ul class="warnings">${p.warnings.map((w) => `<li>warning: ${esc(w)}</li>`).join('')}</ul>` : '';
    // the figure shrinks with the page down to 3/4 of its size (its 12 px text to 9 px), then scrolls sideways
    const svg = renderSvg(p.figure).trimEnd();
    const width = Number(/^<svg [^>]*\bwidth="(\d+)"/.exec(svg)?.[1] ?? 0);
    const sized = width ? svg.replace(/^(<svg [^>]*)>/, `$1 style="min-width: ${Math.round(width * 0.75)}px">`) : svg;
    o.push('<figure>', '<div class="scroll">', sized, '</div>', `<figcaption>${esc(p.figure.title)}: <code>${esc(cmd)}</code>${warned}</figcaption>`, '</figure>');
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
  return { html: o.join('\n') + '\n', plots, failed: failedRuns.length, warnings };
}
