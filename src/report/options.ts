/**
 * What a reader asked a table or a plot for: each option checked (a bad one is a ReportError,
 * exit code 2, naming what to fix), and the options left out taken from the sweep's view.
 */
import { RUN_SCHEMA } from '../core/config/run-config.ts';
import { fieldAt } from '../core/config/schema.ts';
import { METRICS, type Metric } from '../core/tasks/run-result.ts';
import type { ResultRow } from '../store/results-read.ts';
import { EPOCH_CHOICES, type EpochChoice, type Stat, STATS, type SweepView } from '../sweep/view.ts';
import { ReportError } from './errors.ts';

export interface TableOptions {
  /** dotted run config keys; chosen by defaultLayout when not given */
  rows?: string[];
  cols?: string[];
  metric?: Metric;
  /** the final epoch's value (default), each run's best epoch's, or its tail mean */
  epoch?: EpochChoice;
  /** mean ± std [95 % interval] (default) or median [min, max] */
  stat?: Stat;
}

/** `--metric`: one of METRICS. */
export function checkMetric(metric: string | undefined): void {
  if (metric !== undefined && !(METRICS as readonly string[]).includes(metric)) {
    throw new ReportError(`--metric ${JSON.stringify(metric)}: expected one of ${METRICS.join(', ')}`);
  }
}

/** `--stat`: one of STATS. */
export function checkStat(stat: string | undefined): void {
  if (stat !== undefined && !(STATS as readonly string[]).includes(stat)) {
    throw new ReportError(`--stat ${JSON.stringify(stat)}: expected one of ${STATS.join(', ')}`);
  }
}

/** `--epoch`: one of EPOCH_CHOICES. */
export function checkEpoch(epoch: string | undefined): void {
  if (epoch !== undefined && !(EPOCH_CHOICES as readonly string[]).includes(epoch)) {
    throw new ReportError(`--epoch ${JSON.stringify(epoch)}: expected one of ${EPOCH_CHOICES.join(', ')}`);
  }
}

/** `--<option> K[,K2]`: each a dotted run config field. */
export function checkKeys(option: string, keys: readonly string[]): void {
  for (const k of keys) {
    if (k === '' || fieldAt(RUN_SCHEMA, k) === undefined) {
      throw new ReportError(`--${option} ${JSON.stringify(k)}: unknown run config field`);
    }
  }
}

/** wall_ms is recorded once per run: only its final value exists. */
export function checkEpochOfMetric(metric: Metric | undefined, epoch: EpochChoice | undefined): void {
  if (metric === 'wall_ms' && epoch !== undefined && epoch !== 'final') {
    throw new ReportError(`--epoch ${epoch}: wall_ms is per run, not per epoch (use --epoch final)`);
  }
}

/**
 * A metric asked for by name that no done run of the sweep records (a classification metric of a
 * least-squares sweep, step metrics of results stored before they existed) is a bad request
 * naming the metrics the sweep has; before any run is done there is nothing to tell.
 */
export function requireRecordedMetric(
  sweep: string,
  metric: Metric,
  results: readonly (Pick<ResultRow, Metric> | null)[],
): void {
  const has = (r: Pick<ResultRow, Metric>, m: Metric) => typeof r[m] === 'number';
  const done = results.filter((r): r is Pick<ResultRow, Metric> => r !== null);
  if (done.length === 0 || done.some((r) => has(r, metric))) return;
  const recorded = METRICS.filter((m) => done.some((r) => has(r, m)));
  throw new ReportError(
    `--metric ${metric}: no done run of ${sweep} records it; its metrics: ${recorded.join(', ') || '(none)'}`,
  );
}

/**
 * The options of a table (or a plot) with what the reader left out taken from the sweep's view:
 * its rows and cols when neither --rows nor --cols is given (one of them alone is completed by
 * defaultLayout, as without a view, so that the two never overlap); its metric without --metric;
 * its epoch without --epoch unless --metric names another metric than the view's (the epoch
 * statistic belongs to the metric: a tail mean of step_weight_error says nothing of wall_ms); its
 * stat without --stat.
 */
export function resolveTableOptions(view: SweepView | null, options: TableOptions): TableOptions {
  if (view === null) return options;
  const layoutGiven = options.rows !== undefined || options.cols !== undefined;
  const sameMetric = options.metric === undefined || options.metric === view.metric;
  return {
    rows: layoutGiven ? options.rows : view.rows,
    cols: layoutGiven ? options.cols : view.cols,
    metric: options.metric ?? view.metric,
    epoch: options.epoch ?? (sameMetric ? view.epoch : undefined),
    stat: options.stat ?? view.stat,
  };
}
