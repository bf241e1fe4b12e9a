/**
 * `plot` and `report`: the SVG is well-formed XML with one root <svg xmlns=...>, one line per
 * group whose points sit where the axis ticks say their means are (linear and log axes), std
 * bands and error bars, log axes chosen when the values span more than a factor of 10, text
 * escaped; the HTML report holds the table's values and the failed runs' errors escaped, no
 * script and no URL; the commands' exit codes. Databases are populated through SqliteRunQueue with
 * synthetic results (no training).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers.ts';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { buildSweepReport } from '../src/report/html.ts';
import { ReportError } from '../src/report/errors.ts';
import { buildSweepPlot, renderSweepPlot } from '../src/report/plot.ts';
import { figureGeometry } from '../src/report/svg.ts';
import { openStore, StoreError } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';

const cli = runCli;

// ---- the database -----------------------------------------------------------------------------
//
// Sweep `pr`: algorithm mp and WEIRD (a name with XML's special characters) x device.n_states 4,
// 16, 64 x seeds 1, 2; test_accuracy at epoch e is BASE + 0.1 e - 0.02 (seed 1) or + 0.02
// (seed 2): mean BASE + 0.1 e, sample std 0.02 * sqrt(2). WEIRD x 64 x seed 2 failed (an
// error with markup in it), so that point has n = 1 and no std.
// Sweep `ls`: analog-sgd on least squares, lr 0.001, 0.01, 0.1 x seeds 1, 2; final weight_error
// 10 lr exactly (both seeds), so it spans 100x on both axes.

const WEIRD = 'a<&>"b\'';
const ERROR = 'diverged: <script>alert(1)</script> & "NaN" at epoch 2';
const base = (alg: string, n: number) => (alg === 'mp' ? 0.3 + n / 200 : 0.1 + n / 400);
const dir = mkdtempSync(join(tmpdir(), 'aimc-plot-'));
const DB = join(dir, 'results.db');
const now = Date.now();

type Conf = { algorithm: string; seed: number; device?: { n_states: number }; lr?: number };

function recordRuns(q: SqliteRunQueue, name: string, configs: Record<string, unknown>[], swept: string[]): number {
  const runs = configs.map((config) => ({
    hash: runHash(config as never),
    configJson: canonicalJson(config),
    numericsVersion: 1,
    assignmentsJson: canonicalJson(
      Object.fromEntries(
        swept.map((k) => [k, k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], config)]),
      ),
    ),
  }));
  return q.recordSweep(
    {
      name,
      description: `the ${name} sweep`,
      specJson: canonicalJson({ grid: { swept } }),
      source: `sweeps/${name}.yaml`,
      runs,
    },
    now - 60_000,
  ).sweepId;
}

function complete(q: SqliteRunQueue, lease: { hash: string; attempt: number }, history: EpochMetrics[]): void {
  const r: RunResult = {
    numerics_version: 1,
    config: {} as never,
    history,
    final: history[history.length - 1],
    weights_digest: 'd',
    wall_ms: 5,
  };
  assert.equal(q.complete('w1', lease, r, now - 30_000).accepted, true);
}

{
  const db = openStore(DB);
  const q = new SqliteRunQueue(db);
  const pr: Record<string, unknown>[] = [];
  for (const algorithm of ['mp', WEIRD]) {
    for (const n of [4, 16, 64]) {
      for (const seed of [1, 2])
        pr.push({ algorithm, seed, device: { kind: 'softbounds', n_states: n }, task: { kind: 'mnist' }, epochs: 2 });
    }
  }
  const prId = recordRuns(q, 'pr', pr, ['algorithm', 'device.n_states', 'seed']);
  for (const lease of q.lease('w1', 100, now - 50_000, 3_600_000, prId)) {
    const c = JSON.parse(lease.configJson) as Conf & { device: { n_states: number } };
    if (c.algorithm === WEIRD && c.device.n_states === 64 && c.seed === 2) {
      q.fail('w1', lease, ERROR, now - 30_000);
      continue;
    }
    const d = c.seed === 1 ? -0.02 : 0.02;
    const acc = (e: number) => base(c.algorithm, c.device.n_states) + 0.1 * e + d;
    complete(
      q,
      lease,
      [0, 1, 2].map((e) => ({
        epoch: e,
        train_loss: 2 - acc(e),
        test_loss: 2 - acc(e),
        test_accuracy: acc(e),
        train_accuracy: acc(e),
        pulses: {},
      })),
    );
  }
  const ls: Record<string, unknown>[] = [];
  for (const lr of [0.001, 0.01, 0.1])
    for (const seed of [1, 2])
      ls.push({ algorithm: 'analog-sgd', lr, seed, task: { kind: 'least-squares' }, epochs: 1 });
  const lsId = recordRuns(q, 'ls', ls, ['lr', 'seed']);
  for (const lease of q.lease('w1', 100, now - 50_000, 3_600_000, lsId)) {
    const c = JSON.parse(lease.configJson) as Conf & { lr: number };
    complete(q, lease, [
      { epoch: 0, train_loss: 5, weight_error: 5, pulses: {} },
      { epoch: 1, train_loss: 10 * c.lr, weight_error: 10 * c.lr, pulses: {} },
    ]);
  }
  db.close();
}

const db = openStore(DB);

// ---- a tiny XML checker -----------------------------------------------------------------------

const HTML_VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input']);

/**
 * Throws unless `doc` is well-formed: balanced tags, double-quoted attributes without `<`, no
 * raw `<` or stray `&` in text, exactly one root element (whose tag is returned). `voids`: HTML
 * elements without an end tag.
 */
