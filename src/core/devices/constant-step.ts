/**
 * Constant step (aihwkit ConstantStep, §2.4): q+ = 1 + c, q- = 1 - c, independent of w.
 * Cycle-to-cycle noise multiplies the step (additive and multiplicative coincide when q = 1).
 *
 * Arithmetic is float32 (the weights' precision; the WebAssembly kernel does the same ops), with
 * signed steps: an up pulse adds C = s_up, a down pulse adds C = -s_down (the same bits as
 * subtracting s_down).
 * - Without noise, the n pulses of one weight in one update are applied at once, w + n * C,
 *   clipped once: the step does not depend on w and the motion is monotone, so this is the
 *   exact result of n pulses (up to float32 rounding, as the C reference does it).
 * - With noise, pulses go one by one, w += C + (C_s * z) with C_s = +-float32(s * std) and a
 *   fresh normal z each, clipped after each pulse. In a rank-1 update a row goes in blocks of 16
 *   columns, each round by round (base.ts PULSE_BLOCK), and the normals are taken in that order.
 */
import type { Rng } from '../rng.ts';
import { KernelMode, populateCommon, PULSE_BLOCK, PulsedDevice } from './base.ts';
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

  override kernelMode(): number {
    if (this.hidden !== null) return KernelMode.none;
    return this.std === 0 ? KernelMode.constant : KernelMode.constantNoise;
  }

  override applyPulses(w: Float32Array, i: number, n: number): void {
    if (this.hidden !== null || n === 0) {
      super.applyPulses(w, i, n);
      return;
    }
    const up = n > 0;
    const m = up ? n : -n;
    const lo = this.bMin[i];
    const hi = this.bMax[i];
    const c = up ? this.sUp[i] : -this.sDown[i];
    let v = w[i];
    if (this.std === 0) {
      v = Math.fround(v + Math.fround(m * c));
      v = v > hi ? hi : v < lo ? lo : v;
    } else {
      const stdf = this.kernelStd();
      const cs = up ? Math.fround(this.sUp[i] * stdf) : -Math.fround(this.sDown[i] * stdf);
      for (let k = 0; k < m; k++) {
        v = Math.fround(v + Math.fround(c + Math.fround(cs * this.normal())));
        v = v > hi ? hi : v < lo ? lo : v;
      }
    }
    w[i] = v;
  }

  override pulseRow(w: Float32Array, rowOff: number, rowBits: number, rowNeg: number, colBits: Int32Array, colNeg: Int32Array, cols: number): number {
    const mode = this.kernelMode();
    if (mode === KernelMode.none) return super.pulseRow(w, rowOff, rowBits, rowNeg, colBits, colNeg, cols);
    const { sUp, sDown, bMin, bMax } = this;
    this.reserveRow(cols);
    const cnt = this.rowCount;
    const list = this.rowList;
    if (mode === KernelMode.constant) {
      const active = this.rowCounts(rowBits, colBits, 0, cols);
      for (let t = 0; t < active; t++) {
        const j = list[t];
        const k = rowOff + j;
        const c = (rowNeg ^ colNeg[j]) !== 0 ? sUp[k] : -sDown[k];
        let v = Math.fround(w[k] + Math.fround(cnt[j] * c));
        v = v > bMax[k] ? bMax[k] : v < bMin[k] ? bMin[k] : v;
        w[k] = v;
      }
      return this.rowTotal;
    }
    const stdf = this.kernelStd();
    const noise = this.noise;
    let total = 0;
    for (let from = 0; from < cols; from += PULSE_BLOCK) {
      let active = this.rowCounts(rowBits, colBits, from, Math.min(cols, from + PULSE_BLOCK));
      total += this.rowTotal;
      for (let p = 0; active > 0; p++) {
        let next = 0;
        for (let t = 0; t < active; t++) {
          const j = list[t];
          const k = rowOff + j;
          const up = (rowNeg ^ colNeg[j]) !== 0;
          const c = up ? sUp[k] : -sDown[k];
          const cs = up ? Math.fround(sUp[k] * stdf) : -Math.fround(sDown[k] * stdf);
          let v = Math.fround(w[k] + Math.fround(c + Math.fround(cs * noise.next())));
          v = v > bMax[k] ? bMax[k] : v < bMin[k] ? bMin[k] : v;
          w[k] = v;
          if (cnt[j] > p + 1) list[next++] = j;
        }
        active = next;
      }
    }
    return total;
  }
}
