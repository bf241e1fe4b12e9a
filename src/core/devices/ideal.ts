/**
 * Ideal device: every pulse moves the weight by exactly dw_min, no asymmetry, noise or
 * variation; only the bounds act (clipping). With n_states it is a pure quantised device: a
 * weight programmed onto the grid w_min + k * dw_min stays on it (pulses are applied as
 * integer moves on the grid, so no rounding drift accumulates).
 */
import type { Rng } from '../rng.ts';
import { PulsedDevice } from './base.ts';
import type { DeviceParams } from './params.ts';

export class IdealDevice extends PulsedDevice {
  private readonly wMin: number;
  private readonly levels: number;

  constructor(p: DeviceParams, size: number, variation: Rng, noise: Rng) {
    const full = (v: number): Float32Array => new Float32Array(size).fill(v);
    super(
      p,
      size,
      { bMin: full(p.w_min), bMax: full(p.w_max), sUp: full(p.dw_min), sDown: full(p.dw_min) },
      noise,
      p.dw_min,
    );
    this.wMin = p.w_min;
    this.levels = Math.floor(p.n_states + 1e-9);
  }

  upStep(): number {
    return this.dwMin;
  }

  downStep(): number {
    return this.dwMin;
  }

  /** Grid index of a value (nearest level). */
  private level(v: number): number {
    const k = Math.round((v - this.wMin) / this.dwMin);
    return k < 0 ? 0 : k > this.levels ? this.levels : k;
  }

  override applyPulses(w: Float32Array, i: number, n: number): void {
    const k = this.level(w[i]) + n;
    w[i] = this.wMin + (k < 0 ? 0 : k > this.levels ? this.levels : k) * this.dwMin;
  }

  override program(w: Float32Array, values: ArrayLike<number>): void {
    for (let i = 0; i < this.size; i++) w[i] = this.wMin + this.level(values[i]) * this.dwMin;
  }
}