function checkWellFormed(doc: string, voids: ReadonlySet<string> = new Set()): { root: string; rootTag: string } {
  const s = doc.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/^<!DOCTYPE html>\s*/i, '');
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>/g;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (t: string, where: number) => {
    assert.ok(!t.includes('<'), `raw < in text near offset ${where}: ${JSON.stringify(t.slice(0, 60))}`);
    assert.ok(!t.replace(entity, '').includes('&'), `stray & near offset ${where}: ${JSON.stringify(t.slice(0, 60))}`);
  };
  const stack: string[] = [];
  let roots = 0;
  let root = '';
  let rootTag = '';
  let last = 0;
  for (const m of s.matchAll(tag)) {
    const text = s.slice(last, m.index);
    checkText(text, last);
    if (stack.length === 0)
      assert.equal(text.trim(), '', `text outside the root element: ${JSON.stringify(text.slice(0, 60))}`);
    checkText(
      m[3].replace(/="[^"]*"/g, (v) => v.replace(/</g, '')),
      m.index,
    ); // & in attribute values too
    const [, close, name, , self] = m;
    if (close) {
      assert.equal(
        stack.pop(),
        name,
        `</${name}> closes ${stack.length ? 'another element' : 'nothing'} at offset ${m.index}`,
      );
    } else if (!self && !voids.has(name)) {
      if (stack.length === 0) {
        roots++;
        root = name;
        rootTag = m[0];
      }
      stack.push(name);
    }
    last = m.index + m[0].length;
  }
  const tail = s.slice(last);
  checkText(tail, last);
  assert.equal(tail.trim(), '', 'text after the root element');
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
  return { root, rootTag };
}

test('the XML checker itself rejects what it must', () => {
  assert.doesNotThrow(() => checkWellFormed('<svg xmlns="x"><g><text>a &amp; b</text></g><path d="M0,0"/></svg>'));
  assert.throws(() => checkWellFormed('<svg><g></svg>'));
  assert.throws(() => checkWellFormed('<svg><text>a < b</text></svg>'));
  assert.throws(() => checkWellFormed('<svg><text>a & b</text></svg>'));
  assert.throws(() => checkWellFormed('<svg></svg><svg></svg>'));
  assert.throws(() => checkWellFormed('<svg data-x="a & b"></svg>'));
  assert.throws(() => checkWellFormed('<svg><g>x</g></svg>tail'));
});

// ---- reading an SVG the way a reader does -----------------------------------------------------

