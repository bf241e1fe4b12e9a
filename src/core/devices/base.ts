/**
 * The shared machinery of every pulsed device: per-weight hidden parameters drawn once at tile
 * creation (device-to-device variation, docs/science.md §4.1), cycle-to-cycle noise per pulse
 * (§4.2), write noise on a hidden persistent weight (§4.3), clipping to each weight's bounds, and
 * the row kernel that turns pulse-train coincidences into pulses.
 *
 * A family supplies the deterministic step of one up or down pulse at weight value w
 * (`upStep`, `downStep`: dw_min * q(w) with this weight's gains) and may override `pulseRow` or
 * `applyPulses` with a faster but exactly equivalent loop.
 *
 * Families with a WebAssembly kernel (constant-step and the affine family, without write noise)
 * report a `kernelMode`; their `pulseRow` is then the TypeScript reference of that kernel: the
 * same float32 arithmetic and the same order of the per-pulse normals (see src/core/kernels/).
 */
import { NormalStream } from '../normal-stream.ts';
import type { Rng } from '../rng.ts';
import type { DeviceParams } from './params.ts';

/**
 * Noisy rows are pulsed in blocks of this many columns: within a block round by round (round p
 * gives the p-th pulse to every weight with more than p coincidences, in column order), blocks
 * in column order; the normals are taken in that order (the kernel keeps a block in registers).
 */
export const PULSE_BLOCK = 16;

/**
 * Kernel modes (the WebAssembly kernel's `mode`): which row kernel a device's pulses follow.
 * `none`: TypeScript only (other families, write noise).
 */
export const KernelMode = {
  none: 0,
  /** constant step, no cycle-to-cycle noise: w + n * step, clipped once (exact, see constant-step.ts) */
  constant: 1,
  /** constant step with noise: pulses one by one, normals in pulse-major order */
  constantNoise: 2,
  /** affine step, no noise: pulses one by one */
  affine: 3,
  /** affine step, additive noise */
  affineAdditive: 4,
  /** affine step, multiplicative noise */
  affineMultiplicative: 5,
  /** constant step with noise, each weight's pulses of an update in closed form (closed-form.ts) */
  constantClosedForm: 6,
  /** affine step with additive noise, in closed form */
  affineClosedForm: 7,
} as const;

/** popcount of a 32-bit integer (SWAR). */
export function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) | 0;
}

export interface CommonHidden {
  bMin: Float32Array;
  bMax: Float32Array;
  sUp: Float32Array;
  sDown: Float32Array;
}

/**
 * Draws bounds and step sizes of `size` weights (aihwkit populate, enforce_consistency on).
 * The asymmetry is symmetric (docs/science.md §2.4): up step dw*(gain + c + r), down dw*(gain - c - r),
 * with r ~ up_down_dtod * xi. Every spread multiplies a normal, so 0 switches it off exactly.
 */
export function populateCommon(p: DeviceParams, size: number, rng: Rng): CommonHidden {
  const bMin = new Float32Array(size);
  const bMax = new Float32Array(size);
  const sUp = new Float32Array(size);
  const sDown = new Float32Array(size);
  const c = p.asymmetry ?? 0;
  const dwDtod = p.dw_min_dtod ?? 0;
  const logNormal = p.dw_min_dtod_log_normal ?? false;
  const udDtod = p.up_down_dtod ?? 0;
  const maxDtod = p.w_max_dtod ?? 0;
  const minDtod = p.w_min_dtod ?? 0;
  for (let i = 0; i < size; i++) {
    let hi = p.w_max * (1 + maxDtod * rng.normal());
    let lo = p.w_min * (1 + minDtod * rng.normal());
    const xiGain = rng.normal();
    const gain = logNormal ? Math.exp(dwDtod * xiGain) : 1 + dwDtod * xiGain;
    const r = udDtod * rng.normal();
    if (lo > hi) {
      const t = lo;
      lo = hi;
      hi = t;
    }
    bMax[i] = Math.abs(hi);
    bMin[i] = -Math.abs(lo);
    sUp[i] = Math.abs(p.dw_min * (gain + c + r));
    sDown[i] = Math.abs(p.dw_min * (gain - c - r));
  }
  return { bMin, bMax, sUp, sDown };
}

