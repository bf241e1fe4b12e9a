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
import {
  type ProvenanceRow,
  requireSweep,
  type SweepDetails,
  sweepDetails,
  sweepEpochMetrics,
  type SweepRow,
  type SweepRunRow,
  sweepRuns,
} from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import type { SweepView } from '../sweep/view.ts';
import { type CostView, costView } from './cost.ts';
import { storedEpochValues } from './epoch-values.ts';
import { costHtml, pivotHtml } from './html-tables.ts';
import { buildSweepPivot } from './pivot.ts';
import type { PivotTable } from './pivot-cells.ts';
import { withEpochs } from './plot.ts';
import { plotRuns, type SweepPlot } from './plot-figure.ts';
import { numericSweptKeys } from './plot-layout.ts';
import { storedReferences, storedView } from './stored-definition.ts';
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

/** A time to the second, ISO 8601 in UTC; `-` for none. */
function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const CSS = [
  '',
  'body { font: 15px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0; ' +
    'background: #fafafa; }',
  'main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }',
  'h1 { font-size: 28px; margin: 0 0 8px; }',
  'h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }',
  'nav a { margin-right: 14px; }',
  '.meta, .note { color: #555; font-size: 13px; }',
  'table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }',
  '.scroll { overflow-x: auto; max-width: 100%; }',
  'th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }',
  'th { background: #f3f3f3; }',
  'td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }',
  'td.mixed { background: #fff6e0; }',
  'th.paper, td.paper, th.z, td.z { background: #f2f6fc; }',
  'table.cost td.none { color: #777; font-style: italic; }',
  'table.cost span.paper { color: #345; background: #f2f6fc; padding: 0 3px; }',
  'table.cost td.constants { font-size: 12px; min-width: 10em; }',
  'table.pivot tbody th, table.cost tbody th { white-space: nowrap; }',
  'ol.sources { font-size: 13px; color: #555; margin: 4px 0; }',
  'pre, code { font: 12.5px/1.4 ui-monospace, Menlo, Consolas, monospace; }',
  'pre { background: #f6f6f6; padding: 10px 12px; overflow-x: auto; border: 1px solid #e4e4e4; }',
  'pre.error { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 4px 6px; background: #fff4f4; ' +
    'border-color: #f0d0d0; min-width: 16em; }',
  'table.failed td.swept { min-width: 12em; }',
  'figure { margin: 16px 0 28px; }',
  'figure .scroll svg { display: block; max-width: 100%; height: auto; }',
  'figcaption { font-size: 13px; color: #555; }',
  'ul.warnings li { color: #8a5a00; }',
  '',
].join('\n');

/** The sections, in the order of the page, as the navigation bar links them. */
const SECTIONS = [
  ['status', 'status'],
  ['results', 'results'],
  ['cost', 'cost'],
  ['plots', 'plots'],
  ['failed', 'failed runs'],
  ['definition', 'definition'],
  ['provenance', 'provenance'],
  ['reproduce', 'reproduce'],
];

/** A table inside a box that scrolls sideways when the table is wider than the page. */
function scrolling(tableHtml: string): string {
  return `<div class="scroll">\n${tableHtml}\n</div>`;
}

/** A plain table of texts; `numeric[i]` right-aligns column i. */
function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[] = [],
): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const td = (c: string, i: number) => `<td${numeric[i] ? ' class="num"' : ''}>${esc(c)}</td>`;
  const trs = rows.map((r) => `<tr>${r.map(td).join('')}</tr>`);
  return scrolling(`<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs.join('\n')}\n</tbody>\n</table>`);
}

/** An SVG that shrinks with the page down to 3/4 of its size (its 12 px text to 9 px), then scrolls sideways. */
function sizedSvg(text: string): string {
  const svg = text.trimEnd();
  const width = Number(/^<svg [^>]*\bwidth="(\d+)"/.exec(svg)?.[1] ?? 0);
  return width ? svg.replace(/^(<svg [^>]*)>/, `$1 style="min-width: ${Math.round(width * 0.75)}px">`) : svg;
}

