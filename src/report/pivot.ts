/**
 * A sweep's table from its results database: the reader's options checked and completed from the
 * sweep's view, each run's value at the chosen epoch, the pivot of the runs (pivot-cells.ts) with
 * the papers' numbers the definition records. What `table` prints, `run` (and `submit --wait
 * --db`) print after a sweep, and `report` shows.
 */
import type { Db } from '../store/open.ts';
import { requireSweep, sweepRuns } from '../store/results-read.ts';
import { runValues, storedEpochValues } from './epoch-values.ts';
import { ReportError } from './errors.ts';
import { firstOverlap } from './key-values.ts';
import { defaultLayout } from './layout.ts';
import {
  checkEpoch,
  checkEpochOfMetric,
  checkKeys,
  checkMetric,
  checkStat,
  requireRecordedMetric,
  resolveTableOptions,
  type TableOptions,
} from './options.ts';
import { type PivotRun, pivotRuns, type PivotTable } from './pivot-cells.ts';
import { storedReferences, storedView } from './stored-definition.ts';
import { formatPivotMarkdown } from './table-formats.ts';

/**
 * The pivot of sweep `sweep` from a results database (read-only or not). Throws StoreError for
 * an unknown sweep and ReportError for bad options.
 */
export function buildSweepPivot(db: Db, sweep: string, options: TableOptions = {}): PivotTable {
  checkEpoch(options.epoch);
  checkStat(options.stat);
  if (options.rows) checkKeys('rows', options.rows);
  if (options.cols) checkKeys('cols', options.cols);
  checkMetric(options.metric);
  const named = [...(options.rows ?? []), ...(options.cols ?? [])];
  const overlap = firstOverlap(named);
  if (overlap) {
    const [a, b] = overlap.map((i) => named[i]);
    throw new ReportError(`--rows/--cols: ${a} and ${b} overlap; name each key once`);
  }
  const s = requireSweep(db, sweep);
  const runs = sweepRuns(db, s.id);
  if (options.metric !== undefined) {
    requireRecordedMetric(
      s.name,
      options.metric,
      runs.map((r) => (r.status === 'done' ? r.result : null)),
    );
  }
  const references = storedReferences(db, s.id, s.name);
  const o = resolveTableOptions(storedView(db, s.id, s.name), options);
  const epoch = o.epoch ?? 'final';
  const layout = defaultLayout(runs, { rows: o.rows, cols: o.cols, metric: o.metric });
  checkEpochOfMetric(layout.metric, epoch);
  const valueOf = runValues(layout.metric, epoch, storedEpochValues(db, s.id));
  const pivotInput: PivotRun[] = runs.map((r) => ({
    hash: r.hash,
    status: r.status,
    config: r.config,
    value: valueOf(r),
  }));
  return pivotRuns(s.name, pivotInput, layout, epoch, references, o.stat ?? 'mean');
}

/**
 * The markdown table of a sweep (title line, table, warnings), as `table` prints it by default
 * and `run` (and `submit --wait --db`) after a sweep; options not given are the sweep's view's,
 * else chosen by defaultLayout. Throws StoreError for an unknown sweep and ReportError for bad
 * options.
 */
export function renderSweepTable(db: Db, sweep: string, options: TableOptions = {}): string {
  return formatPivotMarkdown(buildSweepPivot(db, sweep, options));
}
