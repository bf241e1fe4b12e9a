/**
 * The frame shared by the two-array transfer algorithms (Tiki-Taka, TT-v2, c-TTv2, AGAD, RL-v2):
 * every sample's gradient is pulsed onto a fast array read against its reference; every transfer
 * period one column (cycling) moves toward the slow array in the algorithm's own way; the
 * effective weight is slow + gamma * fast. Subclasses supply only the transfer (and, for the
 * chopped variants, how a sample is pulsed and how the fast array is read back).
 */
import type { LayerCounters } from '../../cost/activity.ts';
import { updateVectorElements } from '../../cost/storage.ts';
import type { RunConfig } from '../config/run-config.ts';
import type { AnalogTile } from '../tile.ts';
import { tileFor } from './analog-sgd.ts';
import { CompositeMatrix } from './composite.ts';
import { tileCounts } from './cost-counts.ts';
import { ReferencedArray } from './referenced-array.ts';
import { basePeriod, ColumnCycler, fastLr, PeriodicClock } from './transfer-schedule.ts';
import type { LayerSpec } from './types.ts';

export abstract class FastSlowTransfer extends CompositeMatrix {
  protected readonly config: RunConfig;
  protected readonly fast: ReferencedArray;
  protected readonly slow: AnalogTile;
  protected readonly gamma: number;
  private readonly clock: PeriodicClock;
  private readonly columns: ColumnCycler;
  private readonly fastName: string;
  private readonly slowName: string;
  private transfers = 0;
  private samples = 0;

  constructor(config: RunConfig, layer: LayerSpec, fastName: string, slowName: string) {
    super(config, layer);
    this.config = config;
    this.fastName = fastName;
    this.slowName = slowName;
    this.fast = new ReferencedArray(tileFor(config, layer, fastName), config);
    this.slow = tileFor(config, layer, slowName);
    this.gamma = config.gamma ?? 0;
    this.clock = new PeriodicClock(basePeriod(config, layer.vectorsPerBatch));
    this.columns = new ColumnCycler(layer.cols);
  }

  /** Moves column k of the fast array toward the slow array. */
  protected abstract transfer(k: number, lr: number): void;

  /**
   * Digital operations per element of a read column that enters the algorithm's buffer
   * (src/cost/digital-ops.ts BUFFER_OPS); 0 where reads go straight to a pulsed write.
   */
  protected bufferOps(): number {
    return 0;
  }

  /** Digital elements the algorithm keeps besides the update's vectors (its buffers); none by default. */
  protected digitalElements(): number {
    return 0;
  }

  /** Clears digital state that belongs to the weights (buffers); nothing by default. */
  protected clearDigitalState(): void {}

  /** Pulses sample b of the batch onto the fast array. */
  protected pulse(x: Float32Array, d: Float32Array, b: number, lr: number): void {
    this.fast.tile.updateVector(x, b * this.cols, d, b * this.rows, fastLr(this.config, lr));
  }

  /**
   * Pulses samples [from, to) of the batch onto the fast array, one after another: `pulse` each,
   * or (where a subclass keeps the plain pulse) the tile's range update, with the same bits.
   */
  protected pulseRange(x: Float32Array, d: Float32Array, from: number, to: number, lr: number): void {
    if (this.pulse !== FastSlowTransfer.prototype.pulse) {
      for (let b = from; b < to; b++) this.pulse(x, d, b, lr);
      return;
    }
    this.fast.tile.updateRange(x, d, from, to, fastLr(this.config, lr));
  }

  /** The fast array's contribution to element k of the effective weight, before gamma. */
  protected fastEffective(k: number): number {
    return this.fast.effective(k);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    this.samples += batch;
    // the samples up to the next transfer in one range, then the transfer (the same order as
    // pulse and tick sample by sample)
    for (let b = 0; b < batch;) {
      const n = Math.min(batch - b, this.clock.untilDue());
      this.pulseRange(x, d, b, b + n, lr);
      b += n;
      if (this.clock.advance(n)) {
        this.transfer(this.columns.next(), lr);
        this.transfers++;
      }
    }
    this.invalidate();
  }

  protected reduce(out: Float32Array): void {
    const sw = this.slow.weights;
    const gamma = this.gamma;
    if (gamma === 0) {
      for (let k = 0; k < out.length; k++) out[k] = sw[k] + 0;
    } else if (this.fastEffective === FastSlowTransfer.prototype.fastEffective) {
      // fast.effective(k) inlined: the same float64 operations, without a call per element
      const fw = this.fast.tile.weights;
      const ref = this.fast.ref;
      for (let k = 0; k < out.length; k++) out[k] = sw[k] + gamma * (fw[k] - ref[k]);
    } else {
      for (let k = 0; k < out.length; k++) out[k] = sw[k] + gamma * this.fastEffective(k);
    }
  }

  setWeights(values: Float32Array): void {
    this.fast.reset();
    this.slow.setWeights(values);
    this.clearDigitalState();
    this.invalidate();
  }

  pulseCounts(): Record<string, number> {
    return { [this.fastName]: this.fast.tile.pulses, [this.slowName]: this.slow.pulses };
  }

  transferCounts(): Record<string, number> {
    return { [this.slowName]: this.transfers };
  }

  /** Forward and backward read the slow array, and the fast one too when gamma > 0. */
  costCounts(): LayerCounters {
    const counts = tileCounts([this.fast.tile, this.slow]);
    counts.flops += this.transfers * this.rows * this.bufferOps();
    return {
      samples: this.samples,
      arraysRead: this.gamma === 0 ? 1 : 2,
      ...counts,
      storedElements: updateVectorElements(this.rows, this.cols) + this.digitalElements(),
    };
  }
}