/** A figure: the SVG in its scrolling box, then its caption (HTML). */
function figureHtml(svg: string, caption: string, className = ''): string[] {
  const open = className ? `<figure class="${className}">` : '<figure>';
  return [open, '<div class="scroll">', sizedSvg(svg), '</div>', `<figcaption>${caption}</figcaption>`, '</figure>'];
}

// ---- the sections -----------------------------------------------------------------------------

function headHtml(s: SweepRow, options: ReportOptions): string[] {
  const o = [
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
  ];
  if (s.description) o.push(`<p class="description">${esc(s.description)}</p>`);
  const dates = `recorded ${esc(iso(s.created_at))}, updated ${esc(iso(s.updated_at))}`;
  const made = `report made ${esc(iso(options.now ?? Date.now()))} from <code>${esc(options.db)}</code>`;
  o.push(
    `<p class="meta">definition <code>${esc(s.source || '(unknown)')}</code> · ${dates} · ${made}</p>`,
    `<nav>${SECTIONS.map(([id, name]) => `<a href="#${id}">${name}</a>`).join('')}</nav>`,
  );
  return o;
}

function statusHtml(runs: readonly SweepRunRow[]): string[] {
  const counts = { total: runs.length, done: 0, failed: 0, queued: 0, running: 0 };
  for (const r of runs) counts[r.status]++;
  const progress = counts.total === 0 ? 100 : (100 * (counts.done + counts.failed)) / counts.total;
  const { total, done, failed, queued, running } = counts;
  const row = [total, done, failed, queued, running].map(String);
  return [
    '<h2 id="status">Status</h2>',
    table(
      ['runs', 'done', 'failed', 'queued', 'running', 'progress'],
      [[...row, `${progress.toFixed(1)} %`]],
      [true, true, true, true, true, true],
    ),
  ];
}

function resultsHtml(s: SweepRow, pivot: PivotTable, view: SweepView | null, db: string): string[] {
  const o = ['<h2 id="results">Results</h2>', pivotHtml(pivot)];
  if (view) {
    const given = [
      view.rows && `rows ${view.rows.join(', ')}`,
      view.cols && `cols ${view.cols.length ? view.cols.join(', ') : '(none)'}`,
      view.metric && `metric ${view.metric}`,
      view.epoch && `epoch ${view.epoch}`,
      view.stat && `stat ${view.stat}`,
    ].filter((x): x is string => typeof x === 'string');
    const chooses = "The layout and statistic the sweep's definition chooses";
    o.push(`<p class="note">${chooses} (its <code>view:</code>: ${esc(given.join('; '))}).</p>`);
  }
  const options = '--rows K --cols K [--metric M] [--epoch final|best|tail] [--stat median]';
  const command = `npx aimc-sweep table --sweep ${shellQuote(s.name)} ${options} --db ${shellQuote(db)}`;
  o.push(`<p class="note">Other layouts: <code>${esc(command)}</code></p>`);
  return o;
}

function costSectionHtml(pivot: PivotTable, cost: CostView): string[] {
  const o = ['<h2 id="cost">Cost beside accuracy</h2>', costHtml(pivot, cost)];
  if (cost.figure) {
    const about = 'each point a cell of the table above; hover a point for its cell and values';
    const caption = `${esc(cost.figure.title)}: ${about}`;
    o.push(...figureHtml(renderSvg(cost.figure), caption, 'cost'));
  } else {
    const why = cost.notes.join('; ') || "no cell has a value of the table's metric yet";
    o.push(`<p class="note">No scatter: ${esc(why)}.</p>`);
  }
  return o;
}

