/**
 * How a metric is printed, one rule for every form of a table, plot and report: accuracies
 * (isAccuracyMetric, src/core/tasks/run-result.ts) in percent, every other metric as stored (ns,
 * nJ, bytes, ms, or a loss or error without unit); and how the epoch statistic is named. Only
 * `export` and `query` give the stored values themselves (accuracies as fractions).
 */
import { isAccuracyMetric, type Metric } from '../core/tasks/run-result.ts';
import { TAIL_FRACTION } from '../store/results-read.ts';
import type { EpochChoice } from '../sweep/view.ts';
import { formatNumber } from './format.ts';

/** The factor from the stored unit to the printed one: 100 for accuracies (fractions, printed in %), else 1. */
export function printedScale(metric: Metric): 100 | 1 {
  return isAccuracyMetric(metric) ? 100 : 1;
}

/** The values a metric can take, in the stored unit (a 95 % interval is clipped to them). */
export function storedRange(metric: Metric): [number, number] {
  return isAccuracyMetric(metric) ? [0, 1] : [0, Infinity];
}

const UNITS: Partial<Record<Metric, string>> = {
  update_ns: 'ns',
  energy_nj: 'nJ',
  storage_bytes: 'bytes',
  wall_ms: 'ms',
};

/** The unit tables print a metric in: `%` for accuracies, `ns`, `nJ`, `bytes`, `ms`; '' for losses and errors. */
export function metricUnit(metric: Metric): string {
  if (isAccuracyMetric(metric)) return '%';
  return UNITS[metric] ?? '';
}

/** What follows a metric's name in a title or an axis label: ` (%)` for accuracies, else nothing. */
export function titleUnit(metric: Metric): string {
  return isAccuracyMetric(metric) ? ' (%)' : '';
}

/** A stored value as tables print it: percent with 2 decimals for accuracies, else 4 significant digits. */
export function metricText(metric: Metric, x: number): string {
  return isAccuracyMetric(metric) ? (100 * x).toFixed(2) : formatNumber(x);
}

/** A stored value in the printed unit, at full precision (percent for accuracies: 0.6809 is 68.09). */
export function inPrintedUnit(metric: Metric, x: number | null | undefined): number | null {
  if (x === null || x === undefined) return null;
  return isAccuracyMetric(metric) ? Number((100 * x).toPrecision(15)) : x;
}

/**
 * Whether a plot may put the metric on a log axis (when its values span more than a factor of
 * 10): losses, errors and the cost estimates; not accuracies, not wall_ms.
 */
export function logScalable(metric: Metric): boolean {
  return metric !== 'wall_ms' && !isAccuracyMetric(metric);
}

/** `final epoch`, `best epoch`, or `mean of the last 20 % of epochs`: the epoch statistic in words. */
export function epochText(epoch: EpochChoice): string {
  return epoch === 'tail' ? `mean of the last ${TAIL_FRACTION * 100} % of epochs` : `${epoch} epoch`;
}

/**
 * A value already in the printed unit, as plots label it: 2 decimals for accuracies (%), else 4
 * significant digits.
 */
export function printedValueText(metric: Metric, v: number): string {
  return isAccuracyMetric(metric) ? v.toFixed(2) : formatNumber(v);
}
