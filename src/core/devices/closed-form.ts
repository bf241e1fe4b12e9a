/**
 * The n pulses one weight gets in one rank-1 update, in closed form (update.closed_form_pulses):
 * the TypeScript reference of the kernel's closed-form rows (assembly/pulse/rows-closed.ts rowClosed), for
 * the devices whose step is affine in w with additive cycle-to-cycle noise (constant-step: K = 0;
 * linear-step, softbounds). One pulse of signed coefficients C, K, C_s (affine-response.ts) is
 *   v' = a v + C + C_s z,   a = 1 - K,
 * a linear recursion, so without clipping n pulses give exactly
 *   v_n = a^n v_0 + C G_n + C_s sqrt(H_n) z,   G_n = sum_{k<n} a^k,   H_n = sum_{k<n} a^{2k}
 * with ONE standard normal z: a sum of independent normals is normal. H_n = G_n (1 + a^n) / (1 + a)
 * (no cancellation), and a^n, G_n come from binary powering, most significant bit first: doubling
 * m -> 2m takes G <- G (1 + a^m), a^m <- (a^m)^2; a set bit m -> m + 1 takes G <- 1 + a G, a^m <- a a^m.
 *
 * Clipping is what the closed form cannot do: the per-pulse path clips after every pulse. For
 * 0 <= a <= 1 the mean path runs monotonically from v_0 to the mean m of v_n and the noise of every
 * intermediate v_k has sd <= sd_n = |C_s| sqrt(H_n), so if both v_0 and m keep SAFE_Z sd_n away from
 * each bound, the chance that any of the n <= 31 intermediate values reaches a bound is below
 * 31 * P(|N(0,1)| > 8) < 4e-14: the result then has the distribution of the per-pulse path to
 * within that. A weight with a single pulse is always exact (one step, then the clip). Any other
 * weight (a bound within reach, or K > 1) pulses one by one instead, after the row.
 *
 * Normals: in blocks of PULSE_BLOCK columns, one per active weight in column order (taken even by
 * the weights that then pulse one by one), or round by round in blocks that pulse one by one; the
 * slow weights follow after the row in column order, n normals each. Float32 arithmetic, op for op as
 * the kernel does it (Math.fround; x / y and sqrt of float32 values are correctly rounded).
 */
import type { NormalStream } from '../normal-stream.ts';
import { popcount32, PULSE_BLOCK } from './base.ts';

/** Margin, in standard deviations of the n-pulse noise, that a bound must keep (see above). */
export const SAFE_Z = 8;

/**
 * Blocks of columns whose longest count is below this pulse one by one: the closed form's fixed
 * cost per weight (the powering, a division, a square root, the margin test) exceeds up to three
 * pulse rounds (measured with bench/kernels.ts). The kernel's CLOSED_FORM_MIN (assembly/pulse/rows-closed.ts)
 * is the same.
 */
export const CLOSED_FORM_MIN = 4;

/** The arrays and settings a closed-form row reads (a device's coefficients and noise stream). */
export interface ClosedFormDevice {
  /** Up step at w = 0 and its slope (up step = cUp - kUp w); kUp null: constant step (K = 0). */
  cUp: Float32Array;
  kUp: Float32Array | null;
  /** Down step magnitude at w = 0 and its slope (down step = cDown + kDown w). */
  cDown: Float32Array;
  kDown: Float32Array | null;
  /** Mean step magnitudes (the additive noise is float32(s * std) per pulse). */
  sUp: Float32Array;
  sDown: Float32Array;
  bMin: Float32Array;
  bMax: Float32Array;
  /** dw_min_std as float32. */
  stdf: number;
  noise: NormalStream;
  /** Scratch of at least `cols` entries each: the counts of a row, the columns that pulse one by one. */
  counts: Int32Array;
  slow: Int32Array;
}

const fr = Math.fround;

/**
 * Pulses of one row of a rank-1 update (the arguments of PulsedDevice.pulseRow) in closed form,
 * in blocks of PULSE_BLOCK columns: a block whose longest count is below CLOSED_FORM_MIN pulses
 * one by one, round by round as the per-pulse rows do (cheaper there, and exact); the others take
 * the closed form weight by weight. Returns the number of pulses applied.
 */
