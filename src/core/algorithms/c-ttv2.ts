/**
 * Chopped TT-v2 (the c-TTv2 paper, docs/papers.md §4; aihwkit ChoppedTransferCompound;
 * docs/science.md §8.7): TT-v2 whose fast array integrates the gradient with per-input sign
 * choppers; each read column is demodulated by its chopper before it enters the threshold buffer,
 * and after the read the chopper flips with probability chop_prob. A constant reference offset then
 * averages out of the buffer.
 */
import { BUFFER_OPS } from '../../cost/digital-ops.ts';
import type { RunConfig } from '../config/run-config.ts';
import { type Rng, streamFor } from '../rng.ts';
import { ChoppedTransfer } from './chopped-transfer.ts';
import { pulseColumn } from './pulse-writes.ts';
import { fastSlowClocks } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class ChoppedTtv2Matrix extends ChoppedTransfer {
  private readonly chopProb: number;
  private readonly chopRng: Rng;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer);
    this.chopProb = config.chop_prob ?? 0.1;
    this.chopRng = streamFor(config.seed, `${layer.name}/choppers`);
  }

  protected transfer(k: number, lr: number): void {
    this.fast.readColumn(k, this.read);
    const chop = this.chopped.choppers.sign[k];
    if (this.h.accumulateColumn(k, this.read, chop * this.chopped.bufferScale(lr), this.rule, this.counts) > 0) {
      pulseColumn(this.slow, k, this.counts);
    }
    if (this.chopRng.uniform() < this.chopProb) this.chopped.choppers.flip(k);
  }

  protected override bufferOps(): number {
    return BUFFER_OPS.sum;
  }
}

export const choppedTtv2: Algorithm = {
  name: 'c-ttv2',
  create: (config, layer) => new ChoppedTtv2Matrix(config, layer),
  transferClocks: fastSlowClocks('W'),
};
