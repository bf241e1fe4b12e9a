/**
 * A run's value of a metric at the epoch a table or a plot asks for: its final epoch's (the
 * result), its best epoch's, or its mean over the last epochs (`--epoch final|best|tail`). The
 * rules of `best` and `tail` live in the store's SQL (bestEpochValues, tailEpochValues in
 * src/store/results-read.ts), so that a table and a plot of the same runs show the same numbers
 * to the last bit.
 */
import type { Metric } from '../core/tasks/run-result.ts';
import type { Db } from '../store/open.ts';
import { bestEpochValues, type ResultRow, type SweepRunRow, tailEpochValues } from '../store/results-read.ts';
import type { EpochChoice } from '../sweep/view.ts';

/** Per done run (by hash), a metric at its best epoch or over its tail; runs without a value are absent. */
export type EpochValues = (metric: Exclude<Metric, 'wall_ms'>, epoch: 'best' | 'tail') => ReadonlyMap<string, number>;

/** The epoch values of a sweep's runs as the database holds them (each metric and epoch read once). */
export function storedEpochValues(db: Db, sweepId: number): EpochValues {
  const read = new Map<string, ReadonlyMap<string, number>>();
  return (metric, epoch) => {
    const id = `${metric}/${epoch}`;
    let values = read.get(id);
    if (values === undefined) {
      values = epoch === 'best' ? bestEpochValues(db, sweepId, metric) : tailEpochValues(db, sweepId, metric);
      read.set(id, values);
    }
    return values;
  };
}

/** What a run's value depends on. */
export interface ValuedRun {
  hash: string;
  status: SweepRunRow['status'];
  result: Pick<ResultRow, Metric> | null;
}

/**
 * The values of `metric` at `epoch` of runs: a function of a run, its value when it is done
 * (null when it is not, or does not record the metric); wall_ms only at the final epoch.
 */
export function runValues(
  metric: Metric,
  epoch: EpochChoice,
  epochValues: EpochValues | undefined,
): (run: ValuedRun) => number | null {
  if (metric === 'wall_ms' || epoch === 'final') {
    return (r) => (r.status !== 'done' || r.result === null ? null : (r.result[metric] ?? null));
  }
  if (epochValues === undefined) throw new Error(`runValues: --epoch ${epoch} needs the runs' epoch values`);
  const values = epochValues(metric, epoch);
  return (r) => (r.status !== 'done' || r.result === null ? null : (values.get(r.hash) ?? null));
}