const attr = (el: string, name: string): string | undefined => el.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];

/** The panels of a figure, as the text between <g class="panel"> and its </g>. */
function panels(svg: string): string[] {
  return svg
    .split('<g class="panel">')
    .slice(1)
    .map((p) => p.slice(0, p.lastIndexOf('</g>')));
}

function pairs(d: string): [number, number][] {
  return [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** The ticks of one axis of a panel: value -> pixel (from the tick labels' positions). */
function ticks(panel: string, axis: 'x' | 'y'): { v: number; px: number }[] {
  const out: { v: number; px: number }[] = [];
  for (const m of panel.matchAll(
    new RegExp(`<text x="([\\d.-]+)" y="([\\d.-]+)" class="tick ${axis}"[^>]*>([^<]*)</text>`, 'g'),
  )) {
    out.push({ v: Number(m[3]), px: axis === 'x' ? Number(m[1]) : Number(m[2]) - 4 });
  }
  assert.ok(out.length >= 2, `${axis} axis has ticks`);
  return out;
}

/** Where a value lies on an axis, interpolated between its first and last tick (linear or log10). */
function pixelOf(t: { v: number; px: number }[], v: number, log: boolean): number {
  const f = log ? Math.log10 : (x: number) => x;
  const a = t[0];
  const b = t[t.length - 1];
  return a.px + ((f(v) - f(a.v)) / (f(b.v) - f(a.v))) * (b.px - a.px);
}

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 0.03, `${what}: ${a} != ${b}`);

// ---- plots ------------------------------------------------------------------------------------

test('plot: learning curves are a well-formed standalone SVG, one line per group per panel at the means', () => {
  const { svg, plot } = renderSweepPlot(db, 'pr');
  const { root, rootTag } = checkWellFormed(svg);
  assert.equal(root, 'svg');
  assert.equal(attr(rootTag, 'xmlns'), 'http://www.w3.org/2000/svg');
  assert.match(attr(rootTag, 'viewBox') ?? '', /^0 0 \d+ \d+$/);
  assert.deepEqual(
    [plot.metric, plot.x, plot.group, plot.facet],
    ['test_accuracy', 'epoch', ['algorithm'], 'device.n_states'],
  );
  const ps = panels(svg);
  assert.equal(ps.length, 3, 'one panel per device.n_states');
  ps.forEach((p, i) => assert.ok(p.includes(`>device.n_states=${[4, 16, 64][i]}<`), `panel ${i} title`));
  for (const [pi, n] of [4, 16, 64].entries()) {
    const lines = [...ps[pi].matchAll(/<path class="series" [^>]*>/g)].map((m) => m[0]);
    assert.equal(lines.length, 2, 'one line per algorithm');
    const xt = ticks(ps[pi], 'x');
    const yt = ticks(ps[pi], 'y');
    for (const [alg, line] of [
      ['mp', lines[0]],
      [WEIRD, lines[1]],
    ] as const) {
      assert.equal(unescape(attr(line, 'data-group') ?? ''), alg);
      const pts = pairs(attr(line, 'd') ?? '');
      assert.equal(pts.length, 3, 'epochs 0, 1, 2');
      pts.forEach(([px, py], e) => {
        near(px, pixelOf(xt, e, false), `${alg} n=${n} epoch ${e} x`);
        const only1 = alg === WEIRD && n === 64 ? -0.02 : 0; // seed 2 failed: the mean is seed 1's value
        near(py, pixelOf(yt, 100 * (base(alg, n) + 0.1 * e + only1), false), `${alg} n=${n} epoch ${e} y (mean in %)`);
      });
    }
  }
  assert.ok(!svg.includes('(log scale)'), 'accuracies on linear axes');
  // the same mapping from the figure's geometry: x = left + (v - min) / (max - min) * width,
  // y = top + height - (v - min) / (max - min) * height; every tick and point inside the frame
  const g = figureGeometry(plot.figure);
  const f = g.panels[1];
  const frame = ps[1].match(/<rect class="frame" [^>]*>/)?.[0] ?? '';
  assert.deepEqual(
    ['x', 'y', 'width', 'height'].map((a) => Number(attr(frame, a))),
    [f.left, f.top, f.width, f.height],
  );
  const mp16 = pairs(attr(ps[1].match(/<path class="series" [^>]*>/)?.[0] ?? '', 'd') ?? '');
  for (let e = 0; e < 3; e++) {
    const v = 100 * (base('mp', 16) + 0.1 * e);
    near(mp16[e][0], f.left + ((e - g.x.min) / (g.x.max - g.x.min)) * f.width, `geometry x, epoch ${e}`);
    near(mp16[e][1], f.top + f.height - ((v - g.y.min) / (g.y.max - g.y.min)) * f.height, `geometry y, epoch ${e}`);
  }
  for (const p of ps) {
    for (const [x, y] of [...p.matchAll(/<path class="series" [^>]*>/g)].flatMap((m) => pairs(attr(m[0], 'd') ?? ''))) {
      const fr = p.match(/<rect class="frame" [^>]*>/)?.[0] ?? '';
      const [l, t, w, h] = ['x', 'y', 'width', 'height'].map((a) => Number(attr(fr, a)));
      assert.ok(x >= l && x <= l + w && y >= t && y <= t + h, `point ${x},${y} inside its panel's frame`);
    }
  }
});

test('plot: the ±1 std band of each group with n >= 2, its edges at mean ± std', () => {
  const { svg } = renderSweepPlot(db, 'pr');
  const ps = panels(svg);
  const bands = ps.map((p) => [...p.matchAll(/<path class="band" [^>]*>/g)].map((m) => m[0]));
  assert.deepEqual(
    bands.map((b) => b.length),
    [2, 2, 1],
    'WEIRD x 64 has one run left (the other failed): no band',
  );
  const yt = ticks(ps[1], 'y');
  const band = bands[1][0];
  assert.equal(attr(band, 'data-group'), 'mp');
  const pts = pairs(attr(band, 'd') ?? '');
  assert.equal(pts.length, 6, 'upper edge forward, lower edge back');
  const std = 100 * 0.02 * Math.SQRT2;
  for (let e = 0; e < 3; e++) {
    const mean = 100 * (base('mp', 16) + 0.1 * e);
    near(pts[e][1], pixelOf(yt, mean + std, false), `upper edge at epoch ${e}`);
    near(pts[5 - e][1], pixelOf(yt, mean - std, false), `lower edge at epoch ${e}`);
  }
});

test('plot: final metric vs a swept key: log x beyond a factor of 10, error bars, points at the means', () => {
  const { svg, plot } = renderSweepPlot(db, 'pr', { x: 'device.n_states' });
  checkWellFormed(svg);
  assert.deepEqual([plot.group, plot.facet], [['algorithm'], null]);
  assert.ok(svg.includes('device.n_states (log scale)'), '4 to 64 spans 16x: log x');
  assert.ok(!svg.includes('(%) (log scale)'), 'accuracy stays linear');
  const [p] = panels(svg);
  const xt = ticks(p, 'x');
  assert.deepEqual(
    xt.map((t) => t.v),
    [4, 16, 64],
    'ticks at the swept values',
  );
  const yt = ticks(p, 'y');
  const lines = [...p.matchAll(/<path class="series" [^>]*>/g)].map((m) => m[0]);
  assert.equal(lines.length, 2);
  const mp = pairs(attr(lines[0], 'd') ?? '');
  const weird = pairs(attr(lines[1], 'd') ?? '');
  // the two series' points (and error bars) stand side by side, dodged by the same few pixels either way of x
  const dodge = pixelOf(xt, 4, true) - mp[0][0];
  assert.ok(dodge > 1 && dodge <= 4, `mp dodged left by ${dodge} px`);
  [4, 16, 64].forEach((n, i) => {
    near(mp[i][0] + dodge, pixelOf(xt, n, true), `x of n=${n} on the log axis (mp, dodged left)`);
    near(weird[i][0] - dodge, pixelOf(xt, n, true), `x of n=${n} on the log axis (WEIRD, dodged right)`);
    near(mp[i][1], pixelOf(yt, 100 * (base('mp', n) + 0.2), false), `final mean at n=${n}`);
  });
  const bars = [...p.matchAll(/<path class="errorbar" [^>]*>/g)].map((m) => m[0]);
  assert.equal(bars.length, 2, 'error bars for both groups');
  const weirdBars = (attr(bars[1], 'd') ?? '').match(/M[\d.]+,[\d.]+V/g) ?? [];
  assert.equal(weirdBars.length, 2, 'no error bar where n = 1 (WEIRD x 64)');
});

test('plot: log y for errors spanning more than 10x, linear otherwise; values on the log ticks', () => {
  const { svg, plot } = renderSweepPlot(db, 'ls', { x: 'lr' });
  checkWellFormed(svg);
  assert.equal(plot.metric, 'weight_error');
  assert.ok(svg.includes('final weight_error (log scale)'), '0.01 to 1: log y');
  assert.ok(svg.includes('>lr (log scale)<'), '0.001 to 0.1: log x');
  const [p] = panels(svg);
  const xt = ticks(p, 'x');
  const yt = ticks(p, 'y');
  const line = pairs(attr(p.match(/<path class="series" [^>]*>/)?.[0] ?? '', 'd') ?? '');
  assert.equal(line.length, 3);
  [0.001, 0.01, 0.1].forEach((lr, i) => {
    const xTick = xt.find((t) => Math.abs(t.v - lr) < 1e-12);
    const yTick = yt.find((t) => Math.abs(t.v - 10 * lr) < 1e-12);
    assert.ok(xTick && yTick, `ticks at lr ${lr} and error ${10 * lr}`);
    near(line[i][0], xTick.px, `x of lr ${lr}`);
    near(line[i][1], yTick.px, `y of error ${10 * lr}`);
  });
  const narrow = renderSweepPlot(db, 'pr', { metric: 'train_loss', x: 'device.n_states' }).svg;
  assert.ok(
    narrow.includes('final train_loss<') || narrow.includes('final train_loss</text>'),
    'train_loss 1.1 to 1.5: linear y',
  );
  assert.ok(!narrow.includes('train_loss (log scale)'));
  assert.ok(!renderSweepPlot(db, 'pr', { x: 'seed' }).svg.includes('seed (log scale)'), 'seeds 1 to 2: linear x');
  const curve = renderSweepPlot(db, 'ls').svg;
  assert.ok(curve.includes('weight_error (log scale)'), 'learning curve from 5 down to 0.01: log y');
});

test('plot: text is escaped (legend, data attributes, tooltips); the raw name never appears', () => {
  const { svg } = renderSweepPlot(db, 'pr');
  assert.ok(!svg.includes(WEIRD), 'raw value absent');
  assert.ok(svg.includes('>a&lt;&amp;&gt;&quot;b&#39;<'), 'legend text escaped');
  assert.ok(svg.includes('data-group="a&lt;&amp;&gt;&quot;b&#39;"'), 'attribute escaped');
  checkWellFormed(svg);
});

test('plot: bad options are ReportErrors; an unknown sweep a StoreError', () => {
  assert.throws(() => buildSweepPlot(db, 'pr', { metric: 'accuracy' as never }), ReportError);
  assert.throws(() => buildSweepPlot(db, 'pr', { x: 'device.nope' }), ReportError);
  assert.throws(() => buildSweepPlot(db, 'pr', { x: 'algorithm' }), /not a number/);
  assert.throws(() => buildSweepPlot(db, 'pr', { x: 'device.n_states', group: ['device'] }), /overlap/);
  assert.throws(() => buildSweepPlot(db, 'pr', { epoch: 'best' }), ReportError);
  assert.throws(() => buildSweepPlot(db, 'nope'), StoreError);
  // --epoch best takes each run's best epoch: here the last one (accuracy rises)
  const best = buildSweepPlot(db, 'pr', { x: 'device.n_states', epoch: 'best', facet: null });
  const y = best.figure.panels[0].series[0].points.map((p) => p.y);
  y.forEach((v, i) => near(v, 100 * (base('mp', [4, 16, 64][i]) + 0.2), 'best = final here'));
});

// ---- report -----------------------------------------------------------------------------------

test('report: one self-contained HTML file with the table, plots, escaped errors, no script or URL', () => {
  const { html, plots, failed } = buildSweepReport(db, 'pr', { db: 'my results.db', now });
  checkWellFormed(html, HTML_VOID);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.equal(failed, 1);
  assert.deepEqual(
    plots.map((p) => p.x),
    ['epoch', 'device.n_states'],
    'learning curves, then the numeric swept key',
  );
  assert.equal((html.match(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g) ?? []).length, 2, 'the plots inline');
  for (const svg of html.match(/<svg[\s\S]*?<\/svg>/g) ?? []) checkWellFormed(svg);
  // the default table: mp at 16 states, final epoch: 58.00 ± 2.83 (n=2); WEIRD at 64 lost a run
  assert.ok(html.includes('<td class="num">58.00 ± 2.83 (n=2)</td>'), 'mp x 16 cell');
  assert.ok(html.includes(`${(100 * (base(WEIRD, 64) + 0.2 - 0.02)).toFixed(2)} (n=1, 1 failed)`), 'WEIRD x 64 cell');
  assert.ok(html.includes('<th>a&lt;&amp;&gt;&quot;b&#39;</th>'), 'row head escaped');
  // the failed run's error, escaped
  assert.ok(html.includes('diverged: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;NaN&quot; at epoch 2'));
  assert.ok(!/<script/i.test(html), 'no script');
  assert.ok(
    !html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '').includes('http'),
    'no URL but the SVG namespace',
  );
  assert.ok(!/\b(src|href)="(?!#)/.test(html), 'no external resources');
  // definition, provenance, reproduction
  assert.ok(html.includes('the pr sweep'), 'description');
  assert.ok(html.includes('&quot;swept&quot;: ['), 'definition pretty-printed');
  assert.ok(
    html.includes('npx aimc-sweep run sweeps/pr.yaml --db &#39;my results.db&#39;'),
    'the command to reproduce, shell-quoted',
  );
  assert.ok(html.includes('--retry-failed'), 'and to retry the failed run');
});

test('report: an unknown sweep is a StoreError (exit 2)', () => {
  assert.throws(() => buildSweepReport(db, 'nope', { db: DB }), StoreError);
});

// ---- the commands -----------------------------------------------------------------------------

// started at once, each test awaits its own
const plotOk = cli(
  'plot',
  '--sweep',
  'pr',
  '--x',
  'device.n_states',
  '--group',
  'algorithm',
  '--facet',
  'none',
  '--db',
  DB,
);
const plotNoSweep = cli('plot', '--sweep', 'nope', '--db', DB);
const plotBadMetric = cli('plot', '--sweep', 'pr', '--metric', 'accuracy', '--db', DB);
const reportOut = join(dir, 'r.html');
const reportOk = cli('report', '--sweep', 'pr', '--db', DB, '--out', reportOut);

test('cli: plot writes the SVG to stdout; report writes the file', async () => {
  const p = await plotOk;
  assert.equal(p.code, 0, p.stderr);
  checkWellFormed(p.stdout);
  assert.ok(p.stdout.includes('device.n_states (log scale)'));
  const r = await reportOk;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /report of pr \(2 plots, 1 failed run\)/);
  checkWellFormed(readFileSync(reportOut, 'utf8'), HTML_VOID);
});

test('cli: unknown sweep and unknown metric exit 2 with a message', async () => {
  const a = await plotNoSweep;
  assert.equal(a.code, 2);
  assert.match(a.stderr, /no sweep named "nope" \(sweeps: pr, ls\)/);
  assert.equal(a.stdout, '');
  const b = await plotBadMetric;
  assert.equal(b.code, 2);
  assert.match(b.stderr, /metric/);
});
