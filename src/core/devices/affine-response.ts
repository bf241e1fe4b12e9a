/**
 * Devices whose step is affine in w (aihwkit LinearStep and SoftBounds, §2.5-2.7):
 *   up step   = cUp   - kUp   * w
 *   down step = cDown + kDown * w        (magnitude)
 * per weight. Shared by `softbounds` and `linear-step`, which differ only in how the
 * coefficients and bounds are drawn. The row kernel below is the hot loop of the papers'
 * default device: pulses one by one (exact), normals from a pre-generated block.
 */
import type { Rng } from '../rng.ts';
import { type CommonHidden, PulsedDevice, popcount32 } from './base.ts';
import type { DeviceParams } from './params.ts';

export interface AffineCoefficients {
  cUp: Float32Array;
  kUp: Float32Array;
  cDown: Float32Array;
  kDown: Float32Array;
}

export class AffineResponseDevice extends PulsedDevice {
  readonly cUp: Float32Array;
  readonly kUp: Float32Array;
  readonly cDown: Float32Array;
  readonly kDown: Float32Array;

  constructor(p: DeviceParams, size: number, hidden: CommonHidden, coef: AffineCoefficients, rng: Rng) {
    super(p, size, hidden, rng, p.dw_min);
    this.cUp = coef.cUp;
    this.kUp = coef.kUp;
    this.cDown = coef.cDown;
    this.kDown = coef.kDown;
  }

  upStep(w: number, i: number): number {
    return this.cUp[i] - this.kUp[i] * w;
  }

  downStep(w: number, i: number): number {
    return this.cDown[i] + this.kDown[i] * w;
  }

  override pulseRow(w: Float32Array, rowOff: number, rowBits: number, rowNeg: number, colIdx: Int32Array, colBits: Int32Array, colNeg: Int32Array, nActive: number): number {
    if (this.hidden !== null) return super.pulseRow(w, rowOff, rowBits, rowNeg, colIdx, colBits, colNeg, nActive);
    const { cUp, kUp, cDown, kDown, bMin, bMax, sUp, sDown, normals } = this;
    const std = this.std;
    const mult = this.multNoise;
    const block = normals.length;
    let ni = this.normalIdx;
    let total = 0;
    for (let t = 0; t < nActive; t++) {
      const n = popcount32(rowBits & colBits[t]);
      if (n === 0) continue;
      total += n;
      const k = rowOff + colIdx[t];
      const lo = bMin[k];
      const hi = bMax[k];
      let v = w[k];
      if ((rowNeg ^ colNeg[t]) !== 0) {
        const c = cUp[k];
        const a = kUp[k];
        const sn = std * sUp[k];
        for (let p = 0; p < n; p++) {
          let s = c - a * v;
          if (std !== 0) {
            if (ni === block) {
              this.rng.fillNormal(normals);
              ni = 0;
            }
            s += (mult ? s * std : sn) * normals[ni++];
          }
          v += s;
          v = v > hi ? hi : v < lo ? lo : v;
        }
      } else {
        const c = cDown[k];
        const a = kDown[k];
        const sn = std * sDown[k];
        for (let p = 0; p < n; p++) {
          let s = c + a * v;
          if (std !== 0) {
            if (ni === block) {
              this.rng.fillNormal(normals);
              ni = 0;
            }
            s += (mult ? s * std : sn) * normals[ni++];
          }
          v -= s;
          v = v > hi ? hi : v < lo ? lo : v;
        }
      }
      w[k] = v;
    }
    this.normalIdx = ni;
    return total;
  }
}
