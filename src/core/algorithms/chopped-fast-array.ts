/**
 * The fast array of c-TTv2 and AGAD (docs/science.md §8.7): gradient pulses with the inputs
 * modulated by per-column choppers, an optional auto-scaled fast lr, and the scale that turns a
 * de-chopped read into buffer units (threshold = buffer_granularity * dw_min_A, optionally
 * auto_granularity-scaled).
 */
import type { RunConfig } from '../config/run-config.ts';
import { Choppers } from './choppers.ts';
import { FastLrAutoScale } from './fast-lr-auto-scale.ts';
import type { ReferencedArray } from './referenced-array.ts';
import { bufferedTransferLr, fastLr } from './transfer-schedule.ts';

export class ChoppedFastArray {
  readonly array: ReferencedArray;
  readonly choppers: Choppers;
  private readonly config: RunConfig;
  private readonly autoScale: FastLrAutoScale | null;
  private readonly xc: Float32Array;
  private readonly threshold: number;

  constructor(array: ReferencedArray, config: RunConfig, samplesPerBatch: number) {
    this.array = array;
    this.config = config;
    const cols = array.tile.cols;
    this.choppers = new Choppers(cols);
    this.xc = new Float32Array(cols);
    const gA = array.tile.device.granularity;
    this.autoScale = config.auto_scale
      ? new FastLrAutoScale(config.fast_lr ?? 1, config.update?.desired_bl ?? 31, gA, samplesPerBatch)
      : null;
    const autoG = config.auto_granularity ?? 0;
    const every = Math.abs(config.transfer_every ?? 1);
    this.threshold = (config.buffer_granularity ?? 1) * (autoG > 0 ? (gA * autoG) / (cols * every) : gA);
  }

  /** Pulses sample b of the batch onto the fast array, inputs chopped. */
  pulse(x: Float32Array, d: Float32Array, b: number, lr: number): void {
    const tile = this.array.tile;
    const { rows, cols } = tile;
    const sign = this.choppers.sign;
    for (let j = 0; j < cols; j++) this.xc[j] = x[b * cols + j] * sign[j];
    const lrA = this.autoScale
      ? this.autoScale.observe(x, b * cols, cols, d, b * rows, rows) * (this.config.scale_fast_lr ? lr : 1)
      : fastLr(this.config, lr);
    tile.updateVector(this.xc, 0, d, b * rows, lrA);
  }

  /** Buffer units per unit of read value: |lr_T| / threshold (lr_T times gamma when gamma > 0, as aihwkit). */
  bufferScale(lr: number): number {
    return Math.abs(bufferedTransferLr(this.config, lr)) / this.threshold;
  }

  /** De-chopped effective weight of element k (for the effective matrix). */
  dechopped(k: number): number {
    return this.choppers.sign[k % this.array.tile.cols] * this.array.effective(k);
  }
}
