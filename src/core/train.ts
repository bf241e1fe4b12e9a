/**
 * RunConfig -> RunResult: the only entry point the rest of the system uses.
 * Pure and deterministic: every random draw comes from the run seed's named streams; the
 * optional clock only fills wall times and never influences a number of the result. Datasets
 * are passed in by the caller (src/data loads them; the core does no I/O).
 */
import type { RunConfig } from './config/run-config.ts';
import { trainClassification } from './tasks/classification.ts';
import type { ClassificationData } from './tasks/dataset.ts';
import { trainLeastSquares } from './tasks/least-squares.ts';
import type { RunResult, TrainHooks } from './tasks/run-result.ts';

export type { EpochMetrics, RunResult, TrainHooks } from './tasks/run-result.ts';
export type { ClassificationData, ImageSet } from './tasks/dataset.ts';
export { DivergedError } from './tasks/diverged.ts';

/** Whether the run's task needs a dataset passed to `train` (every task but least-squares). */
export function needsDataset(config: RunConfig): boolean {
  return config.task.kind !== 'least-squares';
}

/**
 * Runs one configuration. `data` is required for the classification tasks (mnist,
 * fashion-mnist, idx): load it with `loadDataset(config.task)` from src/data.
 */
export function train(config: RunConfig, hooks: TrainHooks = {}, data?: ClassificationData): RunResult {
  switch (config.task.kind) {
    case 'least-squares':
      return trainLeastSquares(config, hooks);
    case 'mnist':
    case 'fashion-mnist':
    case 'idx':
      if (data === undefined)
        throw new Error(
          `task ${config.task.kind} needs its dataset: load it with loadDataset(config.task) (src/data) and ` +
            `pass it to train()`,
        );
      return trainClassification(config, hooks, data);
  }
}
