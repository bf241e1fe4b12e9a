/**
 * Forward / backward IO model of an analog crossbar tile (aihwkit's IOParameters; docs/science.md §5):
 * noise management, DAC quantisation and clipping, analog MAC, output noise, ADC quantisation
 * and clipping, iterative bound management. Also the exact batched matrix-vector kernels that
 * the MAC (and the ideal IO) runs on.
 *
 * Layout: a tile's W is `rows x cols` row-major (out x in). Batches are row-major too: vector b
 * of a batch of length-n vectors occupies [b*n, (b+1)*n).
 */
import { ConfigError } from './config/schema.ts';
import type { Rng } from './rng.ts';

export interface IoConfig {
  /** 'ideal' = exact W x; every other field is ignored. */
  kind: 'ideal' | 'noisy';
  /** Relative DAC step: a value > 1 is a number of steps (step 1/value); <= 0 means no quantisation. */
  inp_res: number;
  /** DAC range [-inp_bound, inp_bound]. */
  inp_bound: number;
  /** Std of additive Gaussian noise on the DAC output. */
  inp_noise: number;
  inp_sto_round: boolean;
  /** Relative ADC step (same conventions as inp_res); no quantisation when out_bound <= 0. */
  out_res: number;
  /** ADC range [-out_bound, out_bound]; <= 0 means unbounded. */
  out_bound: number;
  /** Std of additive Gaussian noise at each output, before the ADC. */
  out_noise: number;
  out_sto_round: boolean;
  noise_management: 'none' | 'abs-max';
  /** abs-max: alpha = min(max|x|, nm_thres) when nm_thres > 0. */
  nm_thres: number;
  /** Forward only; the backward pass never applies bound management. */
  bound_management: 'none' | 'iterative';
  max_bm_factor: number;
  max_bm_res: number;
}

export const IO_DEFAULTS: IoConfig = Object.freeze({
  kind: 'ideal',
  inp_res: 1 / 126,
  inp_bound: 1,
  inp_noise: 0,
  inp_sto_round: false,
  out_res: 1 / 510,
  out_bound: 12,
  out_noise: 0.06,
  out_sto_round: false,
  noise_management: 'abs-max',
  nm_thres: 0,
  bound_management: 'iterative',
  max_bm_factor: 1000,
  max_bm_res: 0.25,
});

/** The IO of transfer reads: a one-hot input needs no noise or bound management. */
export type TransferIoConfig = Omit<
  IoConfig,
  'noise_management' | 'nm_thres' | 'bound_management' | 'max_bm_factor' | 'max_bm_res'
>;

