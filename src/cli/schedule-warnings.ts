/**
 * The schedule diagnostics as the commands print them (expand, run, submit, simulate): one
 * `warning:` line each on stderr before anything runs; `--strict` makes any of them exit 2.
 */
import type { TaskConfig } from '../core/config/task-schema.ts';
import type { ClassificationData } from '../core/tasks/dataset.ts';
import { DataError, loadDataset } from '../data/index.ts';
import type { DataShape } from '../diagnostics/schedule-checks.ts';
import { UsageError } from './errors.ts';

export const STRICT_OPTION = {
  strict: { type: 'boolean', default: false, describe: 'treat transfer-schedule warnings as errors (exit 2)' },
} as const;

/** What the schedule checks read of a loaded dataset. */
export function shapeOf(d: ClassificationData): DataShape {
  return { train: d.train.n, channels: d.channels, height: d.height, width: d.width, classes: d.classes };
}

/** The shape of a classification task's dataset (loaded, and cached for the runs), or why not. */
export function datasetShape(task: TaskConfig): DataShape | { unavailable: string } {
  try {
    return shapeOf(loadDataset(task));
  } catch (e) {
    if (e instanceof DataError) return { unavailable: e.message };
    throw e;
  }
}

/** Prints the warnings; with strict, any warning is an error. */
export function reportScheduleWarnings(lines: readonly string[], strict: boolean): void {
  for (const l of lines) process.stderr.write(`warning: ${l}\n`);
  if (strict && lines.length > 0)
    throw new UsageError(`--strict: ${lines.length} transfer-schedule warning${lines.length === 1 ? '' : 's'} (above)`);
}