export abstract class PulsedDevice {
  readonly kind: string;
  readonly size: number;
  readonly dwMin: number;
  /** The step that update management counts pulses in (aihwkit weight_granularity). */
  readonly granularity: number;
  // The per-weight arrays below are read-only for callers; `moveArrays` may replace them once,
  // when a tile moves them into its kernel's memory before any use.
  /** Per-weight bounds of the visible weight. */
  bMin: Float32Array;
  bMax: Float32Array;
  /** Per-weight mean step magnitudes (dw_min with this weight's gain and asymmetry). */
  sUp: Float32Array;
  sDown: Float32Array;
  /** Cycle-to-cycle noise relative to the step (dw_min_std). */
  protected readonly std: number;
  protected readonly multNoise: boolean;
  /** Absolute write-noise std (write_noise_std * dw_min); 0 = off. */
  protected readonly writeStd: number;
  /** Hidden persistent weights that receive the pulses when write noise is on. */
  readonly hidden: Float32Array | null;
  /** The per-pulse cycle-to-cycle (and write-noise) normals. */
  readonly noise: NormalStream;
  /**
   * Rank-1 updates apply each weight's pulses in closed form where the family has one
   * (update.closed_form_pulses; set by the tile before any update).
   */
  closedForm = false;
  /** Scratch of the reference row kernels: coincidences and active columns of one row. */
  protected rowCount = new Int32Array(0);
  protected rowList = new Int32Array(0);
  protected rowTotal = 0;

  constructor(p: DeviceParams, size: number, hidden: CommonHidden, rng: Rng, granularity: number) {
    this.kind = p.kind;
    this.size = size;
    this.dwMin = p.dw_min;
    this.granularity = granularity;
    this.bMin = hidden.bMin;
    this.bMax = hidden.bMax;
    this.sUp = hidden.sUp;
    this.sDown = hidden.sDown;
    this.std = p.dw_min_std ?? 0;
    this.multNoise = p.mult_noise ?? false;
    this.writeStd = (p.write_noise_std ?? 0) * p.dw_min;
    this.hidden = this.writeStd > 0 ? new Float32Array(size) : null;
    this.noise = new NormalStream(rng);
  }

  /** Deterministic magnitude of one up pulse at value w of weight i. */
  abstract upStep(w: number, i: number): number;
  /** Deterministic magnitude of one down pulse at value w of weight i. */
  abstract downStep(w: number, i: number): number;

  /** Next standard normal from the device's noise stream (block-generated). */
  protected normal(): number {
    return this.noise.next();
  }

  /** The WebAssembly kernel this device's pulses follow (`KernelMode`), none by default. */
  kernelMode(): number {
    return KernelMode.none;
  }

  /** Cycle-to-cycle noise std as the kernels use it (float32). */
  kernelStd(): number {
    return Math.fround(this.std);
  }

  /**
   * Replaces each per-weight array by `alloc(array)` (a copy elsewhere, e.g. in a WebAssembly
   * memory). Called once by the tile, right after construction, before anyone holds the arrays.
   */
  moveArrays(alloc: (a: Float32Array) => Float32Array): void {
    this.bMin = alloc(this.bMin);
    this.bMax = alloc(this.bMax);
    this.sUp = alloc(this.sUp);
    this.sDown = alloc(this.sDown);
  }

  /** Makes rowCount and rowList hold at least `cols` entries (call before reading them). */
  protected reserveRow(cols: number): void {
    if (this.rowCount.length < cols) {
      this.rowCount = new Int32Array(cols);
      this.rowList = new Int32Array(cols);
    }
  }

