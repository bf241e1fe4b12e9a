/**
 * The schedule diagnostics of a whole sweep (or one run): every run's findings, one line per
 * distinct finding, labelled with the swept values its runs share (seeds left out), so a case
 * that warns for every seed and state count prints once.
 */
import { canonicalJson } from '../sweep/canonical.ts';
import type { ExpandedRun } from '../sweep/expand.ts';
import { type DataShape, inertLrWarning, runScheduleWarnings } from './schedule-checks.ts';
import type { RunConfig } from '../core/config/run-config.ts';
import type { TaskConfig } from '../core/config/task-schema.ts';

/** The data shape of a classification task, or why it is not available (a missing dataset). */
export type ShapeOf = (task: TaskConfig) => DataShape | { unavailable: string };

/** Keys whose sweep over a run with inert lr is reported by check (b). */
const isLrKey = (k: string): boolean => k === 'lr' || k === 'lr_schedule' || k.startsWith('lr_schedule.');

function dataFor(config: RunConfig, shapeOf: ShapeOf, missing: Set<string>): DataShape | null {
  if (config.task.kind === 'least-squares') return null;
  const shape = shapeOf(config.task);
  if ('unavailable' in shape) {
    missing.add(shape.unavailable);
    return null;
  }
  return shape;
}

/** `algorithm|key` of the lr keys that take more than one value among the runs of one algorithm. */
function sweptLrKeys(runs: readonly ExpandedRun[]): Set<string> {
  const values = new Map<string, Set<string>>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.assignments)) {
      if (!isLrKey(k)) continue;
      const id = `${r.config.algorithm}|${k}`;
      if (!values.has(id)) values.set(id, new Set());
      values.get(id)?.add(canonicalJson(v));
    }
  }
  return new Set([...values].filter(([, vs]) => vs.size > 1).map(([id]) => id));
}

/** `k=v ...` of the assignments every run of the group shares, seed left out. */
function sharedLabel(runs: readonly ExpandedRun[], drop: ReadonlySet<string>): string {
  const [first, ...rest] = runs;
  const parts = Object.entries(first.assignments)
    .filter(
      ([k, v]) =>
        k !== 'seed' &&
        !drop.has(k) &&
        rest.every((r) => Object.hasOwn(r.assignments, k) && canonicalJson(r.assignments[k]) === canonicalJson(v)),
    )
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : canonicalJson(v)}`);
  return parts.length > 0 ? parts.join(' ') : 'every run';
}

/** One line per distinct finding over the runs: `<shared swept values> (<n> runs): <finding>`. */
export function sweepWarnings(runs: readonly ExpandedRun[], shapeOf: ShapeOf): string[] {
  const lrKeys = sweptLrKeys(runs);
  const byMessage = new Map<string, ExpandedRun[]>();
  const missing = new Set<string>();
  for (const run of runs) {
    const messages = runScheduleWarnings(run.config, dataFor(run.config, shapeOf, missing));
    const inert = Object.keys(run.assignments).some((k) => lrKeys.has(`${run.config.algorithm}|${k}`))
      ? inertLrWarning(run.config)
      : undefined;
    if (inert !== undefined) messages.push(inert);
    for (const m of messages) {
      if (!byMessage.has(m)) byMessage.set(m, []);
      byMessage.get(m)?.push(run);
    }
  }
  const swept = new Set([...lrKeys].map((id) => id.slice(id.indexOf('|') + 1)));
  const lines = [...byMessage].map(
    ([m, rs]) => `${sharedLabel(rs, swept)} (${rs.length} run${rs.length === 1 ? '' : 's'}): ${m}`,
  );
  for (const why of missing) lines.push(`transfer schedule not checked: ${why}`);
  return lines;
}
