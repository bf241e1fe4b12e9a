/**
 * The figure of a sweep's runs (pure; svg.ts renders it):
 *
 * - `x = 'epoch'` (learning curves): per group of runs, the mean over its done runs (the seeds) of
 *   a metric at every recorded epoch (epoch 0, the untrained model, included), with a shaded
 *   band of ±1 sample std;
 * - `x = <numeric run config key>` (e.g. `device.n_states`): per group, the final (best, tail)
 *   metric against the key's values, mean with ±1 std error bars; a log-scaled x axis when the
 *   values span more than a factor of 10. A group none of whose runs has the key (digital SGD
 *   has no device) is drawn as a dashed reference level across the panel.
 *
 * Groups and panels are plotLayout's; runs without the facet key (again digital SGD) are drawn
 * in every panel. Accuracies are shown in %, and losses and errors on a log y axis when their
 * means span more than a factor of 10 (where svg.ts draws ±1 std geometrically). Learning curves
 * of more than SMOOTH_ABOVE epochs are drawn as window means with the raw range faint behind
 * (learningCurve). Lines that average over runs differing in more than the seed are warned
 * about, as the table warns about cells. `stat: 'median'` draws the median over seeds with the
 * range from the lowest to the highest value instead of mean ± 1 std.
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import type { Metric } from '../core/tasks/run-result.ts';
import type { EpochRow, ResultRow, SweepRunRow } from '../store/results-read.ts';
import type { EpochChoice, Stat } from '../sweep/view.ts';
import { type EpochValues, runValues } from './epoch-values.ts';
import { ReportError } from './errors.ts';
import {
  differingKeys,
  keyValuesText,
  listWithMore,
  mixedWarning,
  orderedTuples,
  tupleId,
  valueText,
} from './key-values.ts';
import { centre, learningCurve, SMOOTH_ABOVE, type Spread } from './learning-curve.ts';
import { epochText, logScalable, printedScale, printedValueText, titleUnit } from './metric-text.ts';
import { type PlotOptions, plotLayout } from './plot-layout.ts';
import type { Figure, FigurePoint, FigureSeries } from './svg.ts';

/** A run as the plots see it: the sweep's view of it and its accepted attempt's epochs. */
export interface PlotRun {
  hash: string;
  status: SweepRunRow['status'];
  config: Record<string, unknown>;
  assignments: Record<string, unknown>;
  result: Pick<ResultRow, Metric> | null;
  /** ascending epochs (empty when none recorded) */
  epochs: readonly EpochRow[];
}

export interface SweepPlot {
  figure: Figure;
  metric: Metric;
  x: string;
  group: string[];
  facet: string | null;
  epoch: EpochChoice;
  stat: Stat;
  /** what the reader should know (lines averaging over more than the seed, values left out) */
  warnings: string[];
}

/** The runs of one group within one panel. */
interface Line {
  group: number;
  runs: PlotRun[];
}

/** `epoch 3` or `epochs 17–33`: the epochs a point of a learning curve covers. */
function epochsText(p: { from: number; to: number }): string {
  return p.from === p.to ? `epoch ${p.from}` : `epochs ${p.from}–${p.to}`;
}

/** `12.3 ± 0.4` or `12.3 [11.9, 12.8]`: a point's value and spread as its tooltip gives it. */
function spreadText(p: Spread, fmt: (v: number) => string): string {
  if (p.bounds) return `${fmt(p.y)} [${fmt(p.bounds[0])}, ${fmt(p.bounds[1])}]`;
  return `${fmt(p.y)}${p.std === null ? '' : ` ± ${fmt(p.std)}`}`;
}

/**
 * The plot of `runs` (a sweep's, in expansion order); pure. `epochValues` gives each run's best
 * or tail value where a key on x asks for one (storedEpochValues: the table's numbers).
 */
