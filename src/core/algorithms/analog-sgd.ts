/**
 * Analog SGD: the gradient is applied to one analog tile by stochastic pulses, so every step
 * goes through the device response (docs/science.md §8.4: W <- W - a g F(W) - a |g| G(W) in
 * expectation). Forward and backward read the same tile through the IO model.
 */
import type { LayerCounters } from '../../cost/activity.ts';
import { updateVectorElements } from '../../cost/storage.ts';
import type { RunConfig } from '../config/run-config.ts';
import { AnalogTile } from '../tile.ts';
import { tileCounts } from './cost-counts.ts';
import type { Algorithm, LayerSpec, TrainableMatrix } from './types.ts';

/** Builds an analog tile for one layer from the run's device, IO and update sections. */
export function tileFor(config: RunConfig, layer: LayerSpec, role: string): AnalogTile {
  if (config.device === undefined || config.io === undefined || config.update === undefined) {
    throw new Error(`algorithm ${config.algorithm} needs device, io and update sections`);
  }
  return new AnalogTile({
    rows: layer.rows,
    cols: layer.cols,
    device: config.device,
    io: config.io,
    transferIo: config.transfer_io,
    update: config.update,
    maxBatch: layer.maxBatch,
    seed: config.seed,
    name: `${layer.name}/${role}`,
    kernel: layer.kernel,
  });
}

class AnalogSgdMatrix implements TrainableMatrix {
  readonly rows: number;
  readonly cols: number;
  private readonly tile: AnalogTile;
  private samples = 0;

  constructor(config: RunConfig, layer: LayerSpec) {
    this.rows = layer.rows;
    this.cols = layer.cols;
    this.tile = tileFor(config, layer, 'W');
  }

  forward(x: Float32Array, y: Float32Array, batch: number): void {
    this.tile.forward(x, y, batch);
  }

  backward(d: Float32Array, z: Float32Array, batch: number): void {
    this.tile.backward(d, z, batch);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    this.samples += batch;
    this.tile.updateBatch(x, d, batch, lr);
  }

  readWeights(out: Float32Array): void {
    out.set(this.tile.weights);
  }

  setWeights(values: Float32Array): void {
    this.tile.setWeights(values);
  }

  pulseCounts(): Record<string, number> {
    return { W: this.tile.pulses };
  }

  transferCounts(): Record<string, number> {
    return {};
  }

  costCounts(): LayerCounters {
    return {
      samples: this.samples,
      arraysRead: 1,
      ...tileCounts([this.tile]),
      storedElements: updateVectorElements(this.rows, this.cols),
    };
  }
}

export const analogSgd: Algorithm = {
  name: 'analog-sgd',
  create: (config, layer) => new AnalogSgdMatrix(config, layer),
  transferClocks: () => [],
};
