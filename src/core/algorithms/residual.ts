/**
 * Multi-tile residual learning (the residual paper, docs/papers.md §2; docs/science.md §8.11):
 * K = n_tiles analog tiles with composite weight Wbar = sum_i gamma^(K-1-i) (W_i - R_i). Tile 0 is
 * the gradient tile (least significant): every sample's gradient is pulsed onto it with fast_lr. Tile
 * j's content is the descent direction of tile j+1, so a cascade of transfers moves one column of
 * tile j into tile j+1 every T_j = transfer_every * growth^j mini-batches, with lr transfer_lr *
 * lr_growth^(K-1-j) (the gradient side fastest and with the largest lr), j in ascending order after
 * each sample's update, columns cycling per source tile.
 *
 * Warm start (optional, Algorithm 1): first the gradient tile is transferred straight into tile
 * `current` (starting at the most significant) every T_0; a loss plateau moves `current` one
 * tile down; when it reaches the gradient tile the cascade runs.
 *
 * The stable regime needs well separated clocks (x8 per level) and gamma * range >= one step:
 * docs/science.md §12; the paper's literal toy settings get worse with more tiles.
 */
import type { LayerCounters } from '../../cost/activity.ts';
import { updateVectorElements } from '../../cost/storage.ts';
import type { RunConfig } from '../config/run-config.ts';
import { tileFor } from './analog-sgd.ts';
import { CompositeMatrix } from './composite.ts';
import { tileCounts } from './cost-counts.ts';
import { LossPlateau } from './loss-plateau.ts';
import { ReferencedArray } from './referenced-array.ts';
import { ColumnCycler, fastLr, periodInSamples } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

/**
 * The cascade's clocks and rates: the transfer from tile j (to j + 1) every
 * transfer_every * growth^j mini-batches (or samples), with lr transfer_lr * lr_growth^(K-1-j)
 * before the optional SGD-lr scaling.
 */
export function residualSchedule(config: RunConfig, vectorsPerBatch: number): { periods: number[]; lrs: number[] } {
  const k = config.n_tiles ?? 3;
  const every = config.transfer_every ?? 2;
  const units = config.transfer_units ?? 'batches';
  return {
    periods: Array.from({ length: k - 1 }, (_, j) =>
      periodInSamples(every * (config.transfer_every_growth ?? 5) ** j, units, vectorsPerBatch),
    ),
    lrs: Array.from(
      { length: k - 1 },
      (_, j) => (config.transfer_lr ?? 0.1) * (config.transfer_lr_growth ?? 1.2) ** (k - 1 - j),
    ),
  };
}

/**
 * The composite weight sum_i scales[i] (weights[i] - refs[i]), accumulated tile by tile in float64
 * into the float32 `out` (so rounded to float32 after each tile): the reference of the kernel's
 * residualSum (assembly/composite.ts).
 */
export function residualSumReference(
  out: Float32Array,
  weights: Float32Array[],
  refs: Float32Array[],
  scales: Float64Array,
): void {
  out.fill(0);
  for (let i = 0; i < weights.length; i++) {
    const s = scales[i];
    const w = weights[i];
    const ref = refs[i];
    for (let k = 0; k < out.length; k++) out[k] += s * (w[k] - ref[k]);
  }
}