export function plotRuns(
  sweep: string,
  runs: readonly PlotRun[],
  options: PlotOptions = {},
  epochValues?: EpochValues,
): SweepPlot {
  const { metric, x, group, facet, epoch, stat } = plotLayout(runs, options);
  const warnings: string[] = [];
  const notes: string[] = [];
  const done = runs.filter((r) => r.status === 'done' && r.result !== null);
  const scale = printedScale(metric);
  const fmt = (v: number) => printedValueText(metric, v);

  // groups (colours, legend) over the done runs
  const tuplesOf = (rs: readonly PlotRun[], keys: readonly string[]) =>
    orderedTuples(rs.map((r) => keys.map((k) => resolvedValueAt(r.config, k))));
  const idOf = (r: PlotRun, keys: readonly string[]) => tupleId(keys.map((k) => resolvedValueAt(r.config, k)));
  const groups = tuplesOf(done, group);
  const groupIndex = new Map(groups.map((g, i) => [g.id, i]));
  const groupLabels = (i: number) => groups[i].values.map(valueText);
  const groupName = (i: number) => (group.length ? groupLabels(i).join(', ') : '');
  const groupWhere = (i: number) => (group.length ? keyValuesText(group, groupLabels(i)) : 'all runs');

  // panels: one per present facet value; runs without the key in every panel
  let panels: { title: string; runs: PlotRun[] }[];
  if (facet === null) {
    panels = [{ title: '', runs: done }];
  } else {
    const values = tuplesOf(done, [facet]);
    const present = values.filter((v) => v.values[0].present);
    const absent = done.filter((r) => !resolvedValueAt(r.config, facet).present);
    const titled = (v: (typeof values)[number]) => `${facet}=${valueText(v.values[0])}`;
    const withValue = (v: (typeof values)[number]) => done.filter((r) => idOf(r, [facet]) === v.id);
    if (present.length === 0 || absent.length === 0) {
      panels = values.map((v) => ({ title: titled(v), runs: withValue(v) }));
    } else {
      panels = present.map((v) => ({ title: titled(v), runs: [...withValue(v), ...absent] }));
      const who = [...new Set(absent.map((r) => groupIndex.get(idOf(r, group)) as number))].map(groupWhere);
      notes.push(`runs without ${facet} (${who.join('; ')}) are drawn in every panel`);
    }
  }

  const linesOf = (panelRuns: readonly PlotRun[]): Line[] => {
    const by = new Map<number, PlotRun[]>();
    for (const r of panelRuns) {
      const gi = groupIndex.get(idOf(r, group)) as number;
      const list = by.get(gi);
      if (list) list.push(r);
      else by.set(gi, [r]);
    }
    return [...by.entries()].sort(([a], [b]) => a - b).map(([gi, rs]) => ({ group: gi, runs: rs }));
  };

  if (x !== 'epoch') {
    const bad = done.map((r) => resolvedValueAt(r.config, x)).find((v) => v.present && typeof v.value !== 'number');
    if (bad) {
      const instead = `put a numeric key on x, or use --group/--facet for ${x}`;
      throw new ReportError(`--x ${x}: not a number (${valueText(bad)}); ${instead}`);
    }
    if (done.length > 0 && !done.some((r) => resolvedValueAt(r.config, x).present)) {
      throw new ReportError(`--x ${x}: no done run of ${sweep} has this key`);
    }
  }

  // the value of a run at its final/best/tail epoch (for a key on x)
  const valueAtEpoch = x === 'epoch' ? () => null : runValues(metric, epoch, epochValues);
  const valueOf = (r: PlotRun): number | null => {
    const v = valueAtEpoch(r);
    return v !== null && Number.isFinite(v) ? v : null;
  };

  const mixed: { keys: string[]; where: string }[] = [];
  const excluded = ['seed', ...group, ...(facet ? [facet] : []), ...(x === 'epoch' ? [] : [x])];
  const checkMixed = (line: Line, where: string) => {
    const keys = differingKeys(
      line.runs.map((r) => r.config),
      excluded,
    );
    const differing = keys.map((m) => `${m.key} (${m.values.join(', ')})`);
    if (differing.length) {
      mixed.push({ keys: differing, where: `${groupWhere(line.group)}${where ? ` at ${where}` : ''}` });
    }
  };

  let missing = 0;
  let dropped = 0;
  /** the window widths (epochs) of the learning curves drawn as window means */
  const windows = new Set<number>();
  const figurePanels = panels.map((panel) => {
    const series: FigureSeries[] = [];
    for (const line of linesOf(panel.runs)) {
      const onXNowhere = x !== 'epoch' && line.runs.every((r) => !resolvedValueAt(r.config, x).present);
      if (x === 'epoch' || onXNowhere) checkMixed(line, panel.title);
      const name = groupName(line.group) || 'all runs';
      if (x === 'epoch') {
        for (const r of line.runs) if (r.epochs.length === 0) missing++;
        const curve = learningCurve(line.runs, metric, scale, stat);
        const points: FigurePoint[] = curve.points.map((p) => ({
          x: p.x,
          y: p.y,
          std: p.std,
          n: p.n,
          ...(p.bounds ? { bounds: p.bounds } : {}),
          ...(p.range ? { range: p.range } : {}),
          label: `${name}, ${epochsText(p)}: ${spreadText(p, fmt)} (n=${p.n})`,
        }));
        if (curve.window > 1) windows.add(curve.window);
        if (points.length) series.push({ group: line.group, points, ...(curve.window > 1 ? { smoothed: true } : {}) });
        continue;
      }
      const withX = line.runs.filter((r) => resolvedValueAt(r.config, x).present);
      if (withX.length === 0) {
        // a reference level: the group has no such key at all
        const xs = line.runs.map(valueOf).filter((v): v is number => v !== null);
        missing += line.runs.length - xs.length;
        if (xs.length === 0) continue;
        const c = centre(
          xs.map((v) => v * scale),
          stat,
        );
        const label = `${name} (no ${x}): ${spreadText(c, fmt)} (n=${xs.length})`;
        series.push({ group: line.group, reference: true, points: [{ x: NaN, ...c, n: xs.length, label }] });
        continue;
      }
      dropped += line.runs.length - withX.length;
      // keys derived from x (device.dw_min from device.n_states) vary along the line: what must
      // not vary is anything but the seed among the runs of one point
      const byXRuns = new Map<number, PlotRun[]>();
      for (const r of withX) {
        const xv = resolvedValueAt(r.config, x).value as number;
        byXRuns.set(xv, [...(byXRuns.get(xv) ?? []), r]);
      }
      for (const [xv, rs] of byXRuns) {
        checkMixed({ group: line.group, runs: rs }, [panel.title, `${x}=${xv}`].filter((t) => t).join(', '));
      }
      const byX = new Map<number, number[]>();
      for (const r of withX) {
        const v = valueOf(r);
        if (v === null) {
          missing++;
          continue;
        }
        const xv = resolvedValueAt(r.config, x).value as number;
        const list = byX.get(xv);
        if (list) list.push(v * scale);
        else byX.set(xv, [v * scale]);
      }
      const points: FigurePoint[] = [...byX.entries()]
        .sort(([a], [b]) => a - b)
        .map(([xv, xs]) => {
          const c = centre(xs, stat);
          return { x: xv, ...c, n: xs.length, label: `${name}, ${x}=${xv}: ${spreadText(c, fmt)} (n=${xs.length})` };
        });
      if (points.length) series.push({ group: line.group, points });
    }
    return { title: panel.title, series };
  });

  // references get their legend entry marked
  const refGroups = new Set(figurePanels.flatMap((p) => p.series.filter((s) => s.reference).map((s) => s.group)));
  const legend = groups.map((_, i) => (refGroups.has(i) ? `${groupName(i) || 'all runs'} (no ${x})` : groupName(i)));

  // mixed lines, one warning per set of keys (as the table warns about cells)
  const byKeys = new Map<string, { keys: string[]; where: string[] }>();
  for (const m of mixed) {
    const id = m.keys.join(', ');
    const entry = byKeys.get(id) ?? { keys: m.keys, where: [] };
    entry.where.push(m.where);
    byKeys.set(id, entry);
  }
  const mixedUnit = x === 'epoch' ? 'line' : 'point';
  for (const [, { keys, where }] of byKeys) {
    const what = listWithMore(keys, 4, ', ', ' keys');
    const list = listWithMore(where, 4, '; ');
    warnings.push(mixedWarning(where.length, mixedUnit, what, list, keys.length, '--group or --facet'));
  }
  if (dropped) {
    const what = `${dropped} done run${dropped === 1 ? '' : 's'}`;
    warnings.push(`${what} without ${x} left out (their group has runs with it)`);
  }
  if (missing) {
    const perEpoch = x === 'epoch' ? ' per epoch' : '';
    warnings.push(`${missing} done run${missing === 1 ? '' : 's'} without a recorded ${metric}${perEpoch} left out`);
  }
  if (done.length === 0) warnings.push(`${sweep} has no done run yet`);

  const means = figurePanels.flatMap((p) => p.series.flatMap((s) => s.points.map((pt) => pt.y)));
  const xsAll = figurePanels.flatMap((p) =>
    p.series.filter((s) => !s.reference).flatMap((s) => s.points.map((pt) => pt.x)),
  );
  const spans = (vs: number[]) => vs.length > 0 && vs.every((v) => v > 0) && Math.max(...vs) / Math.min(...vs) > 10;
  const yLog = logScalable(metric) && spans(means);
  const xLog = x !== 'epoch' && spans(xsAll);

  if (windows.size) {
    const w = [...windows].sort((a, b) => a - b);
    notes.push(
      `curves of more than ${SMOOTH_ABOVE} epochs: each point is the mean over a window of ${w.join(' or ')} epochs ` +
        "(each run's window mean, then mean ± std over seeds); the faint band is the range of the per-epoch means " +
        'within the window',
    );
  }
  const anyStd = figurePanels.some((p) => p.series.some((s) => s.points.some((pt) => pt.std !== null)));
  if (yLog && stat === 'mean' && anyStd) {
    notes.push(
      'log scale: ±1 std is drawn from mean²/(mean + std) to mean + std, as far below the mean as above on the ' +
        'log axis',
    );
  }
  const failed = runs.filter((r) => r.status === 'failed').length;
  const runText = `${done.length} of ${runs.length} runs done${failed ? `, ${failed} failed` : ''}`;
  const unit = titleUnit(metric);
  const epochLabel = `${epoch} ${metric}${unit}`;
  const spreadWords = stat === 'median' ? 'median and range (lowest to highest) over seeds' : 'mean ± 1 std over seeds';
  const figure: Figure = {
    title: `${sweep}: ${metric}${unit} vs ${x}`,
    subtitle:
      (x === 'epoch' ? `${spreadWords} (shaded)` : `${epochText(epoch)}, ${spreadWords} (error bars)`) +
      (facet ? `; one panel per ${facet}` : '') +
      `; ${runText}`,
    xLabel: x,
    yLabel: x === 'epoch' ? `${metric}${unit}` : epoch === 'tail' ? `${metric}${unit}, tail mean` : epochLabel,
    xLog,
    yLog,
    spread: x === 'epoch' ? 'band' : 'errorbars',
    xTicksAtData: x !== 'epoch',
    xInteger: x === 'epoch',
    groups: legend,
    legendTitle: group.length ? group.join(', ') : undefined,
    panels: figurePanels,
    notes: [...notes, ...warnings.map((w) => `warning: ${w}`)],
  };
  return { figure, metric, x, group, facet, epoch, stat, warnings };
}
