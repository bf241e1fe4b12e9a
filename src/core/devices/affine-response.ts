/**
 * Devices whose step is affine in w (aihwkit LinearStep and SoftBounds; docs/science.md §3.3-§3.4):
 *   up step   = cUp   - kUp   * w
 *   down step = cDown + kDown * w        (magnitude)
 * per weight. Shared by `softbounds` and `linear-step`, which differ only in how the
 * coefficients and bounds are drawn.
 *
 * Pulses go one by one (exact), in float32 (the weights' precision; the WebAssembly kernel does
 * the same ops in the same order), with signed coefficients: an up pulse uses C = cUp, K = kUp,
 * a down pulse C = -cDown, K = kDown, so that in both directions
 *   S = C - K * v                      (the signed deterministic step)
 *   T = S + (S * std) * z              (multiplicative noise)   or   S + C_s * z   (additive,
 *                                       C_s = +-float32(s * std) with s the weight's mean step)
 *   v = clip(v + T)
 * which gives the same bits as the unsigned step subtracted for a down pulse. In a rank-1 update
 * a noisy row goes in blocks of 16 columns, each round by round (base.ts PULSE_BLOCK), and the
 * normals are taken in that order. With additive noise and update.closed_form_pulses, a rank-1
 * update gives each weight its n pulses at once (closed-form.ts).
 */
import type { Rng } from '../rng.ts';
import { type CommonHidden, KernelMode, PULSE_BLOCK, PulsedDevice } from './base.ts';
import { type ClosedFormDevice, pulseRowClosedForm } from './closed-form.ts';
import type { DeviceParams } from './params.ts';

export interface AffineCoefficients {
  cUp: Float32Array;
  kUp: Float32Array;
  cDown: Float32Array;
  kDown: Float32Array;
}

export class AffineResponseDevice extends PulsedDevice {
  // read-only for callers (see PulsedDevice.moveArrays)
  cUp: Float32Array;
  kUp: Float32Array;
  cDown: Float32Array;
  kDown: Float32Array;
  /** What the closed-form rows read (built on first use, after the tile may have moved the arrays). */
  private closed: ClosedFormDevice | null = null;

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

  override kernelMode(): number {
    if (this.hidden !== null) return KernelMode.none;
    if (this.std === 0) return KernelMode.affine;
    if (this.multNoise) return KernelMode.affineMultiplicative;
    return this.closedForm ? KernelMode.affineClosedForm : KernelMode.affineAdditive;
  }

  override moveArrays(alloc: (a: Float32Array) => Float32Array): void {
    super.moveArrays(alloc);
    this.cUp = alloc(this.cUp);
    this.kUp = alloc(this.kUp);
    this.cDown = alloc(this.cDown);
    this.kDown = alloc(this.kDown);
    this.closed = null;
  }

  /**
   * One pulse of signed coefficients (C, K, C_s) at v with the normal z: the float32 step of the
   * file comment; noise 0 none (z unused), 1 additive, 2 multiplicative.
   */
  private static pulse(
    v: number,
    c: number,
    k: number,
    cs: number,
    stdf: number,
    noise: number,
    z: number,
    lo: number,
    hi: number,
  ): number {
    const s = Math.fround(c - Math.fround(k * v));
    let t = s;
    if (noise === 2) t = Math.fround(s + Math.fround(Math.fround(s * stdf) * z));
    else if (noise === 1) t = Math.fround(s + Math.fround(cs * z));
    const r = Math.fround(v + t);
    return r > hi ? hi : r < lo ? lo : r;
  }

  /** The noise argument of `pulse` for a kernel mode. */
  private static noiseOf(mode: number): number {
    return mode === KernelMode.affineMultiplicative
      ? 2
      : mode === KernelMode.affineAdditive || mode === KernelMode.affineClosedForm
        ? 1
        : 0;
  }

  override applyPulses(w: Float32Array, i: number, n: number): void {
    const mode = this.kernelMode();
    if (mode === KernelMode.none || n === 0) {
      super.applyPulses(w, i, n);
      return;
    }
    const up = n > 0;
    const m = up ? n : -n;
    const stdf = this.kernelStd();
    const c = up ? this.cUp[i] : -this.cDown[i];
    const k = up ? this.kUp[i] : this.kDown[i];
    const cs = up ? Math.fround(this.sUp[i] * stdf) : -Math.fround(this.sDown[i] * stdf);
    const lo = this.bMin[i];
    const hi = this.bMax[i];
    let v = w[i];
    const noise = AffineResponseDevice.noiseOf(mode);
    for (let p = 0; p < m; p++)
      v = AffineResponseDevice.pulse(v, c, k, cs, stdf, noise, noise === 0 ? 0 : this.noise.next(), lo, hi);
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
    const { cUp, kUp, cDown, kDown, sUp, sDown, bMin, bMax } = this;
    const stdf = this.kernelStd();
    this.reserveRow(cols);
    if (mode === KernelMode.affineClosedForm) {
      this.closed ??= {
        cUp,
        kUp,
        cDown,
        kDown,
        sUp,
        sDown,
        bMin,
        bMax,
        stdf,
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
    if (mode === KernelMode.affine) {
      // no random numbers: each weight in turn gets all its pulses (same result in any order)
      const active = this.rowCounts(rowBits, colBits, 0, cols);
      for (let t = 0; t < active; t++) {
        const j = list[t];
        const k = rowOff + j;
        const up = (rowNeg ^ colNeg[j]) !== 0;
        const c = up ? cUp[k] : -cDown[k];
        const a = up ? kUp[k] : kDown[k];
        const lo = bMin[k];
        const hi = bMax[k];
        let v = w[k];
        for (let p = cnt[j]; p > 0; p--) {
          v = Math.fround(v + Math.fround(c - Math.fround(a * v)));
          v = v > hi ? hi : v < lo ? lo : v;
        }
        w[k] = v;
      }
      return this.rowTotal;
    }
    const noise = AffineResponseDevice.noiseOf(mode);
    let total = 0;
    for (let from = 0; from < cols; from += PULSE_BLOCK) {
      let active = this.rowCounts(rowBits, colBits, from, Math.min(cols, from + PULSE_BLOCK));
      total += this.rowTotal;
      for (let p = 0; active > 0; p++) {
        // one normal per active weight of this round, read in place from the stream's buffer
        this.noise.ensure(active);
        const z = this.noise.buf;
        let zi = this.noise.ctl[0];
        let next = 0;
        for (let t = 0; t < active; t++) {
          const j = list[t];
          const k = rowOff + j;
          const up = (rowNeg ^ colNeg[j]) !== 0;
          const c = up ? cUp[k] : -cDown[k];
          const a = up ? kUp[k] : kDown[k];
          const cs = up ? Math.fround(sUp[k] * stdf) : -Math.fround(sDown[k] * stdf);
          w[k] = AffineResponseDevice.pulse(w[k], c, a, cs, stdf, noise, z[zi++], bMin[k], bMax[k]);
          if (cnt[j] > p + 1) list[next++] = j;
        }
        this.noise.ctl[0] = zi;
        active = next;
      }
    }
    return total;
  }
}
