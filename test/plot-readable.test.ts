/**
 * Plots and tables a reader can trust, on the realistic database of test/report-fixture.ts: error
 * bars of neighbouring series side by side, long noisy learning curves drawn as window means
 * with the raw range faint, std bands on a log axis drawn geometrically (never down to the axis
 * floor), wide tables inside a scrolling box, footnotes wrapped rather than cut, `plot` on a
 * terminal writing a file, and `table`/`plot --metric` of a metric the sweep does not record
 * refused with the metrics it has.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCli } from './helpers.ts';
import { buildSweepReport } from '../src/report/html.ts';
import { ReportError } from '../src/report/errors.ts';
import { learningCurve, SMOOTH_ABOVE, SMOOTH_WINDOWS } from '../src/report/learning-curve.ts';
import { buildSweepPivot } from '../src/report/pivot.ts';
import { buildSweepPlot } from '../src/report/plot.ts';
import { type PlotRun, plotRuns } from '../src/report/plot-figure.ts';
import { dodgeOffsets, figureGeometry, project, renderSvg, spreadOf, wrapNotes } from '../src/report/svg.ts';
import { openStoreReadonly } from '../src/store/open.ts';
import { defaultPlotFile } from '../src/cli/plot.ts';
import { buildReportFixture, CLASSIFICATION_SWEEP, LEAST_SQUARES_SWEEP, STATES } from './report-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-plot-readable-'));
const DB = join(dir, 'results.db');
buildReportFixture(DB);
const db = openStoreReadonly(DB);

const attr = (el: string, name: string): string | undefined => el.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
const panels = (svg: string): string[] => svg.split('<g class="panel">').slice(1);

test('error bars of neighbouring series stand side by side, inside the frame, caps not touching', () => {
  const plot = buildSweepPlot(db, CLASSIFICATION_SWEEP, { x: 'device.n_states' });
  const g = figureGeometry(plot.figure);
  const svg = renderSvg(plot.figure);
  plot.figure.panels.forEach((panel, pi) => {
    const f = g.panels[pi];
    const { offsets, step } = dodgeOffsets(g, f, plot.figure, panel);
    const dodged = panel.series.filter((s) => !s.reference);
    assert.equal(offsets.size, dodged.length, 'every series with error bars is dodged');
    assert.ok(step >= 3, `neighbours ${step} px apart`);
    // the bars in the SVG: at each swept value one bar per series, all at different x, none outside the frame
    const bars = [...panels(svg)[pi].matchAll(/<path class="errorbar" [^>]*>/g)].flatMap((m) =>
      [...(attr(m[0], 'd') ?? '').matchAll(/M(-?[\d.]+),(-?[\d.]+)V/g)].map((b) => Number(b[1])),
    );
    for (const n of STATES) {
      const at = project(g.x, n, f.left, f.left + f.width);
      const near = bars.filter((x) => Math.abs(x - at) < 30).sort((a, b) => a - b);
      assert.ok(near.length >= dodged.length - 1, `n=${n}: ${near.length} bars`);
      for (let i = 1; i < near.length; i++)
        assert.ok(near[i] - near[i - 1] >= step - 0.02, `n=${n}: bars ${near[i - 1]} and ${near[i]} apart by a step`);
      for (const x of near) assert.ok(x > f.left && x < f.left + f.width, `bar at ${x} inside the frame`);
    }
    const caps = [...panels(svg)[pi].matchAll(/<path class="errorbar" [^>]*>/g)].flatMap((m) =>
      [...(attr(m[0], 'd') ?? '').matchAll(/M(-?[\d.]+),-?[\d.]+H(-?[\d.]+)/g)].map((c) => Number(c[2]) - Number(c[1])),
    );
    for (const w of caps) assert.ok(w < step, `a cap (${w} px) narrower than the step (${step} px)`);
  });
  // learning curves (bands) are never dodged
  const curves = buildSweepPlot(db, CLASSIFICATION_SWEEP);
  const cg = figureGeometry(curves.figure);
  assert.equal(dodgeOffsets(cg, cg.panels[0], curves.figure, curves.figure.panels[0]).offsets.size, 0);
});

test('long noisy learning curves: window means over seeds, epoch 0 alone, the raw range faint, no markers', () => {
  // a 1000-epoch run pair: y = epoch parity noise around 1; the window mean smooths it away
  const epochs = (seed: number) =>
    Array.from(
      { length: 1001 },
      (_, e) => ({ epoch: e, weight_error: e === 0 ? 5 : 1 + (e % 2 ? 0.5 : -0.5) + 0.1 * seed }) as never,
    );
  const runs = [1, 2].map((seed) => ({ epochs: epochs(seed) }));
  const { points, window } = learningCurve(runs, 'weight_error');
  assert.ok(1000 > SMOOTH_ABOVE);
  assert.equal(window, Math.ceil(1000 / SMOOTH_WINDOWS), 'about SMOOTH_WINDOWS windows');
  assert.deepEqual([points[0].x, points[0].y, points[0].from, points[0].to], [0, 5, 0, 0], 'epoch 0 on its own');
  assert.equal(points[0].range, undefined);
  assert.equal(points.length, 1 + Math.ceil(1000 / window));
  const w1 = points[1];
  assert.deepEqual([w1.from, w1.to], [1, window]);
  assert.ok(Math.abs(w1.x - (1 + window) / 2) < 1e-12, 'at the mean epoch of its window');
  // seed s has window mean 1 + 0.1 s + (odd window: +0.5/window); mean over the two seeds, their std
  const odd = 0.5 / window;
  assert.ok(Math.abs(w1.y - (1.15 + odd)) < 1e-12, `window mean ${w1.y}`);
  assert.ok(Math.abs((w1.std as number) - 0.1 / Math.SQRT2) < 1e-12, 'std over seeds of their window means');
  assert.ok(
    Math.abs(w1.range![0] - 0.65) < 1e-12 && Math.abs(w1.range![1] - 1.65) < 1e-12,
    'the range of the per-epoch means',
  );
  const last = points[points.length - 1];
  assert.equal(last.to, 1000, 'the last window ends at the last epoch');
  // up to SMOOTH_ABOVE epochs, every epoch as it is
  assert.equal(learningCurve([{ epochs: epochs(1).slice(0, SMOOTH_ABOVE) }], 'weight_error').window, 1);

  const plot = buildSweepPlot(db, LEAST_SQUARES_SWEEP);
  const svg = renderSvg(plot.figure);
  assert.ok(
    plot.figure.panels.every((p) => p.series.every((s) => s.smoothed && s.points.length <= SMOOTH_WINDOWS + 2)),
  );
  assert.ok(
    !svg.slice(svg.indexOf('<g class="panel">'), svg.indexOf('<g class="legend">')).includes('<circle'),
    'no markers on smoothed lines',
  );
  assert.ok(svg.includes('<path class="range" '), 'the raw range, faint');
  assert.match(svg, /each point is the mean over a window of 17 epochs/);
});

test(
  'on a log axis a ±1 std band or error bar is geometric: mean²/(mean + std) to mean + std, never at the axis ' +
    'floor',
  () => {
    assert.deepEqual(spreadOf({ x: 0, y: 1, std: 3, n: 3 }, true), [0.25, 4]);
    assert.deepEqual(spreadOf({ x: 0, y: 1, std: 3, n: 3 }, false), [-2, 4]);
    // runs whose std exceeds the mean (2 of 3 near 0.01, one at 3)
    const mk = (seed: number, v: number): PlotRun => ({
      hash: String(seed),
      status: 'done',
      config: { algorithm: 'analog-sgd', seed, lr: 0.1, task: { kind: 'least-squares' } },
      assignments: { seed },
      result: { weight_error: v } as never,
      epochs: [
        { epoch: 0, weight_error: 100 },
        { epoch: 1, weight_error: v },
      ] as never,
    });
    const plot = plotRuns('spread', [mk(1, 0.01), mk(2, 0.012), mk(3, 3)], { metric: 'weight_error' });
    assert.equal(plot.figure.yLog, true);
    const g = figureGeometry(plot.figure);
    const f = g.panels[0];
    const svg = renderSvg(plot.figure);
    const band = [
      ...(attr(svg.match(/<path class="band" [^>]*>/)?.[0] ?? '', 'd') ?? '').matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g),
    ].map((m) => Number(m[2]));
    const bottom = f.top + f.height;
    for (const y of band) assert.ok(y < bottom - 1, `band edge ${y} above the axis floor ${bottom}`);
    const p = plot.figure.panels[0].series[0].points[1];
    const lo = (p.y * p.y) / (p.y + (p.std as number));
    assert.ok(
      Math.abs(band[band.length - 2] - project(g.y, lo, bottom, f.top)) < 0.02,
      'the lower edge at mean²/(mean + std)',
    );
    assert.ok(g.y.min <= lo, 'the axis reaches down to it');
    assert.match(svg, /log scale: ±1 std is drawn from mean²\/\(mean \+ std\) to mean \+ std/);
    assert.doesNotMatch(svg, /cut at the bottom/);
    // the report's log plots, too: no band edge at a panel's floor
    const ls = renderSvg(buildSweepPlot(db, LEAST_SQUARES_SWEEP).figure);
    const lg = figureGeometry(buildSweepPlot(db, LEAST_SQUARES_SWEEP).figure);
    panels(ls).forEach((pn, i) => {
      const floor = lg.panels[i].top + lg.panels[i].height;
      for (const m of pn.matchAll(/<path class="band" [^>]*>/g)) {
        for (const y of [...(attr(m[0], 'd') ?? '').matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((c) => Number(c[2])))
          assert.ok(y < floor - 0.5, `band edge at ${y}, floor ${floor}`);
      }
    });
  },
);

test('footnotes wrap to the figure width instead of being cut; the legend sits above the panels', () => {
  const lines = wrapNotes(['word '.repeat(20).trim()], 300);
  assert.ok(lines.length > 1 && lines.length <= 3);
  assert.ok(lines.every((l) => l.text.length * 6.2 <= 300));
  assert.equal(lines.map((l) => l.text).join(' '), 'word '.repeat(20).trim(), 'nothing lost when it fits in 3 lines');
  const cut = wrapNotes(['word '.repeat(200).trim()], 300);
  assert.equal(cut.length, 3);
  assert.ok(
    cut[2].text.endsWith('…') && cut[2].cut === 'word '.repeat(200).trim(),
    'beyond 3 lines: cut, the whole in a tooltip',
  );
  const plot = buildSweepPlot(db, CLASSIFICATION_SWEEP);
  const g = figureGeometry(plot.figure);
  const svg = renderSvg(plot.figure);
  const warning = plot.figure.notes?.find((n) => n.startsWith('warning:')) ?? '';
  assert.ok(warning.length > 150, 'a long warning');
  const notes = [...svg.matchAll(/<text [^>]*class="note"[^>]*>(?:<title>[^<]*<\/title>)?([^<]*)<\/text>/g)].map(
    (m) => m[1],
  );
  assert.ok(notes.length > (plot.figure.notes ?? []).length, 'some notes take several lines');
  assert.ok(
    g.legend && g.legend.top + g.legend.height <= Math.min(...g.panels.map((p) => p.top)),
    'legend above the panels',
  );
  assert.ok(g.width <= 2 * 440 + 8, 'no legend column: the figure is as wide as its panels');
  for (const it of g.legend?.items ?? []) assert.ok(it.x + 30 < g.width, 'every legend entry inside the figure');
});

test(
  'report: the results and failed-run tables scroll inside the page; long column heads break; hashes ' + 'shortened',
  () => {
    const { html } = buildSweepReport(db, CLASSIFICATION_SWEEP, { db: 'results.db' });
    assert.match(html, /<div class="scroll">\n<table class="pivot">/);
    assert.match(html, /<div class="scroll">\n<table class="failed">/);
    assert.match(html, /\.scroll \{ overflow-x: auto;/);
    assert.match(
      html,
      /<th>device\.n_states=4,<br\/>device\.subtract_symmetric_point=<wbr\/>false<\/th>/,
      'one key=value per line',
    );
    assert.match(html, /<code class="hash" title="[0-9a-f]{64}">[0-9a-f]{12}<\/code>/);
    assert.match(html, /pre\.error \{[^}]*overflow-wrap: anywhere/);
    assert.match(html, /<svg [^>]*style="min-width: \d+px">/, 'plots shrink only so far, then scroll');
  },
);

test(
  'table/plot --metric of a metric the sweep does not record: a ReportError naming the metrics it ' + 'has; exit 2',
  async () => {
    // the metrics it has, in METRICS order (others may follow: wall_ms, and whatever else runs record)
    const LS_HAS = /its metrics: train_loss, weight_error, step_loss, step_weight_error, [^\n]*wall_ms\n?$/;
    assert.throws(
      () => buildSweepPivot(db, LEAST_SQUARES_SWEEP, { metric: 'test_accuracy' }),
      (e: unknown) =>
        e instanceof ReportError &&
        e.message.startsWith(`--metric test_accuracy: no done run of ${LEAST_SQUARES_SWEEP} records it; `) &&
        LS_HAS.test(e.message) &&
        !/accuracy, /.test(e.message),
    );
    assert.throws(
      () => buildSweepPlot(db, CLASSIFICATION_SWEEP, { metric: 'weight_error' }),
      /no done run of states-by-algorithm records it; its metrics: train_loss, train_accuracy, test_loss, test_accuracy, [^\n]*wall_ms$/,
    );
    // a metric some runs have is fine
    assert.equal(buildSweepPivot(db, LEAST_SQUARES_SWEEP, { metric: 'step_loss' }).metric, 'step_loss');
    const [t, p] = await Promise.all([
      runCli('table', '--sweep', LEAST_SQUARES_SWEEP, '--metric', 'test_accuracy', '--db', DB),
      runCli('plot', '--sweep', LEAST_SQUARES_SWEEP, '--metric', 'test_loss', '--x', 'n_tiles', '--db', DB),
    ]);
    for (const r of [t, p]) {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /no done run of residual-long records it; its metrics: train_loss, weight_error, step_loss, step_weight_error, .*wall_ms\n$/,
      );
    }
  },
);

const script = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status === 0;

test(
  'plot without --out on a terminal writes a new file and says where; never overwrites',
  { skip: script ? false : 'script(1) not found: no terminal to run plot on' },
  () => {
    assert.equal(defaultPlotFile('residual-long', 'weight_error', 'epoch'), 'residual-long-weight_error.svg');
    assert.equal(
      defaultPlotFile('a b/c', 'test_accuracy', 'device.n_states'),
      'a_b_c-test_accuracy-vs-device.n_states.svg',
    );
    const cwd = mkdtempSync(join(tmpdir(), 'aimc-plot-tty-'));
    const tsx = import.meta.resolve('tsx');
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = [
      process.execPath,
      '--import',
      tsx,
      main,
      'plot',
      '--sweep',
      LEAST_SQUARES_SWEEP,
      '--x',
      'n_tiles',
      '--db',
      DB,
    ]
      .map(q)
      .join(' ');
    const run = () => spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd, encoding: 'utf8', timeout: 60_000 });
    const first = run();
    assert.equal(first.status, 0, first.stdout + first.stderr);
    assert.match(
      first.stdout,
      /residual-long-weight_error-vs-n_tiles\.svg: residual-long: weight_error vs n_tiles \(2 panels\), [\d.]+ KiB \(standard output is a terminal/,
    );
    assert.doesNotMatch(first.stdout, /<svg/, 'no SVG source on the terminal');
    const second = run();
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /residual-long-weight_error-vs-n_tiles-2\.svg: /);
    assert.deepEqual(readdirSync(cwd).sort(), [
      'residual-long-weight_error-vs-n_tiles-2.svg',
      'residual-long-weight_error-vs-n_tiles.svg',
    ]);
    assert.match(
      readFileSync(join(cwd, 'residual-long-weight_error-vs-n_tiles.svg'), 'utf8'),
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
    );
    assert.ok(existsSync(join(cwd, 'residual-long-weight_error-vs-n_tiles-2.svg')));
  },
);