function plotsHtml(s: SweepRow, plots: readonly SweepPlot[], db: string): string[] {
  const o = ['<h2 id="plots">Plots</h2>'];
  for (const p of plots) {
    const x = p.x === 'epoch' ? '' : ` --x ${shellQuote(p.x)}`;
    const args = `--sweep ${shellQuote(s.name)}${x} --metric ${p.metric}`;
    const cmd = `npx aimc-sweep plot ${args} --db ${shellQuote(db)} --out plot.svg`;
    const items = p.warnings.map((w) => `<li>warning: ${esc(w)}</li>`).join('');
    const warned = p.warnings.length ? `<ul class="warnings">${items}</ul>` : '';
    o.push(...figureHtml(renderSvg(p.figure), `${esc(p.figure.title)}: <code>${esc(cmd)}</code>${warned}`));
  }
  return o;
}

/** A run's swept values, `k=v, k2=v2`. */
function runSummary(r: SweepRunRow): string {
  const a = Object.entries(r.assignments).map(([k, v]) => `${k}=${typeof v === 'string' ? v : canonicalJson(v)}`);
  return a.length ? a.join(', ') : '(no swept values)';
}

function failedHtml(failedRuns: readonly SweepRunRow[]): string[] {
  const o = ['<h2 id="failed">Failed runs</h2>'];
  if (failedRuns.length === 0) {
    o.push('<p>None.</p>');
    return o;
  }
  const hashHead = '<th title="the first 12 characters; the whole hash in the tooltip">hash</th>';
  const head = `<thead><tr>${hashHead}<th>swept values</th><th>attempt</th><th>error</th></tr></thead>`;
  o.push('<div class="scroll">', '<table class="failed">', head, '<tbody>');
  for (const r of failedRuns) {
    const hash = `<td><code class="hash" title="${esc(r.hash)}">${esc(r.hash.slice(0, 12))}</code></td>`;
    const swept = `<td class="swept">${esc(runSummary(r))}</td>`;
    const error = `<td><pre class="error">${esc(r.error ?? 'failed')}</pre></td>`;
    o.push(`<tr>${hash}${swept}<td class="num">${r.attempt}</td>${error}</tr>`);
  }
  o.push('</tbody>', '</table>', '</div>');
  return o;
}

function definitionHtml(s: SweepRow, details: SweepDetails): string[] {
  let spec: string;
  try {
    spec = JSON.stringify(JSON.parse(details.spec_json), null, 2);
  } catch {
    spec = details.spec_json;
  }
  const from = `As recorded from <code>${esc(s.source || '(unknown)')}</code>`;
  return [
    '<h2 id="definition">Definition</h2>',
    `<p class="note">${from} (the part of the definition that decides the runs, canonical JSON):</p>`,
    `<pre>${esc(spec)}</pre>`,
  ];
}

/** One row per provenance that computed results (most results first), after the one that recorded the sweep. */
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
    p === null
      ? [what, '(not recorded)', '', '', '', '', '', n]
      : [
          what,
          p.package_version,
          String(p.numerics_version),
          p.git_commit || '(unknown)',
          p.node_version,
          p.host,
          p.platform,
          n,
        ];
  const rows = [...by.values()].sort((a, b) => b.n - a.n).map((e) => row('computed', e.p, String(e.n)));
  if (recordedBy) rows.unshift(row('sweep recorded', recordedBy, ''));
  return rows;
}

function provenanceHtml(runs: readonly SweepRunRow[], details: SweepDetails): string[] {
  const o = ['<h2 id="provenance">Provenance</h2>'];
  const prov = provenanceRows(runs, details.provenance);
  if (prov.length === 0) o.push('<p>No run is done yet.</p>');
  else {
    const head = ['', 'package', 'numerics', 'git commit', 'node', 'host', 'platform', 'runs'];
    o.push(table(head, prov, [false, false, true, false, false, false, false, true]));
  }
  const workers = new Map<string, number>();
  for (const r of runs) {
    if (r.result) workers.set(r.result.worker ?? '(unknown)', (workers.get(r.result.worker ?? '(unknown)') ?? 0) + 1);
  }
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
  return o;
}

