/**
 * AGAD (the c-TTv2 paper, docs/papers.md §4; aihwkit DynamicTransferCompound; docs/science.md
 * §8.8): c-TTv2 with a dynamic digital reference instead of a trusted reference array. Reads are
 * compared with P_ref, the running mean P of the previous chopper period (snapshotted when the
 * column's chopper flips), so the fast array's own drift toward its symmetric point or a reference
 * offset cancels. Choppers flip regularly, every period = max(ceil(1 / chop_prob), 2) full sweeps;
 * the running mean weights recent reads with beta = min(tail_weightening / period, 1); no writes
 * during the first period (warm-up).
 */
import { BUFFER_OPS } from '../../cost/digital-ops.ts';
import type { RunConfig } from '../config/run-config.ts';
import { ChoppedTransfer } from './chopped-transfer.ts';
import { pulseColumn } from './pulse-writes.ts';
import { fastSlowClocks } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class AgadMatrix extends ChoppedTransfer {
  /** running mean P and reference P_ref of the reads, row-major */
  private readonly mean: Float64Array;
  private readonly meanRef: Float64Array;
  private readonly switched: Uint8Array;
  private readonly period: number;
  private readonly beta: number;
  private sweeps = 0;
  private readonly delta: Float64Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer);
    this.mean = new Float64Array(layer.rows * layer.cols);
    this.meanRef = new Float64Array(layer.rows * layer.cols);
    this.switched = new Uint8Array(layer.cols);
    this.period = Math.max(Math.ceil(1 / (config.chop_prob ?? 0.1)), 2);
    this.beta = Math.min((config.tail_weightening ?? 5) / this.period, 1);
    this.delta = new Float64Array(layer.rows);
  }

  protected transfer(k: number, lr: number): void {
    const cols = this.cols;
    this.fast.readColumn(k, this.read);
    const chop = this.chopped.choppers.sign[k];
    const snapshot = this.switched[k] === 1;
    this.switched[k] = 0;
    for (let i = 0; i < this.rows; i++) {
      const at = i * cols + k;
      if (snapshot) this.meanRef[at] = this.mean[at];
      this.delta[i] = chop * (this.read[i] - this.meanRef[at]);
      this.mean[at] = (1 - this.beta) * this.mean[at] + this.beta * this.read[i];
    }
    const fired = this.h.accumulateColumn(k, this.delta, this.chopped.bufferScale(lr), this.rule, this.counts);
    if (fired > 0 && this.sweeps > this.period) pulseColumn(this.slow, k, this.counts);
    if ((this.sweeps % this.period) + 1 === this.period) {
      this.chopped.choppers.flip(k);
      this.switched[k] = 1;
    }
    if (k === cols - 1) this.sweeps++;
  }

  protected override bufferOps(): number {
    return BUFFER_OPS.dynamic;
  }

  /** The buffer H, the running mean P and the reference P_ref. */
  protected override digitalElements(): number {
    return this.h.h.length + this.mean.length + this.meanRef.length;
  }
}

export const agad: Algorithm = {
  name: 'agad',
  create: (config, layer) => new AgadMatrix(config, layer),
  transferClocks: fastSlowClocks('W'),
};
