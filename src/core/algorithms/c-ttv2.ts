/**
 * Chopped TT-v2 (papers.md §4.2, aihwkit ChoppedTransferCompound, §4.5): TT-v2 whose fast array
 * integrates the gradient with per-input sign choppers; each read column is demodulated by its
 * chopper before it enters the threshold buffer, and after the read the chopper flips with
 * probability chop_prob. A constant reference offset then averages out of the buffer.
 */
import type { RunConfig } from '../config/run-config.ts';
import { type Rng, streamFor } from '../rng.ts';
import { ChoppedFastArray } from './chopped-fast-array.ts';
import { FastSlowTransfer } from './fast-slow-transfer.ts';
import { pulseColumn } from './pulse-writes.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class ChoppedTtv2Matrix extends FastSlowTransfer {
  private readonly chopped: ChoppedFastArray;
  private readonly h: ThresholdBuffer;
  private readonly rule: BufferRule;
  private readonly chopProb: number;
  private readonly chopRng: Rng;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer, 'A', 'W');
    this.chopped = new ChoppedFastArray(this.fast, config, layer.maxBatch);
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.rule = { decay: 1, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.chopProb = config.chop_prob ?? 0.1;
    this.chopRng = streamFor(config.seed, `${layer.name}/choppers`);
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  protected override pulse(x: Float32Array, d: Float32Array, b: number, lr: number): void {
    this.chopped.pulse(x, d, b, lr);
  }

  protected override fastEffective(k: number): number {
    return this.chopped.dechopped(k);
  }

  protected transfer(k: number, lr: number): void {
    this.fast.readColumn(k, this.read);
    const chop = this.chopped.choppers.sign[k];
    if (this.h.accumulateColumn(k, this.read, chop * this.chopped.bufferScale(lr), this.rule, this.counts) > 0) {
      pulseColumn(this.slow, k, this.counts);
    }
    if (this.chopRng.uniform() < this.chopProb) this.chopped.choppers.flip(k);
  }

  protected override clearDigitalState(): void {
    this.h.h.fill(0);
  }
}

export const choppedTtv2: Algorithm = {
  name: 'c-ttv2',
  create: (config, layer) => new ChoppedTtv2Matrix(config, layer),
};