const REPRODUCE_NOTE =
  '<p class="note">The definition path is as it was given to <code>run</code> (relative to the directory it ran ' +
  'in); the git commit is the one the results were computed at (uncommitted changes are not recorded). Runs are ' +
  'identified by the hash of their canonical config and the numerics version: <code>run</code> computes only ' +
  'the runs the database does not hold (point <code>--db</code> at a new file to compute them all again; the ' +
  'same seeds give the same bits).</p>';

function reproduceHtml(s: SweepRow, runs: readonly SweepRunRow[], details: SweepDetails, db: string): string[] {
  const gitCommit = (r: SweepRunRow) => (r.result?.provenance?.git_commit ? [r.result.provenance.git_commit] : []);
  const commits = [...new Set(runs.flatMap(gitCommit))];
  if (details.provenance?.git_commit && commits.length === 0) commits.push(details.provenance.git_commit);
  const cmds: string[] = [];
  if (commits.length === 1) cmds.push(`git checkout ${commits[0]}`, 'npm ci');
  else if (commits.length > 1) cmds.push(`# results from ${commits.length} commits: ${commits.join(', ')}`, 'npm ci');
  const source = shellQuote(s.source || `${s.name}.yaml`);
  const onDb = `--db ${shellQuote(db)}`;
  cmds.push(`npx aimc-sweep run ${source} ${onDb}`);
  if (runs.some((r) => r.status === 'failed')) cmds.push(`npx aimc-sweep run ${source} ${onDb} --retry-failed`);
  cmds.push(`npx aimc-sweep table --sweep ${shellQuote(s.name)} ${onDb}`);
  cmds.push(`npx aimc-sweep report --sweep ${shellQuote(s.name)} ${onDb} --out ${shellQuote(`${s.name}.html`)}`);
  return ['<h2 id="reproduce">Reproduce</h2>', `<pre>${esc(cmds.join('\n'))}</pre>`, REPRODUCE_NOTE];
}

// ---- the report -------------------------------------------------------------------------------

/** The report of sweep `sweep`; StoreError for an unknown sweep. */
export function buildSweepReport(db: Db, sweep: string, options: ReportOptions): SweepReport {
  const s = requireSweep(db, sweep);
  const details = sweepDetails(db, s.id);
  const runs = sweepRuns(db, s.id);
  const plotInput = withEpochs(runs, sweepEpochMetrics(db, s.id));
  const view = storedView(db, s.id, s.name);
  const pivot = buildSweepPivot(db, s.name);
  const epochValues = storedEpochValues(db, s.id);
  const plots: SweepPlot[] = [plotRuns(s.name, plotInput, { metric: pivot.metric, view }, epochValues)];
  for (const key of numericSweptKeys(plotInput, plots[0].group)) {
    plots.push(plotRuns(s.name, plotInput, { metric: pivot.metric, x: key, view }, epochValues));
  }
  const cost = costView(pivot, runs, storedReferences(db, s.id, s.name));
  const failedRuns = runs.filter((r) => r.status === 'failed');

  const html = [
    ...headHtml(s, options),
    ...statusHtml(runs),
    ...resultsHtml(s, pivot, view, options.db),
    ...costSectionHtml(pivot, cost),
    ...plotsHtml(s, plots, options.db),
    ...failedHtml(failedRuns),
    ...definitionHtml(s, details),
    ...provenanceHtml(runs, details),
    ...reproduceHtml(s, runs, details, options.db),
    '</main>',
    '</body>',
    '</html>',
  ];
  const plotWarnings = plots.flatMap((p) => p.warnings.map((w) => `${p.figure.title}: ${w}`));
  const warnings = [...pivot.warnings, ...pivot.referenceWarnings, ...plotWarnings];
  return { html: html.join('\n') + '\n', plots, cost, failed: failedRuns.length, warnings };
}
