/**
 * Constant step (aihwkit ConstantStep; docs/science.md §3.2): q+ = 1 + c, q- = 1 - c, independent of w.
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
 * - With noise and update.closed_form_pulses, a rank-1 update gives each weight its n pulses at
 *   once, w + n C + C_s sqrt(n) z (closed-form.ts with K = 0).
 */
import type { Rng } from '../rng.ts';
import { KernelMode, populateCommon, PULSE_BLOCK, PulsedDevice } from './base.ts';
import { type ClosedFormDevice, pulseRowClosedForm } from './closed-form.ts';
import type { DeviceParams } from './params.ts';

export class ConstantStepDevice extends PulsedDevice {
  /** What the closed-form rows read (built on first use, after the tile may have moved the arrays). */
  private closed: ClosedFormDevice | null = null;

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
    if (this.std === 0) return KernelMode.constant;
    return this.closedForm ? KernelMode.constantClosedForm : KernelMode.constantNoise;
  }

  override moveArrays(alloc: (a: Float32Array) => Float32Array): void {
    super.moveArrays(alloc);
    this.closed = null;
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

  override pulseRow(
    w: Float32Array,
    rowOff: number,
    rowBits: number,
    rowNeg: number,
    colBits: Int32Array,
    colNeg: Int32Array,
    cols: number,
  ): number {
    const mode = this.kernelMode();
    if (mode === KernelMode.none) return super.pulseRow(w, rowOff, rowBits, rowNeg, colBits, colNeg, cols);
    const { sUp, sDown, bMin, bMax } = this;
    if (mode === KernelMode.constant) {
      let total = 0;
      for (let j = 0; j < cols; j++) {
        let b = rowBits & colBits[j];
        if (b === 0) continue;
        b -= (b >>> 1) & 0x55555555;
        b = (b & 0x33333333) + ((b >>> 2) & 0x33333333);
        const n = Math.imul((b + (b >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
        total += n;
        const k = rowOff + j;
        const lo = bMin[k];
        const hi = bMax[k];
        let v =
          (rowNeg ^ colNeg[j]) !== 0
            ? Math.fround(w[k] + Math.fround(n * sUp[k]))
            : Math.fround(w[k] - Math.fround(n * sDown[k]));
        v = v > hi ? hi : v < lo ? lo : v;
        w[k] = v;
      }
      return total;
    }
    this.reserveRow(cols);
    if (mode === KernelMode.constantClosedForm) {
      this.closed ??= {
        cUp: sUp,
        kUp: null,
        cDown: sDown,
        kDown: null,
        sUp,
        sDown,
        bMin,
        bMax,
        stdf: this.kernelStd(),
        noise: this.noise,
        counts: this.rowCount,
        slow: this.rowList,
      };
      this.closed.counts = this.rowCount;
      this.closed.slow = this.rowList;
      return pulseRowClosedForm(this.closed, w, rowOff, rowBits, rowNeg, colBits, colNeg, cols);
    }
    const cnt = this.rowCount;
    const list = this.rowList;
    const stdf = this.kernelStd();
    const noise = this.noise;
    let total = 0;
    for (let from = 0; from < cols; from += PULSE_BLOCK) {
      let active = this.rowCounts(rowBits, colBits, from, Math.min(cols, from + PULSE_BLOCK));
      total += this.rowTotal;
      for (let p = 0; active > 0; p++) {
        // one normal per active weight of this round, read in place from the stream's buffer
        noise.ensure(active);
        const z = noise.buf;
        let zi = noise.ctl[0];
        let next = 0;
        for (let t = 0; t < active; t++) {
          const j = list[t];
          const k = rowOff + j;
          const up = (rowNeg ^ colNeg[j]) !== 0;
          const c = up ? sUp[k] : -sDown[k];
          const cs = up ? Math.fround(sUp[k] * stdf) : -Math.fround(sDown[k] * stdf);
          let v = Math.fround(w[k] + Math.fround(c + Math.fround(cs * z[zi++])));
          v = v > bMax[k] ? bMax[k] : v < bMin[k] ? bMin[k] : v;
          w[k] = v;
          if (cnt[j] > p + 1) list[next++] = j;
        }
        noise.ctl[0] = zi;
        active = next;
      }
    }
    return total;
  }
}
