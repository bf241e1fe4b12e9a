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

/**
 * The effective weight slow + gamma (fast - ref) in float64, stored into the float32 `out`; with
 * gamma 0, slow + 0: the reference of the kernel's fastSlowSum (assembly/composite.ts).
 */
export function fastSlowSumReference(
  out: Float32Array,
  slow: Float32Array,
  fast: Float32Array,
  ref: Float32Array,
  gamma: number,
): void {
  if (gamma === 0) {
    for (let k = 0; k < out.length; k++) out[k] = slow[k] + 0;
    return;
  }
  for (let k = 0; k < out.length; k++) out[k] = slow[k] + gamma * (fast[k] - ref[k]);
}

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
  /** The effective weights are reduced by the kernel (assembly/composite.ts fastSlowSum). */
  private readonly kernelReduces: boolean;

  constructor(config: RunConfig, layer: LayerSpec, fastName: string, slowName: string) {
    const gamma = config.gamma ?? 0;
    const ownFastReading = new.target.prototype.fastEffective !== FastSlowTransfer.prototype.fastEffective;
    // the kernel's reduction stages the slow array, and where gamma counts the fast one and its
    // (fixed) reference; a subclass's own reading of the fast array stays in TypeScript
    super(config, layer, gamma === 0 ? 1 : ownFastReading ? 0 : 3);
    this.config = config;
    this.fastName = fastName;
    this.slowName = slowName;
    this.fast = new ReferencedArray(tileFor(config, layer, fastName), config);
    this.slow = tileFor(config, layer, slowName);
    this.gamma = gamma;
    this.kernelReduces = this.kernel !== null && this.kernel.staging.length > 0;
    if (this.kernelReduces && gamma !== 0) this.kernel!.staging[2].set(this.fast.ref);
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
    const gamma = this.gamma;
    if (this.kernelReduces) {
      this.kernel!.staging[0].set(this.slow.weights);
      if (gamma !== 0) this.kernel!.staging[1].set(this.fast.tile.weights);
      this.kernel!.fastSlowSum(gamma);
    } else if (gamma !== 0 && this.fastEffective !== FastSlowTransfer.prototype.fastEffective) {
      // a subclass's own reading of the fast array (the chopped variants)
      const sw = this.slow.weights;
      for (let k = 0; k < out.length; k++) out[k] = sw[k] + gamma * this.fastEffective(k);
    } else {
      fastSlowSumReference(out, this.slow.weights, this.fast.tile.weights, this.fast.ref, gamma);
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
