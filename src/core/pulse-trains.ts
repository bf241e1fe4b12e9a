/**
 * Stochastic pulse trains of the rank-1 update (aihwkit's StochasticCompressed; docs/science.md §6).
 *
 * Update management: with xmax = max|x|, dmax = max|d| and k = lr xmax dmax / g (the ideal pulse
 * count of the largest element), update-BL management uses BL = min(ceil(k), desired_bl) slots;
 * A = B = sqrt(lr / (g BL)); when k > desired_bl the d side is clipped (dmax *= desired_bl / k);
 * then A *= sqrt(xmax / dmax), B *= sqrt(dmax / xmax). Line i of d fires in each slot with
 * probability min(1, A |d_i|), line j of x with min(1, B |x_j|); each coincidence is one pulse.
 * BL <= 31, so a train is a bit mask and the coincidences of (i, j) are popcount(d_i & x_j).
 */
import type { Rng } from './rng.ts';

export interface UpdateConfig {
  /** Pulse-train length BL (the maximum with BL management), 1..31. */
  desired_bl: number;
  /** Rescale the x and d probabilities by their abs-max (aihwkit update_management). */
  update_management: boolean;
  /** Choose BL per update as min(ceil(k), desired_bl) (aihwkit update_bl_management). */
  update_bl_management: boolean;
  /** Multiplies dmax in update management (< 1 clips d earlier). */
  um_grad_scale: number;
  /**
   * Apply each weight's pulses of one update in closed form (one normal per weight) where the
   * device allows it (devices/closed-form.ts); absent = false, pulses one by one.
   */
  closed_form_pulses?: boolean;
}

export const UPDATE_DEFAULTS: UpdateConfig = {
  desired_bl: 31,
  update_management: true,
  update_bl_management: true,
  um_grad_scale: 1,
};

const P_SCALE = 16777216; // probabilities compared with 24-bit uniforms

/** Result of update management for one rank-1 update (reused, never reallocated). */
export class PulseSchedule {
  bl = 0;
  /** d-side (row) probability scale */
  a = 0;
  /** x-side (column) probability scale */
  b = 0;

  /**
   * Computes BL, A and B for a desired dW = -lr d x^T on a device of granularity g.
   * bl = 0 means no pulses (lr, x or d all zero).
   */
  plan(lr: number, g: number, xmax: number, dmax: number, cfg: UpdateConfig): void {
    const alr = Math.abs(lr);
    this.bl = 0;
    if (alr === 0 || xmax === 0 || dmax === 0) return;
    const desired = cfg.desired_bl;
    let bl = desired;
    const um = cfg.update_management || cfg.update_bl_management;
    let dv = cfg.um_grad_scale * dmax;
    const k = (alr * xmax * dv) / g;
    if (cfg.update_bl_management) bl = Math.min(Math.ceil(k), desired);
    let a = Math.sqrt(alr / (g * bl));
    let b = a;
    if (um) {
      if (k > desired) dv *= desired / k;
      a *= Math.sqrt(xmax / dv);
      b *= Math.sqrt(dv / xmax);
    }
    this.bl = bl;
    this.a = a;
    this.b = b;
  }
}

/** Raw words of one line's train (BL <= 32), filled in one call with the state in registers. */
const RAW = new Int32Array(32);

/**
 * The BL-bit train of one line of value `v`: bit s set = fires in slot s, with probability
 * min(1, scale |v|). Lines with probability 0 or >= 1 draw no random words; the others draw one
 * word per slot (fires when its upper 24 bits, as a uniform, are below p: compared as integers,
 * exactly that event). The WebAssembly kernel draws the same words the same way.
 */
function trainOf(v: number, scale: number, bl: number, full: number, rng: Rng): number {
  const p = (v < 0 ? -v : v) * scale;
  if (!(p > 0)) return 0;
  if (p >= 1) return full;
  const thr = p * P_SCALE;
  rng.fillI32(RAW, 0, bl);
  let mask = 0;
  for (let s = 0; s < bl; s++) if (RAW[s] >>> 8 < thr) mask |= 1 << s;
  return mask;
}

/**
 * Draws the trains of the non-zero lines of `v[off .. off+n)`: for each active line t (in
 * order), `index[t]` is its position, `bits[t]` its BL-bit mask (bit s set = fires in slot s,
 * probability min(1, scale |v|)), `neg[t]` -1 if v < 0 else 0. Lines that never fire are left
 * out. Returns the number of active lines. Allocates nothing.
 */
export function drawTrains(
  v: Float32Array,
  off: number,
  n: number,
  scale: number,
  bl: number,
  rng: Rng,
  index: Int32Array,
  bits: Int32Array,
  neg: Int32Array,
): number {
  const full = bl === 32 ? -1 : (1 << bl) - 1;
  let active = 0;
  for (let t = 0; t < n; t++) {
    const x = v[off + t];
    const mask = trainOf(x, scale, bl, full, rng);
    if (mask === 0) continue;
    index[active] = t;
    bits[active] = mask;
    neg[active] = x < 0 ? -1 : 0;
    active++;
  }
  return active;
}

/**
 * The same trains (same random words) in dense form: `bits[t]` is line t's mask (0 when it never
 * fires) and `neg[t]` -1 if v < 0 else 0, for every t < n. Returns the number of active lines.
 */
export function drawTrainsDense(
  v: Float32Array,
  off: number,
  n: number,
  scale: number,
  bl: number,
  rng: Rng,
  bits: Int32Array,
  neg: Int32Array,
): number {
  const full = bl === 32 ? -1 : (1 << bl) - 1;
  let active = 0;
  for (let t = 0; t < n; t++) {
    const x = v[off + t];
    const mask = trainOf(x, scale, bl, full, rng);
    bits[t] = mask;
    neg[t] = x < 0 ? -1 : 0;
    if (mask !== 0) active++;
  }
  return active;
}