class MultiTileResidualMatrix extends CompositeMatrix {
  private readonly config: RunConfig;
  private readonly tiles: ReferencedArray[];
  /** the tiles' weights and references (the reduction's operands) */
  private readonly tileWeights: Float32Array[];
  private readonly refs: Float32Array[];
  /** gamma^(K-1-i): the weight of tile i in the composite */
  private readonly scale: Float64Array;
  /** transfer period of source tile j, in sample updates */
  private readonly periods: number[];
  /** transfer lr of source tile j (before the optional SGD-lr scaling) */
  private readonly lrs: number[];
  private readonly columns: ColumnCycler[];
  /** transfers into tile j + 1 */
  private readonly transfers: Float64Array;
  private readonly plateau = new LossPlateau();
  /** warm start: the tile the gradient tile is transferred into; 0 = cascade phase */
  private warmTarget: number;
  private samples = 0;
  private readonly read: Float32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    const k = config.n_tiles ?? 3;
    // the kernel's reduction reads each tile's weights (staged per reduction) and fixed reference
    super(config, layer, 2 * k);
    this.config = config;
    const gamma = config.tile_gamma ?? 0.5;
    this.tiles = Array.from({ length: k }, (_, i) => new ReferencedArray(tileFor(config, layer, `T${i}`), config));
    this.tileWeights = this.tiles.map((t) => t.tile.weights);
    this.refs = this.tiles.map((t) => t.ref);
    this.refs.forEach((ref, i) => this.kernel?.staging[2 * i + 1].set(ref));
    this.scale = Float64Array.from({ length: k }, (_, i) => gamma ** (k - 1 - i));
    ({ periods: this.periods, lrs: this.lrs } = residualSchedule(config, layer.vectorsPerBatch));
    this.columns = Array.from({ length: k - 1 }, () => new ColumnCycler(layer.cols));
    this.transfers = new Float64Array(k - 1);
    this.warmTarget = config.warm_start ? k - 1 : 0;
    this.read = new Float32Array(layer.rows);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    const lrFast = fastLr(this.config, lr);
    const gradientTile = this.tiles[0].tile;
    const scaleLr = this.config.scale_transfer_lr ? lr : 1;
    // the samples up to the next transfer of any tile in one range of the gradient tile, then
    // that sample's transfers (the same order as sample by sample)
    for (let b = 0; b < batch;) {
      const n = Math.min(batch - b, this.untilTransfer());
      gradientTile.updateRange(x, d, b, b + n, lrFast);
      b += n;
      const t = (this.samples += n);
      if (this.warmTarget > 0) {
        if (t % this.periods[0] === 0) this.transfer(0, this.warmTarget, this.lrs[0] * scaleLr);
        continue;
      }
      for (let j = 0; j < this.periods.length; j++)
        if (t % this.periods[j] === 0) this.transfer(j, j + 1, this.lrs[j] * scaleLr);
    }
    this.invalidate();
  }

  /** Samples until the next one after which a transfer is due (that one included). */
  private untilTransfer(): number {
    const t = this.samples;
    const n = this.warmTarget > 0 ? 1 : this.periods.length;
    let m = Infinity;
    for (let j = 0; j < n; j++) m = Math.min(m, this.periods[j] - (t % this.periods[j]));
    return m;
  }

  /** Tile `to`, column k += lr * (tile `from` - its reference), column k (pulsed, one-hot x). */
  private transfer(from: number, to: number, lr: number): void {
    const k = this.columns[from].next();
    this.tiles[from].readColumn(k, this.read);
    this.tiles[to].tile.updateColumn(k, this.read, -lr);
    this.transfers[to - 1]++;
  }

  onEpochEnd(trainLoss: number): void {
    if (this.warmTarget > 0 && this.plateau.observe(trainLoss)) this.warmTarget--;
  }

  protected reduce(out: Float32Array): void {
    if (this.kernel === null) {
      residualSumReference(out, this.tileWeights, this.refs, this.scale);
      return;
    }
    this.tileWeights.forEach((w, i) => this.kernel!.staging[2 * i].set(w));
    this.kernel.residualSum(this.scale);
  }

  /**
   * All weight goes to the most significant tile; the others start at 0 (the paper's Algorithm 1; docs/science.md
   * §8.11).
   */
  setWeights(values: Float32Array): void {
    const last = this.tiles.length - 1;
    this.tiles.forEach((t, i) => (i === last ? t.setEffective(values) : t.reset()));
    this.invalidate();
  }

  pulseCounts(): Record<string, number> {
    return Object.fromEntries(this.tiles.map((t, i) => [`T${i}`, t.tile.pulses]));
  }

  transferCounts(): Record<string, number> {
    return Object.fromEntries(Array.from(this.transfers, (n, j) => [`T${j + 1}`, n]));
  }

  /** Forward and backward read every tile (each weighted by its gamma power in the periphery). */
  costCounts(): LayerCounters {
    return {
      samples: this.samples,
      arraysRead: this.tiles.length,
      ...tileCounts(this.tiles.map((t) => t.tile)),
      storedElements: updateVectorElements(this.rows, this.cols),
    };
  }
}

export const residual: Algorithm = {
  name: 'residual',
  create: (config, layer) => new MultiTileResidualMatrix(config, layer),
  transferClocks: (config, layer) =>
    residualSchedule(config, layer.vectorsPerBatch).periods.map((period, j) => ({
      array: `T${j + 1}`,
      period,
      columns: 1,
    })),
};
