/**
 * Constant step (aihwkit ConstantStep, §2.4): q+ = 1 + c, q- = 1 - c, independent of w.
 * Cycle-to-cycle noise multiplies the step (additive and multiplicative coincide when q = 1).
 * Without noise, n pulses of one direction are applied at once: the step does not depend on w
 * and the motion is monotone, so clipping once at the end is exact.
 */
import type { Rng } from '../rng.ts';
import { populateCommon, PulsedDevice, popcount32 } from './base.ts';
import type { DeviceParams } from './params.ts';

export class ConstantStepDevice extends PulsedDevice {
  constructor(p: DeviceParams, size: number, variation: Rng, noise: Rng) {
    super(p, size, populateCommon(p, size, variation), noise, p.dw_min);
  }

  upStep(_w: number, i: number): number {
    return this.sUp[i];
  }

  downStep(_w: number, i: number): number {
    return this.sDown[i];
  }

  override pulseRow(w: Float32Array, rowOff: number, rowBits: number, rowNeg: number, colIdx: Int32Array, colBits: Int32Array, colNeg: Int32Array, nActive: number): number {
    if (this.std !== 0 || this.hidden !== null) return super.pulseRow(w, rowOff, rowBits, rowNeg, colIdx, colBits, colNeg, nActive);
    const sUp = this.sUp;
    const sDown = this.sDown;
    const bMin = this.bMin;
    const bMax = this.bMax;
    let total = 0;
    for (let t = 0; t < nActive; t++) {
      const n = popcount32(rowBits & colBits[t]);
      if (n === 0) continue;
      total += n;
      const k = rowOff + colIdx[t];
      let v = (rowNeg ^ colNeg[t]) !== 0 ? w[k] + n * sUp[k] : w[k] - n * sDown[k];
      v = v > bMax[k] ? bMax[k] : v < bMin[k] ? bMin[k] : v;
      w[k] = v;
    }
    return total;
  }
}
