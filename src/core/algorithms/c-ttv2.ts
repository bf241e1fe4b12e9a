/**
 * Chopped TT-v2 (papers.md §4.2, aihwkit ChoppedTransferCompound, §4.5): TT-v2 whose fast array
 * integrates the gradient with per-input sign choppers; each read column is demodulated by its
 * chopper before it enters the threshold buffer, and after the read the chopper flips with
 * probability chop_prob. A constant reference offset then averages out of the buffer.
 */
import type { RunConfig } from '../config/run-config.ts';
import { type Rng, streamFor } from '../rng.ts';
import type { AnalogTile } from '../tile.ts';
import { tileFor } from './analog-sgd.ts';
import { ChoppedFastArray } from './chopped-fast-array.ts';
import { CompositeMatrix } from './composite.ts';
import { pulseColumn } from './pulse-writes.ts';
import { ReferencedArray } from './referenced-array.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import { basePeriod, ColumnCycler, PeriodicClock } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class ChoppedTtv2Matrix extends CompositeMatrix {
  private readonly fast: ChoppedFastArray;
  private readonly w: AnalogTile;
  private readonly h: ThresholdBuffer;
  private readonly rule: BufferRule;
  private readonly gamma: number;
  private readonly chopProb: number;
  private readonly clock: PeriodicClock;
  private readonly columns: ColumnCycler;
  private readonly chopRng: Rng;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer);
    this.fast = new ChoppedFastArray(new ReferencedArray(tileFor(config, layer, 'A'), config), config, layer.maxBatch);
    this.w = tileFor(config, layer, 'W');
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.rule = { decay: 1, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.gamma = config.gamma ?? 0;
    this.chopProb = config.chop_prob ?? 0.1;
    this.clock = new PeriodicClock(basePeriod(config, layer.maxBatch));
    this.columns = new ColumnCycler(layer.cols);
    this.chopRng = streamFor(config.seed, `${layer.name}/choppers`);
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    for (let b = 0; b < batch; b++) {
      this.fast.pulse(x, d, b, lr);
      if (this.clock.tick()) this.transfer(lr);
    }
    this.invalidate();
  }

  private transfer(lr: number): void {
    const k = this.columns.next();
    this.fast.array.readColumn(k, this.read);
    const chop = this.fast.choppers.sign[k];
    if (this.h.accumulateColumn(k, this.read, chop * this.fast.bufferScale(lr), this.rule, this.counts) > 0) {
      pulseColumn(this.w, k, this.counts);
    }
    if (this.chopRng.uniform() < this.chopProb) this.fast.choppers.flip(k);
  }

  protected reduce(out: Float32Array): void {
    const ww = this.w.weights;
    for (let k = 0; k < out.length; k++) out[k] = ww[k] + (this.gamma === 0 ? 0 : this.gamma * this.fast.dechopped(k));
  }

  setWeights(values: Float32Array): void {
    this.fast.array.reset();
    this.w.setWeights(values);
    this.h.h.fill(0);
    this.invalidate();
  }

  pulseCounts(): Record<string, number> {
    return { A: this.fast.array.tile.pulses, W: this.w.pulses };
  }
}

export const choppedTtv2: Algorithm = {
  name: 'c-ttv2',
  create: (config, layer) => new ChoppedTtv2Matrix(config, layer),
};
