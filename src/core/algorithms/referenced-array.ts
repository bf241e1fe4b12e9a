/**
 * An analog tile read differentially against a fixed reference R (docs/science.md §7.3): the
 * effective weight is W - R. With `reference: ideal`, R is each device's symmetric point (zero
 * shifting: random pulses then decay the effective weight to 0, which Tiki-Taka and residual
 * learning need); `offset` adds a programming error N(0, sigma_r^2); `none` is R = 0.
 */
import type { RunConfig } from '../config/run-config.ts';
import { streamFor } from '../rng.ts';
import type { AnalogTile } from '../tile.ts';

export class ReferencedArray {
  readonly tile: AnalogTile;
  /** The reference, row-major like the tile. */
  readonly ref: Float32Array;

  constructor(tile: AnalogTile, config: RunConfig) {
    this.tile = tile;
    const size = tile.rows * tile.cols;
    this.ref = new Float32Array(size);
    const kind = config.reference ?? 'none';
    if (kind === 'none') return;
    const rng = streamFor(config.seed, `${tile.name}/reference`);
    const sigma = kind === 'offset' ? (config.sigma_r ?? 0) : 0;
    for (let k = 0; k < size; k++) {
      const sp = tile.device.symmetricPoint(k);
      // devices whose steps never balance (constant step) have no symmetric point: reference 0
      this.ref[k] = (Number.isFinite(sp) ? sp : 0) + (sigma > 0 ? sigma * rng.normal() : 0);
    }
  }

  /** out = (W - R)[:, k], W read through the tile's transfer IO. */
  readColumn(k: number, out: Float32Array): void {
    this.tile.readColumn(k, out);
    const cols = this.tile.cols;
    for (let i = 0; i < out.length; i++) out[i] -= this.ref[i * cols + k];
  }

  /** Effective weight of element k (exact, no IO). */
  effective(k: number): number {
    return this.tile.weights[k] - this.ref[k];
  }

  /** Programs effective weights: the conductances become values + R (clipped by the devices). */
  setEffective(values: ArrayLike<number>): void {
    const target = new Float32Array(this.ref.length);
    for (let k = 0; k < target.length; k++) target[k] = values[k] + this.ref[k];
    this.tile.setWeights(target);
  }

  /** Programs every effective weight to 0 (the conductances to the reference). */
  reset(): void {
    this.tile.setWeights(this.ref);
  }
}
