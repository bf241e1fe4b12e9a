/**
 * How a sweep is read by default: its `view:` section (grammar: docs/sweeps.md), the layout,
 * metric, epoch statistic and summary over seeds that `table`, `plot`, `report` and `run`'s
 * closing table use when the user names none. This module parses the section (from YAML or from
 * the definition stored in the database) and checks it against the runs a sweep expands to; like
 * reference.ts it knows nothing of files or lines: callers say how a problem at a path becomes
 * an error.
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import { RUN_SCHEMA } from '../core/config/run-config.ts';
import { fieldAt } from '../core/config/schema.ts';
import { METRICS, type Metric } from '../core/tasks/run-result.ts';
import type { Fail } from './reference.ts';

/** final: the last epoch; best: the best epoch; tail: the mean over the last 20 % of epochs */
export type EpochChoice = 'final' | 'best' | 'tail';
export const EPOCH_CHOICES: readonly EpochChoice[] = ['final', 'best', 'tail'];

/** The summary over seeds a table cell shows: mean ± std [95 % t-interval], or median [min, max]. */
export type Stat = 'mean' | 'median';
export const STATS: readonly Stat[] = ['mean', 'median'];

export interface SweepView {
  /** dotted run config fields; rows and cols are given together or not at all by a reader's options */
  rows?: string[];
  cols?: string[];
  metric?: Metric;
  epoch?: EpochChoice;
  stat?: Stat;
}

const VIEW_KEYS = ['rows', 'cols', 'metric', 'epoch', 'stat'] as const;

/** Metrics only least-squares runs record, and only classification runs (docs/results.md, Metrics). */
const LEAST_SQUARES_ONLY: readonly Metric[] = ['weight_error', 'step_loss', 'step_weight_error'];
const CLASSIFICATION_ONLY: readonly Metric[] = ['train_accuracy', 'test_loss', 'test_accuracy'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** Whether `a` is `b`, lies inside it, or contains it (the same test the table applies to --rows/--cols). */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function parseKeys(raw: unknown, path: string, fail: Fail): string[] {
  // `rows: algorithm` or `rows: algorithm, n_tiles` as on the command line, or a list
  const list = typeof raw === 'string' ? raw.split(',').map((k) => k.trim()) : raw;
  if (!Array.isArray(list))
    fail(
      path,
      `expected a list of dotted run config fields (or one, or several separated by commas), got ${show(raw)}`,
    );
  return list.map((k, i) => {
    const at = Array.isArray(raw) ? `${path}[${i}]` : path;
    if (typeof k !== 'string' || k === '') fail(at, `expected a dotted run config field, got ${show(k)}`);
    const f = fieldAt(RUN_SCHEMA, k);
    if (f === undefined) fail(at, `${k}: unknown run config field`);
    if (f.kind === 'group') fail(at, `${k} is a group of fields; name one of its fields (${k}.<field>)`);
    return k;
  });
}

/** The `view:` section (absent or null: none); `fail` throws at the first problem. */
export function parseView(raw: unknown, fail: Fail): SweepView | null {
  if (raw === undefined || raw === null) return null;
  if (!isPlainObject(raw) || Object.keys(raw).length === 0)
    fail('view', `expected a mapping with any of ${VIEW_KEYS.join(', ')}`);
  for (const k of Object.keys(raw)) {
    if (!(VIEW_KEYS as readonly string[]).includes(k))
      fail(`view.${k}`, `unknown view field (allowed: ${VIEW_KEYS.join(', ')})`);
  }
  const view: SweepView = {};
  if (raw.rows !== undefined) view.rows = parseKeys(raw.rows, 'view.rows', fail);
  if (raw.cols !== undefined) view.cols = parseKeys(raw.cols, 'view.cols', fail);
  const keys = [...(view.rows ?? []).map((k) => ['rows', k]), ...(view.cols ?? []).map((k) => ['cols', k])];
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      if (overlaps(keys[i][1], keys[j][1]))
        fail(`view.${keys[j][0]}`, `${keys[i][1]} (view.${keys[i][0]}) and ${keys[j][1]} overlap; name each key once`);
    }
  }
  if (raw.metric !== undefined) {
    if (typeof raw.metric !== 'string' || !(METRICS as readonly string[]).includes(raw.metric))
      fail('view.metric', `expected one of ${METRICS.join(', ')}, got ${show(raw.metric)}`);
    view.metric = raw.metric as Metric;
  }
  if (raw.epoch !== undefined) {
    if (typeof raw.epoch !== 'string' || !(EPOCH_CHOICES as readonly string[]).includes(raw.epoch)) {
      fail(
        'view.epoch',
        `expected one of ${EPOCH_CHOICES.join(', ')} (the last epoch, the best, the mean of the last 20 %), ` +
          `got ${show(raw.epoch)}`,
      );
    }
    view.epoch = raw.epoch as EpochChoice;
  }
  if (raw.stat !== undefined) {
    if (typeof raw.stat !== 'string' || !(STATS as readonly string[]).includes(raw.stat))
      fail('view.stat', `expected one of ${STATS.join(', ')}, got ${show(raw.stat)}`);
    view.stat = raw.stat as Stat;
  }
  if (view.metric === 'wall_ms' && view.epoch !== undefined && view.epoch !== 'final')
    fail('view.epoch', `${view.epoch}: wall_ms is per run, not per epoch (use final)`);
  return view;
}

/** The section as the stored definition holds it (the fields given, in the grammar's order). */
export function viewForStorage(view: SweepView): Record<string, unknown> {
  return Object.fromEntries(VIEW_KEYS.flatMap((k) => (view[k] === undefined ? [] : [[k, view[k]]])));
}

/**
 * The view of a definition as stored in the database (`sweeps.spec_json`); a definition recorded
 * without one (every definition recorded before the section existed), or one that is not a JSON
 * object, has none.
 */
export function viewOfStoredDefinition(specJson: string, fail: Fail): SweepView | null {
  let def: unknown;
  try {
    def = JSON.parse(specJson);
  } catch {
    return null;
  }
  if (!isPlainObject(def) || !Object.hasOwn(def, 'view')) return null;
  return parseView(def.view, fail);
}

/**
 * The first problem of a view against the runs a sweep expands to (resolved configs), as
 * [path, message], or null: a row or column key no run has (a table of one `-` row), a metric no
 * run's task records (a classification metric of a least-squares sweep, or the reverse).
 */
export function viewProblem(view: SweepView, configs: readonly unknown[]): [string, string] | null {
  for (const section of ['rows', 'cols'] as const) {
    for (const [i, k] of (view[section] ?? []).entries()) {
      if (!configs.some((c) => resolvedValueAt(c, k).present))
        return [`view.${section}[${i}]`, `${k}: no run of the sweep has this key`];
    }
  }
  const m = view.metric;
  if (m !== undefined) {
    const kinds = new Set(configs.map((c) => String(resolvedValueAt(c, 'task.kind').value ?? 'least-squares')));
    const leastSquares = kinds.has('least-squares');
    const classification = [...kinds].some((k) => k !== 'least-squares');
    if (LEAST_SQUARES_ONLY.includes(m) && !leastSquares)
      return [
        'view.metric',
        `${m}: only least-squares runs record it, and the sweep has none (its tasks: ${[...kinds].join(', ')})`,
      ];
    if (CLASSIFICATION_ONLY.includes(m) && !classification)
      return ['view.metric', `${m}: only classification runs record it, and the sweep's runs are all least squares`];
  }
  return null;
}
