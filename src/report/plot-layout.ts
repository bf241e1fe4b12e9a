/**
 * What a plot draws: its metric, x (epochs or a numeric config key), the keys whose values make
 * its lines (groups) and panels (facet), the epoch statistic of a key on x and the summary over
 * seeds; each option checked (ReportError), the rest chosen as the table's defaults are (the
 * sweep's view where it gives one, else defaultLayout).
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import type { Metric } from '../core/tasks/run-result.ts';
import type { EpochChoice, Stat, SweepView } from '../sweep/view.ts';
import { ReportError } from './errors.ts';
import { firstOverlap, keysOverlap, tupleId } from './key-values.ts';
import { defaultLayout, distinctCount, type LayoutRun, sweptKeys } from './layout.ts';
import { checkEpochOfMetric, checkKeys, checkMetric, checkStat, resolveTableOptions } from './options.ts';

export interface PlotOptions {
  /** default: as `table` (test_accuracy when the runs have it, else weight_error) */
  metric?: Metric;
  /** 'epoch' (learning curves; the default) or a numeric dotted run config key */
  x?: string;
  /** keys whose values make the lines (default: the rows of the default table layout) */
  group?: string[];
  /** one panel per value of this key; null: one panel; undefined: chosen (see plotLayout) */
  facet?: string | null;
  /** with a key on x: each run's final epoch (default), its best (max accuracy, min loss/error), or its tail mean */
  epoch?: EpochChoice;
  /** mean ± 1 std (default) or median with the range over seeds */
  stat?: Stat;
  /** the sweep's default view (its defaults for the options above); null or absent: none */
  view?: SweepView | null;
}

export interface PlotLayout {
  metric: Metric;
  x: string;
  group: string[];
  facet: string | null;
  epoch: EpochChoice;
  stat: Stat;
}

/**
 * The layout of a plot: the options given, the rest chosen; throws ReportError for bad options.
 * Groups default to the rows of the table's layout; panels (facet) for learning curves to its
 * first column key not on x or in the groups that varies, so that a line never averages over,
 * say, 4 and 16 states.
 */
export function plotLayout(runs: readonly LayoutRun[], options: PlotOptions = {}): PlotLayout {
  checkMetric(options.metric);
  checkStat(options.stat);
  const x = options.x ?? 'epoch';
  if (x !== 'epoch') checkKeys('x', [x]);
  checkKeys('group', options.group ?? []);
  if (options.facet) checkKeys('facet', [options.facet]);
  if (x === 'epoch' && options.epoch !== undefined && options.epoch !== 'final') {
    const applies = '--epoch applies to --x <config key>';
    throw new ReportError(`--epoch ${options.epoch}: learning curves (--x epoch) show every epoch; ${applies}`);
  }
  checkEpochOfMetric(options.metric, options.epoch);
  const named = [
    ...(x === 'epoch' ? [] : [['x', x]]),
    ...(options.group ?? []).map((k) => ['group', k]),
    ...(options.facet ? [['facet', options.facet]] : []),
  ];
  const overlap = firstOverlap(named.map(([, k]) => k));
  if (overlap) {
    const [[o1, k1], [o2, k2]] = overlap.map((i) => named[i]);
    throw new ReportError(`--${o1} ${k1} and --${o2} ${k2} overlap; name each key once`);
  }
  // the view's defaults, as the table takes them (its epoch only for a key on x: curves show every epoch)
  const { metric, epoch: epochGiven, stat } = options;
  const viewed = resolveTableOptions(options.view ?? null, { metric, epoch: epochGiven, stat });
  const layout = defaultLayout(runs, { rows: viewed.rows, cols: viewed.cols, metric: viewed.metric });
  const free = (k: string, taken: readonly string[]) => !taken.some((t) => keysOverlap(t, k));
  const onX = x === 'epoch' ? [] : [x];
  const onFacet = options.facet ? [options.facet] : [];
  const group = options.group ?? layout.rows.filter((k) => free(k, [...onX, ...onFacet]));
  const varies = (k: string) => distinctCount(runs, k) > 1;
  const chosenFacet = () => layout.cols.find((k) => free(k, [...onX, ...group]) && varies(k)) ?? null;
  const facet = options.facet !== undefined ? options.facet : chosenFacet();
  const epoch = x === 'epoch' ? 'final' : (viewed.epoch ?? 'final');
  checkEpochOfMetric(layout.metric, epoch);
  return { metric: layout.metric, x, group, facet, epoch, stat: viewed.stat ?? 'mean' };
}

/**
 * The numeric swept keys of a sweep (not seed) worth a plot against: those with at least two
 * values within one group of runs (`groupKeys`: the lines; a key fixed per group, like a learning
 * rate set per algorithm case, would only put each line at one point).
 */
export function numericSweptKeys(
  runs: readonly Pick<LayoutRun, 'config' | 'assignments'>[],
  groupKeys: readonly string[] = [],
): string[] {
  return sweptKeys(runs).filter((k) => {
    if (k === 'seed') return false;
    const by = groupKeys.filter((g) => !keysOverlap(g, k));
    const groups = new Map<string, Set<number>>();
    for (const r of runs) {
      const v = resolvedValueAt(r.config, k);
      if (v.present && typeof v.value !== 'number') return false;
      if (!v.present) continue;
      const id = tupleId(by.map((g) => resolvedValueAt(r.config, g)));
      const set = groups.get(id) ?? new Set<number>();
      set.add(v.value as number);
      groups.set(id, set);
    }
    return [...groups.values()].some((set) => set.size >= 2);
  });
}
