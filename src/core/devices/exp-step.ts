/**
 * Exponential step (aihwkit ExpStep; docs/science.md §3.5; ReRAM-ES and PCM presets):
 *   z = 2 a w / (b_max - b_min) + b
 *   up step   = s_up   * max(1 - A_up   e^( gamma_up   z), 0)
 *   down step = s_down * max(1 - A_down e^(-gamma_down z), 0)
 * Noise: multiplicative (1 + std xi) or, when dw_min_std_add / dw_min_std_slope are set,
 * aihwkit's "complex" model w += dw + std (|dw| + add + slope |w|) xi.
 */
import type { Rng } from '../rng.ts';
import { populateCommon, PulsedDevice } from './base.ts';
import type { DeviceParams } from './params.ts';

export class ExpStepDevice extends PulsedDevice {
  private readonly a: number;
  private readonly b: number;
  private readonly aUp: number;
  private readonly aDown: number;
  private readonly gUp: number;
  private readonly gDown: number;
  private readonly stdAdd: number;
  private readonly stdSlope: number;

  constructor(p: DeviceParams, size: number, variation: Rng, noise: Rng) {
    const y0 = (A: number, g: number): number => Math.max(1 - A * Math.exp(g * (p.b ?? 0)), 0);
    // Granularity: mean of the up and down step at w = 0 (aihwkit uses the down step twice;
    // docs/papers.md §6.2).
    const f0 = 0.5 * (y0(p.A_up ?? 0, p.gamma_up ?? 0) + y0(p.A_down ?? 0, -(p.gamma_down ?? 0)));
    super(
      { ...p, mult_noise: true },
      size,
      populateCommon(p, size, variation),
      noise,
      f0 > 0 ? p.dw_min * f0 : p.dw_min,
    );
    this.a = p.a ?? 0;
    this.b = p.b ?? 0;
    this.aUp = p.A_up ?? 0;
    this.aDown = p.A_down ?? 0;
    this.gUp = p.gamma_up ?? 0;
    this.gDown = p.gamma_down ?? 0;
    this.stdAdd = p.dw_min_std_add ?? 0;
    this.stdSlope = p.dw_min_std_slope ?? 0;
  }

  private z(w: number, i: number): number {
    const range = this.bMax[i] - this.bMin[i];
    return range > 0 ? (2 * this.a * w) / range + this.b : this.b;
  }

  upStep(w: number, i: number): number {
    const y = 1 - this.aUp * Math.exp(this.gUp * this.z(w, i));
    return y > 0 ? y * this.sUp[i] : 0;
  }

  downStep(w: number, i: number): number {
    const y = 1 - this.aDown * Math.exp(-this.gDown * this.z(w, i));
    return y > 0 ? y * this.sDown[i] : 0;
  }

  override applyPulses(w: Float32Array, i: number, n: number): void {
    if (this.std === 0 || (this.stdAdd === 0 && this.stdSlope === 0) || !(this.bMax[i] > this.bMin[i])) {
      if (this.bMax[i] > this.bMin[i]) super.applyPulses(w, i, n);
      return;
    }
    const h = this.hidden;
    let v = h === null ? w[i] : h[i];
    const lo = this.bMin[i];
    const hi = this.bMax[i];
    for (let k = 0; k < Math.abs(n); k++) {
      const dw = n > 0 ? this.upStep(v, i) : -this.downStep(v, i);
      v += dw + this.std * (Math.abs(dw) + this.stdAdd + this.stdSlope * Math.abs(v)) * this.normal();
      v = v > hi ? hi : v < lo ? lo : v;
    }
    this.store(w, i, v);
  }
}
