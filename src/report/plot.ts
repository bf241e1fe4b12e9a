/**
 * A sweep's plot from its results database: its runs with their epochs, the view recorded with
 * its definition, each run's best or tail value as the table reads it, the figure (plot-figure.ts)
 * and its SVG (svg.ts). What `plot` writes and `report` shows.
 */
import type { Db } from '../store/open.ts';
import { type EpochRow, requireSweep, sweepEpochMetrics, type SweepRunRow, sweepRuns } from '../store/results-read.ts';
import { storedEpochValues } from './epoch-values.ts';
import { requireRecordedMetric } from './options.ts';
import { type PlotRun, plotRuns, type SweepPlot } from './plot-figure.ts';
import { type PlotOptions, plotLayout } from './plot-layout.ts';
import { storedView } from './stored-definition.ts';
import { renderSvg } from './svg.ts';

/** Runs with their epochs (by run hash), as plotRuns takes them. */
export function withEpochs(runs: readonly SweepRunRow[], epochs: ReadonlyMap<string, EpochRow[]>): PlotRun[] {
  return runs.map((r) => ({
    hash: r.hash,
    status: r.status,
    config: r.config,
    assignments: r.assignments,
    result: r.result,
    epochs: epochs.get(r.hash) ?? [],
  }));
}

/** A sweep's runs with their epochs, as plotRuns takes them. */
export function loadPlotRuns(db: Db, sweepId: number): PlotRun[] {
  const epochs = sweepEpochMetrics(db, sweepId);
  return withEpochs(sweepRuns(db, sweepId), epochs);
}

/** The plot of sweep `sweep` from a results database; StoreError for an unknown sweep, ReportError for bad options. */
export function buildSweepPlot(db: Db, sweep: string, options: PlotOptions = {}): SweepPlot {
  // options that are wrong whatever the sweep holds are refused before looking it up
  plotLayout([], { ...options, group: options.group ?? [], facet: options.facet ?? null });
  const s = requireSweep(db, sweep);
  const runs = loadPlotRuns(db, s.id);
  if (options.metric !== undefined) {
    requireRecordedMetric(
      s.name,
      options.metric,
      runs.map((r) => (r.status === 'done' ? r.result : null)),
    );
  }
  const view = options.view === undefined ? storedView(db, s.id, s.name) : options.view;
  return plotRuns(s.name, runs, { ...options, view }, storedEpochValues(db, s.id));
}

/** The SVG document of a sweep plot and its warnings. */
export function renderSweepPlot(db: Db, sweep: string, options: PlotOptions = {}): { svg: string; plot: SweepPlot } {
  const plot = buildSweepPlot(db, sweep, options);
  return { svg: renderSvg(plot.figure), plot };
}
