/**
 * Residual learning v2 (response-function paper §5, papers.md §3.2 eqs. 14-15): the gradient is
 * taken at W + gamma P and pulsed onto the residual array P; reads of P (with IO noise) feed a
 * leaky digital buffer H <- (1 - beta) H + beta P[:, k]; entries of transfer_lr * H that reach
 * the threshold (buffer_granularity * dw_min of W) are written to W as single pulses.
 * Differences to TT-v2: the leak, and the gradient at the mixed weight.
 */
import type { RunConfig } from '../config/run-config.ts';
import type { AnalogTile } from '../tile.ts';
import { tileFor } from './analog-sgd.ts';
import { CompositeMatrix } from './composite.ts';
import { pulseColumn } from './pulse-writes.ts';
import { ReferencedArray } from './referenced-array.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import { basePeriod, ColumnCycler, fastLr, PeriodicClock, transferLr } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class ResidualV2Matrix extends CompositeMatrix {
  private readonly config: RunConfig;
  private readonly p: ReferencedArray;
  private readonly w: AnalogTile;
  private readonly h: ThresholdBuffer;
  private readonly rule: BufferRule;
  private readonly beta: number;
  private readonly gamma: number;
  private readonly clock: PeriodicClock;
  private readonly columns: ColumnCycler;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer);
    this.config = config;
    this.p = new ReferencedArray(tileFor(config, layer, 'P'), config);
    this.w = tileFor(config, layer, 'W');
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.beta = config.buffer_leak ?? 0.1;
    this.rule = { decay: 1 - this.beta, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.gamma = config.gamma ?? 0;
    this.clock = new PeriodicClock(basePeriod(config, layer.maxBatch));
    this.columns = new ColumnCycler(layer.cols);
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    const lrP = fastLr(this.config, lr);
    for (let b = 0; b < batch; b++) {
      this.p.tile.updateVector(x, b * this.cols, d, b * this.rows, lrP);
      if (this.clock.tick()) this.transfer(lr);
    }
    this.invalidate();
  }

  private transfer(lr: number): void {
    const k = this.columns.next();
    this.p.readColumn(k, this.read);
    const threshold = (this.config.buffer_granularity ?? 1) * this.w.device.granularity;
    const scale = (this.beta * Math.abs(transferLr(this.config, lr))) / threshold;
    if (this.h.accumulateColumn(k, this.read, scale, this.rule, this.counts) > 0) pulseColumn(this.w, k, this.counts);
  }

  protected reduce(out: Float32Array): void {
    const ww = this.w.weights;
    for (let k = 0; k < out.length; k++) out[k] = ww[k] + this.gamma * this.p.effective(k);
  }

  setWeights(values: Float32Array): void {
    this.p.reset();
    this.w.setWeights(values);
    this.h.h.fill(0);
    this.invalidate();
  }

  pulseCounts(): Record<string, number> {
    return { P: this.p.tile.pulses, W: this.w.pulses };
  }
}

export const rlv2: Algorithm = {
  name: 'rlv2',
  create: (config, layer) => new ResidualV2Matrix(config, layer),
};