  /**
   * Coincidences of columns [from, to) of one row: rowCount[j] = popcount(rowBits & colBits[j])
   * and rowList[0 .. active) the columns with rowCount > 0, ascending. Returns the active count;
   * their total is left in `rowTotal`.
   */
  protected rowCounts(rowBits: number, colBits: Int32Array, from: number, to: number): number {
    const cnt = this.rowCount;
    const list = this.rowList;
    let active = 0;
    let total = 0;
    for (let j = from; j < to; j++) {
      const n = popcount32(rowBits & colBits[j]);
      cnt[j] = n;
      if (n !== 0) {
        list[active++] = j;
        total += n;
      }
    }
    this.rowTotal = total;
    return active;
  }

  /** Applies |n| pulses one by one to weight i (n > 0 up, n < 0 down), with noise and clipping. */
  applyPulses(w: Float32Array, i: number, n: number): void {
    const h = this.hidden;
    let v = h === null ? w[i] : h[i];
    const lo = this.bMin[i];
    const hi = this.bMax[i];
    const std = this.std;
    if (n > 0) {
      const sRef = this.sUp[i];
      for (let k = 0; k < n; k++) {
        const s = this.upStep(v, i);
        v += std === 0 ? s : s + (this.multNoise ? s : sRef) * std * this.normal();
        v = v > hi ? hi : v < lo ? lo : v;
      }
    } else {
      const sRef = this.sDown[i];
      for (let k = 0; k < -n; k++) {
        const s = this.downStep(v, i);
        v -= std === 0 ? s : s + (this.multNoise ? s : sRef) * std * this.normal();
        v = v > hi ? hi : v < lo ? lo : v;
      }
    }
    this.store(w, i, v);
  }

  /** Writes the new hidden value and the visible value (with fresh write noise when on). */
  protected store(w: Float32Array, i: number, v: number): void {
    if (this.hidden === null) w[i] = v;
    else {
      this.hidden[i] = v;
      w[i] = v + this.writeStd * this.normal();
    }
  }

  /**
   * Pulses of one row of a rank-1 update, trains in dense form (colBits[j], colNeg[j], j < cols):
   * the coincidences of weight (row, j) are popcount(rowBits & colBits[j]); they go up where
   * rowNeg ^ colNeg[j] is set (signs of d_row and x_j differ: dW = -lr d x^T > 0). Here each
   * weight in turn gets all its pulses (applyPulses). Returns the number of pulses applied.
   */
  pulseRow(
    w: Float32Array,
    rowOff: number,
    rowBits: number,
    rowNeg: number,
    colBits: Int32Array,
    colNeg: Int32Array,
    cols: number,
  ): number {
    let total = 0;
    for (let j = 0; j < cols; j++) {
      const n = popcount32(rowBits & colBits[j]);
      if (n !== 0) {
        total += n;
        this.applyPulses(w, rowOff + j, (rowNeg ^ colNeg[j]) !== 0 ? n : -n);
      }
    }
    return total;
  }

  /** Programs weights to the given values (clipped to each device's range), as set_weights. */
  program(w: Float32Array, values: ArrayLike<number>): void {
    for (let i = 0; i < this.size; i++) {
      const v = values[i];
      this.store(w, i, v > this.bMax[i] ? this.bMax[i] : v < this.bMin[i] ? this.bMin[i] : v);
    }
  }

  /**
   * The symmetric point of weight i (where up and down steps are equal), by bisection on
   * upStep - downStep over the weight's range; NaN when the steps never cross.
   */
  symmetricPoint(i: number): number {
    let lo = this.bMin[i];
    let hi = this.bMax[i];
    const g = (v: number): number => this.upStep(v, i) - this.downStep(v, i);
    let glo = g(lo);
    if (glo === 0) return lo;
    if (Math.sign(glo) === Math.sign(g(hi))) return Number.NaN;
    for (let k = 0; k < 100; k++) {
      const mid = 0.5 * (lo + hi);
      const gm = g(mid);
      if (gm === 0) return mid;
      if (Math.sign(gm) === Math.sign(glo)) {
        lo = mid;
        glo = gm;
      } else hi = mid;
    }
    return 0.5 * (lo + hi);
  }
}
