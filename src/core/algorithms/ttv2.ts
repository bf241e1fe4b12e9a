/**
 * TT-v2 (papers.md §4.2, aihwkit BufferedTransferCompound, §4.4): as Tiki-Taka, but a read
 * column of the fast array A accumulates in a digital buffer H (in units of the slow array's
 * dw_min times buffer_granularity) and only entries that reach the threshold are written to the
 * slow array W, as single pulses. Effective weight W + gamma (A - R).
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

class Ttv2Matrix extends CompositeMatrix {
  private readonly config: RunConfig;
  private readonly a: ReferencedArray;
  private readonly w: AnalogTile;
  private readonly h: ThresholdBuffer;
  private readonly rule: BufferRule;
  private readonly gamma: number;
  private readonly clock: PeriodicClock;
  private readonly columns: ColumnCycler;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer);
    this.config = config;
    this.a = new ReferencedArray(tileFor(config, layer, 'A'), config);
    this.w = tileFor(config, layer, 'W');
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.rule = { decay: 1, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.gamma = config.gamma ?? 0;
    this.clock = new PeriodicClock(basePeriod(config, layer.maxBatch));
    this.columns = new ColumnCycler(layer.cols);
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    const lrA = fastLr(this.config, lr);
    for (let b = 0; b < batch; b++) {
      this.a.tile.updateVector(x, b * this.cols, d, b * this.rows, lrA);
      if (this.clock.tick()) this.transfer(lr);
    }
    this.invalidate();
  }

  /** H[:, k] += |lr_T| (A - R)[:, k] / threshold; due entries become single pulses on W. */
  private transfer(lr: number): void {
    const k = this.columns.next();
    this.a.readColumn(k, this.read);
    const threshold = (this.config.buffer_granularity ?? 1) * this.w.device.granularity;
    if (this.h.accumulateColumn(k, this.read, Math.abs(transferLr(this.config, lr)) / threshold, this.rule, this.counts) > 0) {
      pulseColumn(this.w, k, this.counts);
    }
  }

  protected reduce(out: Float32Array): void {
    const ww = this.w.weights;
    for (let k = 0; k < out.length; k++) out[k] = ww[k] + (this.gamma === 0 ? 0 : this.gamma * this.a.effective(k));
  }

  setWeights(values: Float32Array): void {
    this.a.reset();
    this.w.setWeights(values);
    this.h.h.fill(0);
    this.invalidate();
  }

  pulseCounts(): Record<string, number> {
    return { A: this.a.tile.pulses, W: this.w.pulses };
  }
}

export const ttv2: Algorithm = {
  name: 'ttv2',
  create: (config, layer) => new Ttv2Matrix(config, layer),
};
