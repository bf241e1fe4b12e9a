/**
 * Mixed precision (Nandakumar et al. 2020; aihwkit MixedPrecisionCompound; docs/science.md §8.9):
 * the exact gradient accumulates in a digital matrix chi (chi += lr d x^T per sample); every
 * transfer_every mini-batches each entry's whole steps n = trunc(chi / eps) (eps = the device
 * granularity unless mp_granularity is set) are written to the analog W as |n| single pulses
 * (at most desired_bl per transfer) and removed from chi, which keeps the remainder. Forward and
 * backward read W.
 *
 * Deliberate difference to aihwkit: aihwkit writes n with a stochastic pulse train (exact in
 * expectation, saturating at desired_bl); we apply the n pulses themselves, as the method states
 * (docs/papers.md §6.2).
 */
import type { LayerCounters } from '../../cost/activity.ts';
import { outerProductOps } from '../../cost/digital-ops.ts';
import { updateVectorElements } from '../../cost/storage.ts';
import type { RunConfig } from '../config/run-config.ts';
import { KernelMatrix } from '../kernels/kernel-matrix.ts';
import { kernelFor } from '../kernels/loader.ts';
import type { AnalogTile } from '../tile.ts';
import { tileFor } from './analog-sgd.ts';
import { tileCounts } from './cost-counts.ts';
import { pulseWeight } from './pulse-writes.ts';
import { periodInSamples } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec, TrainableMatrix } from './types.ts';

/** Vector updates between two writes of chi: transfer_every mini-batches (aihwkit). */
function mpPeriod(config: RunConfig, vectorsPerBatch: number): number {
  return periodInSamples(config.transfer_every ?? 1, 'batches', vectorsPerBatch);
}

class MixedPrecisionMatrix implements TrainableMatrix {
  readonly rows: number;
  readonly cols: number;
  private readonly w: AnalogTile;
  private readonly chi: Float64Array;
  /** chi's WebAssembly home with the accumulation kernel (null: the TypeScript loop, mpAccumulateReference). */
  private readonly kernel: KernelMatrix | null;
  private readonly eps: number;
  private readonly transferLr: number;
  private readonly maxSteps: number;
  private readonly period: number;
  private samples = 0;
  private transfers = 0;

  constructor(config: RunConfig, layer: LayerSpec) {
    this.rows = layer.rows;
    this.cols = layer.cols;
    this.w = tileFor(config, layer, 'W');
    const module = kernelFor(layer.kernel ?? 'auto', layer.rows * layer.cols);
    this.kernel = module === null ? null : new KernelMatrix(module, layer.rows, layer.cols, { maxBatch: 0, chi: true });
    this.chi = this.kernel?.chi ?? new Float64Array(layer.rows * layer.cols);
    this.eps = config.mp_granularity ?? this.w.device.granularity;
    this.transferLr = config.transfer_lr ?? 1;
    this.maxSteps = config.update?.desired_bl ?? 31;
    this.period = mpPeriod(config, layer.vectorsPerBatch);
  }

  forward(x: Float32Array, y: Float32Array, batch: number): void {
    this.w.forward(x, y, batch);
  }

  backward(d: Float32Array, z: Float32Array, batch: number): void {
    this.w.backward(d, z, batch);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    // the samples up to the next transfer accumulate in one range (the same order as one by one)
    for (let b = 0; b < batch;) {
      const n = Math.min(batch - b, this.period - (this.samples % this.period));
      if (this.kernel !== null) this.kernel.mpAccumulate(x, d, b, b + n, lr);
      else mpAccumulateReference(this.chi, this.rows, this.cols, x, d, b, b + n, lr);
      b += n;
      this.samples += n;
      if (this.samples % this.period === 0) this.transfer();
    }
  }

  /**
   * Writes the whole steps of chi (scaled by transfer_lr) to W as pulses; chi keeps the rest.
   * W is written row by row, the elements of a row in parallel: the row's longest count of
   * pulses is its pulse slots.
   */
  private transfer(): void {
    this.transfers++;
    const { chi, eps, rows, cols } = this;
    const unit = eps / this.transferLr;
    for (let i = 0, k = 0; i < rows; i++) {
      let longest = 0;
      for (let j = 0; j < cols; j++, k++) {
        let n = Math.trunc(chi[k] / unit);
        if (n === 0) continue;
        if (n > this.maxSteps) n = this.maxSteps;
        else if (n < -this.maxSteps) n = -this.maxSteps;
        chi[k] -= n * unit;
        // chi holds the gradient sum: W moves against it
        pulseWeight(this.w, k, -n);
        const a = n < 0 ? -n : n;
        if (a > longest) longest = a;
      }
      this.w.slots += longest;
    }
  }

  readWeights(out: Float32Array): void {
    out.set(this.w.weights);
  }

  setWeights(values: Float32Array): void {
    this.w.setWeights(values);
    this.chi.fill(0);
  }

  pulseCounts(): Record<string, number> {
    return { W: this.w.pulses };
  }

  transferCounts(): Record<string, number> {
    return { W: this.transfers };
  }

  /** chi's accumulation is a dense outer product per sample; chi is stored digitally. */
  costCounts(): LayerCounters {
    const { rows, cols, samples } = this;
    const counts = tileCounts([this.w]);
    counts.flops += samples * outerProductOps(rows, cols);
    return { samples, arraysRead: 1, ...counts, storedElements: updateVectorElements(rows, cols) + this.chi.length };
  }
}

/**
 * chi += lr d[b] x[b]^T (float64, every column; rows with g = lr d[i] = 0 skipped) for samples b in [from, to): the
 * reference of the kernel's mpAccumulate.
 */
export function mpAccumulateReference(
  chi: Float64Array,
  rows: number,
  cols: number,
  x: Float32Array,
  d: Float32Array,
  from: number,
  to: number,
  lr: number,
): void {
  for (let b = from; b < to; b++) {
    for (let i = 0; i < rows; i++) {
      const g = lr * d[b * rows + i];
      if (g === 0) continue;
      const o = i * cols;
      const xo = b * cols;
      for (let j = 0; j < cols; j++) chi[o + j] += g * x[xo + j];
    }
  }
}

export const mixedPrecision: Algorithm = {
  name: 'mp',
  create: (config, layer) => new MixedPrecisionMatrix(config, layer),
  transferClocks: (config, layer) => [
    { array: 'W', period: mpPeriod(config, layer.vectorsPerBatch), columns: layer.cols },
  ],
};
