/**
 * Power response (the response-function paper; docs/science.md §3.6):
 *   q+(w) = (1 + c)(1 - w / b_max)^g,   q-(w) = (1 - c)(1 - w / b_min)^g
 * range [b_min, b_max] (the paper's [-tau, tau]), symmetric point 0 for c = 0, and q = 1 at
 * w = 0 so dw_min is the step there. g = 1 is soft bounds.
 */
import type { Rng } from '../rng.ts';
import { populateCommon, PulsedDevice } from './base.ts';
import type { DeviceParams } from './params.ts';

export class PowDevice extends PulsedDevice {
  private readonly g: number;

  constructor(p: DeviceParams, size: number, variation: Rng, noise: Rng) {
    super(p, size, populateCommon(p, size, variation), noise, p.dw_min);
    this.g = p.gamma_res ?? 1;
  }

  upStep(w: number, i: number): number {
    const hi = this.bMax[i];
    const t = hi > 0 ? 1 - w / hi : 0;
    return t > 0 ? this.sUp[i] * t ** this.g : 0;
  }

  downStep(w: number, i: number): number {
    const lo = this.bMin[i];
    const t = lo < 0 ? 1 - w / lo : 0;
    return t > 0 ? this.sDown[i] * t ** this.g : 0;
  }
}
