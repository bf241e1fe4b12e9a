/**
 * Soft bounds (aihwkit SoftBounds / SoftBoundsReference; the papers' default; docs/science.md §3.3):
 *   q+(w) = (1 + c)(1 - w / b_max),  q-(w) = (1 - c)(1 - w / b_min)
 * The step vanishes at the bound, so pulses approach it but never cross it. Symmetric point
 * (s_up - s_down) / (s_up / b_max - s_down / b_min) = c * b for bounds +-b.
 *
 * With reference_std > 0 or subtract_symmetric_point, each weight is read differentially
 * against a fixed reference conductance `ref`: the device state is g = w + ref, the response
 * applies to g and the visible weight is w = g - ref (its bounds shift by -ref).
 */
import type { Rng } from '../rng.ts';
import { AffineResponseDevice } from './affine-response.ts';
import { populateCommon } from './base.ts';
import type { DeviceParams } from './params.ts';

export function createSoftbounds(p: DeviceParams, size: number, variation: Rng, noise: Rng): AffineResponseDevice {
  const hidden = populateCommon(p, size, variation);
  const { bMin, bMax, sUp, sDown } = hidden;
  const cUp = new Float32Array(size);
  const kUp = new Float32Array(size);
  const cDown = new Float32Array(size);
  const kDown = new Float32Array(size);
  const refStd = p.reference_std ?? 0;
  const subtractSp = p.subtract_symmetric_point ?? false;
  for (let i = 0; i < size; i++) {
    const hi = bMax[i];
    const lo = bMin[i];
    // A bound at 0 means no motion toward it (aihwkit: slope 0 when the bound is 0).
    const ku = hi > 0 ? sUp[i] / hi : 0;
    const kd = lo < 0 ? -sDown[i] / lo : 0;
    let ref = refStd > 0 ? refStd * variation.normal() : 0;
    if (subtractSp && ku + kd > 0) ref += (sUp[i] - sDown[i]) / (ku + kd);
    cUp[i] = sUp[i] - ku * ref;
    kUp[i] = ku;
    cDown[i] = sDown[i] + kd * ref;
    kDown[i] = kd;
    bMax[i] = hi - ref;
    bMin[i] = lo - ref;
  }
  return new AffineResponseDevice(p, size, hidden, { cUp, kUp, cDown, kDown }, noise);
}
