/**
 * Linear step (aihwkit LinearStep; docs/science.md §3.4; capacitor and ECRAM presets):
 *   up step   = s_up   * (1 - gamma_up   * w / W_MAX)
 *   down step = s_down * (1 - gamma_down * w / W_MIN)
 * gamma = 0 is a constant step; gamma = 1 with W = the device's own bounds is soft bounds.
 * W_MAX / W_MIN are the mean bounds (mean_bound_reference) or each device's sampled bounds;
 * gamma_up/down get a device-to-device spread (taken in absolute value, aihwkit
 * allow_increasing = false).
 */
import type { Rng } from '../rng.ts';
import { AffineResponseDevice } from './affine-response.ts';
import { populateCommon } from './base.ts';
import type { DeviceParams } from './params.ts';

export function createLinearStep(p: DeviceParams, size: number, variation: Rng, noise: Rng): AffineResponseDevice {
  const hidden = populateCommon(p, size, variation);
  const { bMin, bMax, sUp, sDown } = hidden;
  const cUp = new Float32Array(size);
  const kUp = new Float32Array(size);
  const cDown = new Float32Array(size);
  const kDown = new Float32Array(size);
  const gUp = p.gamma_up ?? 0;
  const gDown = p.gamma_down ?? 0;
  const gUpDtod = p.gamma_up_dtod ?? 0;
  const gDownDtod = p.gamma_down_dtod ?? 0;
  const meanRef = p.mean_bound_reference ?? true;
  for (let i = 0; i < size; i++) {
    const gu = Math.abs(gUp + gUpDtod * variation.normal());
    const gd = Math.abs(gDown + gDownDtod * variation.normal());
    const refUp = meanRef ? p.w_max : bMax[i];
    const refDown = meanRef ? p.w_min : bMin[i];
    cUp[i] = sUp[i];
    kUp[i] = refUp !== 0 ? (gu * sUp[i]) / refUp : 0;
    cDown[i] = sDown[i];
    kDown[i] = refDown !== 0 ? -(gd * sDown[i]) / refDown : 0;
  }
  return new AffineResponseDevice(p, size, hidden, { cUp, kUp, cDown, kDown }, noise);
}
