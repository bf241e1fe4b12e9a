/**
 * The layout of a table nobody (or only partly) specified: its row keys, column keys and metric,
 * chosen from the runs of the sweep. Plots take their lines and panels from it too.
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import type { Metric } from '../core/tasks/run-result.ts';
import type { ResultRow } from '../store/results-read.ts';
import { keysOverlap, tupleId, valueId, valueText } from './key-values.ts';

/** What the layout looks at: a run's canonical config, the swept values that made it, its result. */
export interface LayoutRun {
  config: Record<string, unknown>;
  assignments: Record<string, unknown>;
  result?: Pick<ResultRow, 'test_accuracy' | 'weight_error'> | null;
}

export interface Layout {
  rows: string[];
  cols: string[];
  metric: Metric;
}

/** test_accuracy when the runs have it (or are classification runs), else weight_error. */
export function defaultMetric(runs: readonly LayoutRun[]): Metric {
  if (runs.some((r) => typeof r.result?.test_accuracy === 'number')) return 'test_accuracy';
  if (runs.some((r) => typeof r.result?.weight_error === 'number')) return 'weight_error';
  const kinds = new Set(runs.map((r) => valueText(resolvedValueAt(r.config, 'task.kind'))));
  if ([...kinds].some((k) => k !== 'least-squares' && k !== '-')) return 'test_accuracy';
  return 'weight_error';
}

/** The swept keys of the runs, in the order they first appear. */
export function sweptKeys(runs: readonly Pick<LayoutRun, 'assignments'>[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.assignments)) keys.add(k);
  return [...keys];
}

/** How many distinct values `key` takes over the runs (absent counting as one). */
export function distinctCount(runs: readonly Pick<LayoutRun, 'config'>[], key: string): number {
  return new Set(runs.map((r) => valueId(resolvedValueAt(r.config, key)))).size;
}

/**
 * The layout of a table nobody specified: rows = `algorithm` when it varies, else the first
 * varying swept key (never `seed`); columns = the other swept keys that vary within at least
 * two row values (so a key swept inside one case only, like `n_tiles` of the residual case,
 * or one fixed per case, stays out; when that leaves none, the keys varying within any row);
 * metric as `defaultMetric`. Whatever `given` holds is kept, the rest chosen around it.
 */
export function defaultLayout(runs: readonly LayoutRun[], given: Partial<Layout> = {}): Layout {
  const swept = sweptKeys(runs).filter((k) => k !== 'seed');
  const varies = (k: string): boolean => distinctCount(runs, k) > 1;
  const rows =
    given.rows ??
    (() => {
      const free = (k: string): boolean => !(given.cols ?? []).some((c) => keysOverlap(c, k));
      if (free('algorithm') && varies('algorithm')) return ['algorithm'];
      const first = swept.find((k) => free(k) && varies(k));
      return first === undefined ? [] : [first];
    })();
  const cols =
    given.cols ??
    (() => {
      const groups = new Map<string, LayoutRun[]>();
      for (const r of runs) {
        const id = tupleId(rows.map((k) => resolvedValueAt(r.config, k)));
        const g = groups.get(id);
        if (g) g.push(r);
        else groups.set(id, [r]);
      }
      const candidates = swept.filter((k) => !rows.some((rk) => keysOverlap(rk, k)) && varies(k));
      const withinRows = (k: string): number => [...groups.values()].filter((g) => distinctCount(g, k) > 1).length;
      const chosen = candidates.filter((k) => withinRows(k) >= 2);
      return chosen.length > 0 ? chosen : candidates.filter((k) => withinRows(k) >= 1);
    })();
  return { rows, cols, metric: given.metric ?? defaultMetric(runs) };
}
