/**
 * The piscina task: one leased run in, its RunResult out. Thin on purpose: the config is
 * checked against its hash, the dataset is loaded once per thread (src/data caches it), and
 * each epoch's metrics are posted on the progress port as they are computed.
 */
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { needsDataset, type RunResult, train } from '../src/core/train.ts';
import { loadDataset } from '../src/data/index.ts';
import { parseLeasedConfig } from '../src/worker/leased-config.ts';

export interface SimulateTask {
  hash: string;
  configJson: string;
  /** receives one EpochMetrics per epoch, then null (transferred with the task) */
  progress?: MessagePort;
}

export default function simulate(task: SimulateTask): RunResult {
  try {
    const config = parseLeasedConfig(task.hash, task.configJson);
    const data = needsDataset(config) ? loadDataset(config.task) : undefined;
    return train(config, { now: () => performance.now(), onEpoch: (m) => task.progress?.postMessage(m) }, data);
  } finally {
    task.progress?.postMessage(null);
    task.progress?.close();
  }
}
