/**
 * The cost estimates of an epoch's metrics (update_ns, energy_nj, storage_bytes): the layers'
 * counts so far priced with the run's `cost` constants (src/cost, docs/cost.md). Reads counters
 * only, so it never changes a number of the training.
 */
import type { LayerActivity } from '../../cost/activity.ts';
import { costConstants } from '../../cost/constants.ts';
import { estimateCost } from '../../cost/model.ts';
import type { RunConfig } from '../config/run-config.ts';
import type { EpochMetrics } from './run-result.ts';

export type CostMetrics = Pick<EpochMetrics, 'update_ns' | 'energy_nj' | 'storage_bytes'>;

/** The estimates after `images` training images (samples) of the run. */
export function costMetrics(config: RunConfig, layers: readonly LayerActivity[], images: number): CostMetrics {
  return estimateCost(layers, images, costConstants(config.cost));
}