export function pulseRowClosedForm(
  dev: ClosedFormDevice,
  w: Float32Array,
  rowOff: number,
  rowBits: number,
  rowNeg: number,
  colBits: Int32Array,
  colNeg: Int32Array,
  cols: number,
): number {
  const { bMin, bMax, noise, counts, slow } = dev;
  let total = 0;
  let nSlow = 0;
  for (let from = 0; from < cols; from += PULSE_BLOCK) {
    const to = Math.min(cols, from + PULSE_BLOCK);
    let longest = 0;
    for (let j = from; j < to; j++) {
      const n = popcount32(rowBits & colBits[j]);
      counts[j] = n;
      total += n;
      if (n > longest) longest = n;
    }
    if (longest < CLOSED_FORM_MIN) {
      for (let p = 0; p < longest; p++) {
        noise.ensure(PULSE_BLOCK);
        for (let j = from; j < to; j++) {
          if (counts[j] <= p) continue;
          const k = rowOff + j;
          const up = (rowNeg ^ colNeg[j]) !== 0;
          w[k] = pulse(
            w[k],
            stepOf(dev, k, up),
            slopeOf(dev, k, up),
            noiseOf(dev, k, up),
            noise.buf[noise.ctl[0]++],
            bMin[k],
            bMax[k],
          );
        }
      }
      continue;
    }
    noise.ensure(PULSE_BLOCK);
    for (let j = from; j < to; j++) {
      const n = counts[j];
      if (n === 0) continue;
      const k = rowOff + j;
      const up = (rowNeg ^ colNeg[j]) !== 0;
      const c = stepOf(dev, k, up);
      const kk = slopeOf(dev, k, up);
      const cs = noiseOf(dev, k, up);
      const v0 = w[k];
      const lo = bMin[k];
      const hi = bMax[k];
      const z = noise.buf[noise.ctl[0]++];
      const a = fr(1 - kk);
      let p = 1;
      let g = 0;
      for (let b = 31 - Math.clz32(n); b >= 0; b--) {
        g = fr(g * fr(1 + p));
        p = fr(p * p);
        if ((n >>> b) & 1) {
          g = fr(1 + fr(a * g));
          p = fr(a * p);
        }
      }
      const h = fr(fr(g * fr(1 + p)) / fr(1 + a));
      const sd = fr(cs * fr(Math.sqrt(h)));
      const mean = fr(fr(p * v0) + fr(c * g));
      const margin = fr(SAFE_Z * Math.abs(sd));
      const safe = n === 1 || (a >= 0 && fr(Math.min(v0, mean) - lo) > margin && fr(hi - Math.max(v0, mean)) > margin);
      if (!safe) {
        slow[nSlow++] = j;
        continue;
      }
      const v = fr(mean + fr(sd * z));
      w[k] = v > hi ? hi : v < lo ? lo : v;
    }
  }
  for (let t = 0; t < nSlow; t++) {
    const j = slow[t];
    const n = popcount32(rowBits & colBits[j]);
    const k = rowOff + j;
    const up = (rowNeg ^ colNeg[j]) !== 0;
    const c = stepOf(dev, k, up);
    const kk = slopeOf(dev, k, up);
    const cs = noiseOf(dev, k, up);
    const lo = bMin[k];
    const hi = bMax[k];
    noise.ensure(n);
    const z = noise.buf;
    let zi = noise.ctl[0];
    let v = w[k];
    for (let q = 0; q < n; q++) v = pulse(v, c, kk, cs, z[zi++], lo, hi);
    noise.ctl[0] = zi;
    w[k] = v;
  }
  return total;
}

/** The signed step at w = 0 of a pulse on weight k: C = cUp, or -cDown going down. */
function stepOf(dev: ClosedFormDevice, k: number, up: boolean): number {
  return up ? dev.cUp[k] : -dev.cDown[k];
}

/** The slope K of the step of weight k (0 for a constant step). */
function slopeOf(dev: ClosedFormDevice, k: number, up: boolean): number {
  const s = up ? dev.kUp : dev.kDown;
  return s === null ? 0 : s[k];
}

/** The signed noise scale C_s = +-float32(s * std) of weight k. */
function noiseOf(dev: ClosedFormDevice, k: number, up: boolean): number {
  return up ? fr(dev.sUp[k] * dev.stdf) : -fr(dev.sDown[k] * dev.stdf);
}

/** One pulse: the per-pulse step of affine-response.ts with additive noise (K = 0 gives constant-step's bits). */
function pulse(v: number, c: number, kk: number, cs: number, z: number, lo: number, hi: number): number {
  const r = fr(v + fr(fr(c - fr(kk * v)) + fr(cs * z)));
  return r > hi ? hi : r < lo ? lo : r;
}