/** Throws a ConfigError naming `${path}.<field>`, the offending value and the allowed range. */
export function validateIo(cfg: IoConfig, path: string): void {
  const oneOf = (field: keyof IoConfig, values: readonly string[]): void => {
    const v = cfg[field];
    if (typeof v !== 'string' || !values.includes(v)) {
      throw new ConfigError(`${path}.${field}`, `must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    }
  };
  const number = (field: keyof IoConfig, min: number | null, strict: boolean): void => {
    const v = cfg[field];
    const range = min === null ? 'a finite number' : `${strict ? '>' : '>='} ${min}`;
    const ok = typeof v === 'number' && Number.isFinite(v) && (min === null || (strict ? v > min : v >= min));
    if (!ok) throw new ConfigError(`${path}.${field}`, `must be ${range}, got ${JSON.stringify(v)}`);
  };
  const flag = (field: keyof IoConfig): void => {
    if (typeof cfg[field] !== 'boolean') {
      throw new ConfigError(`${path}.${field}`, `must be true or false, got ${JSON.stringify(cfg[field])}`);
    }
  };
  oneOf('kind', ['ideal', 'noisy']);
  number('inp_res', null, false);
  number('inp_bound', 0, true);
  number('inp_noise', 0, false);
  flag('inp_sto_round');
  number('out_res', null, false);
  number('out_bound', null, false);
  number('out_noise', 0, false);
  flag('out_sto_round');
  oneOf('noise_management', ['none', 'abs-max']);
  number('nm_thres', 0, false);
  oneOf('bound_management', ['none', 'iterative']);
  number('max_bm_factor', 1, false);
  number('max_bm_res', 0, true);
}

// The kernels below process 3 batch vectors x 3 weight rows (columns) per sweep: each loaded
// weight feeds 3 products and each loaded input 3, with 9 independent double accumulators to
// hide the add latency (V8 emits scalar SSE code; 3x3 measured faster than 4x2, 4x3 or 3x4,
// which run out of registers or issue more bounds-checked loads per product). Every output is
// summed in index order, so the results equal a naive double-precision loop bit for bit.

/**
 * Batched y[b*rows + i] = sum_j W[i*cols + j] * x[b*cols + j] for b < batch (W row-major rows x cols). Exact, no IO.
 */
export function matmulForward(
  W: Float32Array,
  rows: number,
  cols: number,
  x: Float32Array,
  y: Float32Array,
  batch: number,
): void {
  let b = 0;
  for (; b + 3 <= batch; b += 3) {
    const x0 = b * cols;
    const x1 = x0 + cols;
    const x2 = x1 + cols;
    let i = 0;
    for (; i + 3 <= rows; i += 3) {
      const p0 = i * cols;
      const p1 = p0 + cols;
      const p2 = p1 + cols;
      // prettier-ignore
      let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
      for (let j = 0; j < cols; j++) {
        const w0 = W[p0 + j];
        const w1 = W[p1 + j];
        const w2 = W[p2 + j];
        const a0 = x[x0 + j];
        const a1 = x[x1 + j];
        const a2 = x[x2 + j];
        s00 += w0 * a0;
        s01 += w0 * a1;
        s02 += w0 * a2;
        s10 += w1 * a0;
        s11 += w1 * a1;
        s12 += w1 * a2;
        s20 += w2 * a0;
        s21 += w2 * a1;
        s22 += w2 * a2;
      }
      const o = b * rows + i;
      y[o] = s00;
      y[o + 1] = s10;
      y[o + 2] = s20;
      y[o + rows] = s01;
      y[o + rows + 1] = s11;
      y[o + rows + 2] = s21;
      y[o + 2 * rows] = s02;
      y[o + 2 * rows + 1] = s12;
      y[o + 2 * rows + 2] = s22;
    }
    for (; i < rows; i++) {
      const p = i * cols;
      // prettier-ignore
      let s0 = 0, s1 = 0, s2 = 0;
      for (let j = 0; j < cols; j++) {
        const w = W[p + j];
        s0 += w * x[x0 + j];
        s1 += w * x[x1 + j];
        s2 += w * x[x2 + j];
      }
      const o = b * rows + i;
      y[o] = s0;
      y[o + rows] = s1;
      y[o + 2 * rows] = s2;
    }
  }
  // Remaining 0..2 vectors: 4 rows per sweep share each loaded input.
  for (; b < batch; b++) {
    const x0 = b * cols;
    const o = b * rows;
    let i = 0;
    for (; i + 4 <= rows; i += 4) {
      const p0 = i * cols;
      const p1 = p0 + cols;
      const p2 = p1 + cols;
      const p3 = p2 + cols;
      // prettier-ignore
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < cols; j++) {
        const a = x[x0 + j];
        s0 += W[p0 + j] * a;
        s1 += W[p1 + j] * a;
        s2 += W[p2 + j] * a;
        s3 += W[p3 + j] * a;
      }
      y[o + i] = s0;
      y[o + i + 1] = s1;
      y[o + i + 2] = s2;
      y[o + i + 3] = s3;
    }
    for (; i < rows; i++) {
      const p = i * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += W[p + j] * x[x0 + j];
      y[o + i] = s;
    }
  }
}

/** Batched z[b*cols + j] = sum_i W[i*cols + j] * d[b*rows + i]  (i.e. W^T d). Exact, no IO. */
export function matmulBackward(
  W: Float32Array,
  rows: number,
  cols: number,
  d: Float32Array,
  z: Float32Array,
  batch: number,
): void {
  // Walks W down triples of columns: the stride is one row, but each cache line touched serves
  // the next few column triples too, and for the tile sizes used here those lines stay in L1/L2.
  let b = 0;
  for (; b + 3 <= batch; b += 3) {
    const d0 = b * rows;
    const d1 = d0 + rows;
    const d2 = d1 + rows;
    let j = 0;
    for (; j + 3 <= cols; j += 3) {
      // prettier-ignore
      let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
      for (let i = 0, p = j; i < rows; i++, p += cols) {
        const w0 = W[p];
        const w1 = W[p + 1];
        const w2 = W[p + 2];
        const a0 = d[d0 + i];
        const a1 = d[d1 + i];
        const a2 = d[d2 + i];
        s00 += w0 * a0;
        s01 += w0 * a1;
        s02 += w0 * a2;
        s10 += w1 * a0;
        s11 += w1 * a1;
        s12 += w1 * a2;
        s20 += w2 * a0;
        s21 += w2 * a1;
        s22 += w2 * a2;
      }
      const o = b * cols + j;
      z[o] = s00;
      z[o + 1] = s10;
      z[o + 2] = s20;
      z[o + cols] = s01;
      z[o + cols + 1] = s11;
      z[o + cols + 2] = s21;
      z[o + 2 * cols] = s02;
      z[o + 2 * cols + 1] = s12;
      z[o + 2 * cols + 2] = s22;
    }
    for (; j < cols; j++) {
      // prettier-ignore
      let s0 = 0, s1 = 0, s2 = 0;
      for (let i = 0, p = j; i < rows; i++, p += cols) {
        const w = W[p];
        s0 += w * d[d0 + i];
        s1 += w * d[d1 + i];
        s2 += w * d[d2 + i];
      }
      const o = b * cols + j;
      z[o] = s0;
      z[o + cols] = s1;
      z[o + 2 * cols] = s2;
    }
  }
  for (; b < batch; b++) {
    const d0 = b * rows;
    const o = b * cols;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      // prettier-ignore
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0, p = j; i < rows; i++, p += cols) {
        const a = d[d0 + i];
        s0 += W[p] * a;
        s1 += W[p + 1] * a;
        s2 += W[p + 2] * a;
        s3 += W[p + 3] * a;
      }
      z[o + j] = s0;
      z[o + j + 1] = s1;
      z[o + j + 2] = s2;
      z[o + j + 3] = s3;
    }
    for (; j < cols; j++) {
      let s = 0;
      for (let i = 0, p = j; i < rows; i++, p += cols) s += W[p] * d[d0 + i];
      z[o + j] = s;
    }
  }
}

/** The signature of matmulForward / matmulBackward. */
export type MatmulFn = (
  W: Float32Array,
  rows: number,
  cols: number,
  input: Float32Array,
  output: Float32Array,
  batch: number,
) => void;

/**
 * An implementation of both exact products with the contracts (and bit-exact results) of
 * matmulForward / matmulBackward, e.g. the WebAssembly kernel (src/core/kernels/matmul-kernel.ts).
 */
export interface MatmulImpl {
  forward: MatmulFn;
  backward: MatmulFn;
}

/** Round half to even, like C's rint (aihwkit's RPU_ROUNDFUN), so that ties are unbiased. */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Absolute converter step from a relative resolution and a bound (0: no quantisation). */
function converterStep(res: number, bound: number): number {
  if (!(res > 0) || !(bound > 0)) return 0;
  const rel = res > 1 ? 1 / res : res;
  return rel * 2 * bound;
}

/**
 * One direction (forward `y = IO(W x)` or backward `z = IO(W^T d)`) of a tile's IO. All scratch
 * memory is sized in the constructor for up to `maxBatch` vectors, so `apply` allocates nothing.
 * Noise is drawn from the rng passed to `apply`, pass by pass, in vector order and within a
 * vector in element order: input stage (stochastic-rounding uniform, then input noise, per
 * element), then output stage (output noise, then stochastic-rounding uniform, per output).
 */
export class IoPath {
  private readonly cfg: IoConfig;
  private readonly backward: boolean;
  private readonly maxBatch: number;
  private readonly rows: number;
  private readonly cols: number;
  private readonly inSize: number;
  private readonly outSize: number;
  private readonly inpStep: number;
  private readonly outStep: number;
  private readonly outBound: number;
  private readonly boundManagement: boolean;
  /** Largest r the BM loop may still double (both of aihwkit's limits). */
  private readonly maxR: number;
  /** DAC outputs of the active vectors, compacted: row a belongs to vector active[a]. */
  private readonly xq: Float32Array;
  /** Analog MAC results of the active vectors, compacted like xq. */
  private readonly yq: Float32Array;
  /** Per vector: noise-management scale alpha and bound-management reduction r. */
  private readonly alpha: Float64Array;
  private readonly reduction: Float64Array;
  private readonly active: Int32Array;
  /** The exact product this direction runs (the TypeScript reference unless an impl is given). */
  private readonly kernel: MatmulFn;

  /** `impl`: the products to run instead of matmulForward / matmulBackward (same results). */
  constructor(
    cfg: IoConfig,
    direction: 'forward' | 'backward',
    maxBatch: number,
    rows: number,
    cols: number,
    impl?: MatmulImpl,
  ) {
    for (const [name, v] of [
      ['maxBatch', maxBatch],
      ['rows', rows],
      ['cols', cols],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new RangeError(`IoPath: ${name} must be a positive integer, got ${v}`);
    }
    this.cfg = cfg;
    this.backward = direction === 'backward';
    if (impl === undefined) this.kernel = this.backward ? matmulBackward : matmulForward;
    else this.kernel = this.backward ? impl.backward.bind(impl) : impl.forward.bind(impl);
    this.maxBatch = maxBatch;
    this.rows = rows;
    this.cols = cols;
    this.inSize = this.backward ? rows : cols;
    this.outSize = this.backward ? cols : rows;
    this.inpStep = converterStep(cfg.inp_res, cfg.inp_bound);
    this.outStep = converterStep(cfg.out_res, cfg.out_bound);
    this.outBound = cfg.out_bound > 0 ? cfg.out_bound : Infinity;
    this.boundManagement = !this.backward && cfg.bound_management === 'iterative' && this.outBound < Infinity;
    this.maxR = this.inpStep > 0 ? Math.min(cfg.max_bm_factor, cfg.max_bm_res / this.inpStep) : cfg.max_bm_factor;
    const noisy = cfg.kind === 'noisy';
    this.xq = new Float32Array(noisy ? maxBatch * this.inSize : 0);
    this.yq = new Float32Array(noisy ? maxBatch * this.outSize : 0);
    this.alpha = new Float64Array(noisy ? maxBatch : 0);
    this.reduction = new Float64Array(noisy ? maxBatch : 0);
    this.active = new Int32Array(noisy ? maxBatch : 0);
  }

  /**
   * forward: y = IO(W x) for each of `batch` vectors; backward: z = IO(W^T d). Just the product (matmul* or the impl)
   * when cfg.kind === 'ideal'.
   */
  apply(W: Float32Array, input: Float32Array, output: Float32Array, batch: number, rng: Rng): void {
    const { rows, cols, inSize, outSize } = this;
    if (!(Number.isInteger(batch) && batch >= 0 && batch <= this.maxBatch)) {
      throw new RangeError(`IoPath.apply: batch must be an integer in [0, ${this.maxBatch}], got ${batch}`);
    }
    if (W.length < rows * cols || input.length < batch * inSize || output.length < batch * outSize) {
      throw new RangeError(`IoPath.apply: arrays too short for a ${rows}x${cols} tile and batch ${batch}`);
    }
    const kernel = this.kernel;
    if (this.cfg.kind === 'ideal') {
      kernel(W, rows, cols, input, output, batch);
      return;
    }
    const { alpha, reduction, active, xq, yq } = this;
    const nm = this.cfg.noise_management === 'abs-max';
    const thres = this.cfg.nm_thres;
    let n = 0;
    for (let b = 0; b < batch; b++) {
      let a = 1;
      if (nm) {
        a = 0;
        for (let j = b * inSize, end = j + inSize; j < end; j++) {
          const v = Math.abs(input[j]);
          if (v > a) a = v;
        }
        if (thres > 0 && a > thres) a = thres;
      }
      if (a > 0) {
        alpha[b] = a;
        reduction[b] = 1;
        active[n++] = b;
      } else {
        output.fill(0, b * outSize, (b + 1) * outSize);
      }
    }
    // Bound management: vectors whose output hit the bound are redone, all together, with
    // their input scale halved, until they pass or r reaches its limit.
    while (n > 0) {
      for (let a = 0; a < n; a++) this.convertInput(input, active[a], a, rng);
      kernel(W, rows, cols, xq, yq, n);
      let failed = 0;
      for (let a = 0; a < n; a++) {
        const b = active[a];
        if (this.convertOutput(a, b, output, rng) && reduction[b] <= this.maxR) {
          reduction[b] *= 2;
          active[failed++] = b;
        }
      }
      n = failed;
    }
  }

  /** DAC of vector b into xq row `slot`: scale by 1/(alpha*r), quantise, clip, add input noise. */
  private convertInput(input: Float32Array, b: number, slot: number, rng: Rng): void {
    const { inSize, inpStep, xq } = this;
    const { inp_bound: bound, inp_noise: noise, inp_sto_round: sto } = this.cfg;
    const scale = 1 / (this.alpha[b] * this.reduction[b]);
    const invStep = inpStep > 0 ? 1 / inpStep : 0;
    const src = b * inSize;
    const dst = slot * inSize;
    for (let j = 0; j < inSize; j++) {
      let v = input[src + j] * scale;
      if (inpStep > 0) v = rint(v * invStep + (sto ? rng.uniform() - 0.5 : 0)) * inpStep;
      if (v > bound) v = bound;
      else if (v < -bound) v = -bound;
      if (noise > 0) v += noise * rng.normal();
      xq[dst + j] = v;
    }
  }

  /**
   * ADC of yq row `slot` into output vector b: add output noise, quantise, clip, scale back by
   * alpha*r. Returns whether bound management must redo the vector (some output hit the bound).
   */
  private convertOutput(slot: number, b: number, output: Float32Array, rng: Rng): boolean {
    const { outSize, outStep, outBound, yq } = this;
    const { out_noise: noise, out_sto_round: sto } = this.cfg;
    const back = this.alpha[b] * this.reduction[b];
    const invStep = outStep > 0 ? 1 / outStep : 0;
    const src = slot * outSize;
    const dst = b * outSize;
    let hit = false;
    for (let i = 0; i < outSize; i++) {
      let v = yq[src + i];
      if (noise > 0) v += noise * rng.normal();
      if (outStep > 0) v = rint(v * invStep + (sto ? rng.uniform() - 0.5 : 0)) * outStep;
      if (v > outBound) {
        v = outBound;
        hit = true;
      } else if (v < -outBound) {
        v = -outBound;
        hit = true;
      }
      output[dst + i] = v * back;
    }
    return hit && this.boundManagement;
  }
}
