/**
 * Tiki-Taka v1 (papers.md §4.2, aihwkit TransferCompound, §4.3): the gradient is pulsed onto a
 * fast array A (read against its reference); every transfer period one column of A is read and
 * pulsed onto the slow array C with lr transfer_lr. Effective weight W = gamma (A - R) + C:
 * gamma = 0 is classic Tiki-Taka, gamma > 0 the residual learning of the response-function paper
 * (gradient taken at W + gamma P, papers.md §3.2).
 */
import type { RunConfig } from '../config/run-config.ts';
import type { AnalogTile } from '../tile.ts';
import { tileFor } from './analog-sgd.ts';
import { CompositeMatrix } from './composite.ts';
import { ReferencedArray } from './referenced-array.ts';
import { basePeriod, ColumnCycler, fastLr, PeriodicClock, transferLr } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class TikiTakaMatrix extends CompositeMatrix {
  private readonly config: RunConfig;
  private readonly a: ReferencedArray;
  private readonly c: AnalogTile;
  private readonly gamma: number;
  private readonly clock: PeriodicClock;
  private readonly columns: ColumnCycler;
  private readonly read: Float32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer);
    this.config = config;
    this.a = new ReferencedArray(tileFor(config, layer, 'A'), config);
    this.c = tileFor(config, layer, 'C');
    this.gamma = config.gamma ?? 0;
    this.clock = new PeriodicClock(basePeriod(config, layer.maxBatch));
    this.columns = new ColumnCycler(layer.cols);
    this.read = new Float32Array(layer.rows);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    const lrA = fastLr(this.config, lr);
    for (let b = 0; b < batch; b++) {
      this.a.tile.updateVector(x, b * this.cols, d, b * this.rows, lrA);
      if (this.clock.tick()) this.transfer(lr);
    }
    this.invalidate();
  }

  /** C[:, k] += transfer_lr * (A - R)[:, k] by a pulsed update with a one-hot x. */
  private transfer(lr: number): void {
    const k = this.columns.next();
    this.a.readColumn(k, this.read);
    this.c.updateColumn(k, this.read, -transferLr(this.config, lr));
  }

  protected reduce(out: Float32Array): void {
    const cw = this.c.weights;
    for (let k = 0; k < out.length; k++) out[k] = cw[k] + (this.gamma === 0 ? 0 : this.gamma * this.a.effective(k));
  }

  setWeights(values: Float32Array): void {
    this.a.reset();
    this.c.setWeights(values);
    this.invalidate();
  }

  pulseCounts(): Record<string, number> {
    return { A: this.a.tile.pulses, C: this.c.pulses };
  }
}

export const tikiTaka: Algorithm = {
  name: 'tiki-taka',
  create: (config, layer) => new TikiTakaMatrix(config, layer),
};
