/**
 * Exponential response (the response-function paper; docs/science.md §3.7):
 *   q+(w) = (1 + c)(e^(g (1 - w/b_max)) - 1) / (e^g - 1)
 *   q-(w) = (1 - c)(e^(g (1 - w/b_min)) - 1) / (e^g - 1)
 * q = 1 at w = 0, q = 0 at the bound it moves toward; symmetric point 0 for c = 0.
 */
import type { Rng } from '../rng.ts';
import { populateCommon, PulsedDevice } from './base.ts';
import type { DeviceParams } from './params.ts';

export class ExpDevice extends PulsedDevice {
  private readonly g: number;
  private readonly norm: number;

  constructor(p: DeviceParams, size: number, variation: Rng, noise: Rng) {
    super(p, size, populateCommon(p, size, variation), noise, p.dw_min);
    this.g = p.gamma_res ?? 1;
    this.norm = 1 / Math.expm1(this.g);
  }

  upStep(w: number, i: number): number {
    const hi = this.bMax[i];
    const t = hi > 0 ? 1 - w / hi : 0;
    return t > 0 ? this.sUp[i] * Math.expm1(this.g * t) * this.norm : 0;
  }

  downStep(w: number, i: number): number {
    const lo = this.bMin[i];
    const t = lo < 0 ? 1 - w / lo : 0;
    return t > 0 ? this.sDown[i] * Math.expm1(this.g * t) * this.norm : 0;
  }
}
