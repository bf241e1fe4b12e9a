/**
 * The ziggurat for standard normal variates (Marsaglia & Tsang 2000): the table solver, the two
 * tables built with it, and the helpers of the rejection path (base-strip tail, portable exp).
 *
 * Separate from the generator (rng.ts) and the normal stream (normal-stream.ts) because both
 * read it: Rng.normal the 128-layer tables, the devices' normal stream the 1024-layer ones, which
 * the WebAssembly kernel also copies into its memory. Imports nothing, so rng.ts can import it
 * without a cycle.
 */

/**
 * Marsaglia & Tsang's table recurrence for `n` layers, each of area `v`, the base strip's tail
 * starting at `r`, scaled for signed integer values |hz| < `m`: the fast acceptance bounds k
 * (|hz| < k[i]), the scales w (value hz * w[i]) and f[i] = exp(-x_i^2 / 2) (wedge test), all in
 * float64. Both tables below come out of this one solver, op for op as they did when each had
 * its own copy of the loop, so their bits are unchanged.
 */
function solveZiggurat(
  n: number,
  r: number,
  v: number,
  m: number,
): { k: Float64Array; w: Float64Array; f: Float64Array } {
  const kf = new Float64Array(n);
  const w = new Float64Array(n);
  const f = new Float64Array(n);
  let dn = r;
  let tn = dn;
  const q = v / Math.exp(-0.5 * dn * dn);
  kf[0] = (dn / q) * m;
  kf[1] = 0;
  w[0] = q / m;
  w[n - 1] = dn / m;
  f[0] = 1;
  f[n - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = n - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(v / dn + Math.exp(-0.5 * dn * dn)));
    kf[i + 1] = (dn / tn) * m;
    tn = dn;
    f[i] = Math.exp(-0.5 * dn * dn);
    w[i] = dn / m;
  }
  return { k: kf, w, f };
}

// ---- ziggurat tables (Marsaglia & Tsang 2000, 128 layers), scaled for 25-bit signed values ----
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_M = 16777216; // 2^24: |hz| < 2^24

/**
 * Rng.normal's ziggurat: 128 layers, index = low 7 bits of a word, hz = its signed upper 25 bits;
 * k, w, f in float64 (see solveZiggurat), r the start of the base strip's tail.
 */
export const ZIGGURAT_128 = { ...solveZiggurat(128, ZIG_R, ZIG_V, ZIG_M), r: ZIG_R } as const;

// ---- the ziggurat of the devices' per-pulse normal stream (1024 layers) ----

/**
 * The normal stream's ziggurat: Marsaglia & Tsang's construction with 1024 layers (99.57 % fast
 * acceptance, against 97.2 % with 128: the rejection path is what costs), index = low 10 bits of
 * a word, hz = its signed upper 22 bits (a layer's width in 2^21 steps), in the
 * forms a SIMD kernel uses: the acceptance bound as an integer (|hz| < K <=> |hz| < ceil(K) for
 * integer hz) and the scale as a float32 (hz * w32 is exact in float64, so one rounding to float32
 * gives the float32 product). The WebAssembly kernel copies these very arrays into its memory.
 */
export const ZIGGURAT = (() => {
  // r: start of the tail, v: area of each layer (solved for 1024 equal layers; the published
  // 128- and 256-layer values come out of the same solver to 12 digits)
  const n = 1024;
  const r = 4.038849846109494;
  const v = 0.0012263246463530878;
  const m = 2097152; // 2^21: |hz| < 2^21
  const { k: kf, w, f } = solveZiggurat(n, r, v, m);
  return {
    /** ceil(K[i]): fast acceptance |hz| < k[i] */
    k: Int32Array.from(kf, (x) => Math.ceil(x)),
    /** float32(W[i]): fast value hz * w32[i] */
    w32: Float32Array.from(w),
    /** W[i] in float64 (wedge test) */
    w,
    /** f(x_i) = exp(-x_i^2 / 2) (wedge test) */
    f,
    /** start of the base strip's tail */
    r,
  } as const;
})();

const EXP_LN2_HI = 6.9314718036912381649e-1;
const EXP_LN2_LO = 1.90821492927058770002e-10;
const EXP_INV_LN2 = 1.4426950408889634;
const EXP_P1 = 1.66666666666666019037e-1;
const EXP_P2 = -2.77777777770155933842e-3;
const EXP_P3 = 6.61375632143793436117e-5;
const EXP_P4 = -1.6533902205465251539e-6;
const EXP_P5 = 4.13813679705723846039e-8;

/**
 * exp(t) for t <= 0 (fdlibm's algorithm, error < 1 ulp) written with nothing but IEEE-754
 * +, -, *, / and floor, so that it gives the same bits in JavaScript and in the WebAssembly
 * kernel (assembly/pulse/normal-stream.ts holds the same code; Math.exp may differ between engines in the last
 * bit). Used by the ziggurat's wedge test of the normal stream.
 */
export function zigExp(t: number): number {
  if (!(t > -700)) return 0;
  const k = Math.floor(EXP_INV_LN2 * t + 0.5);
  const hi = t - k * EXP_LN2_HI;
  const lo = k * EXP_LN2_LO;
  const r = hi - lo;
  const r2 = r * r;
  const c = r - r2 * (EXP_P1 + r2 * (EXP_P2 + r2 * (EXP_P3 + r2 * (EXP_P4 + r2 * EXP_P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  return y * POW2_NEG[-k];
}

/** POW2_NEG[i] = 2^-i (exact: repeated halving stays in the normal range), i <= 1021. */
const POW2_NEG = (() => {
  const t = new Float64Array(1022);
  t[0] = 1;
  for (let i = 1; i < t.length; i++) t[i] = t[i - 1] * 0.5;
  return t;
})();

/**
 * The ziggurat's base-strip tail (|x| > R, Marsaglia 1964) from `rng`: the one rare branch of the
 * normal stream that uses Math.log. The WebAssembly kernel calls back into this very function
 * (on the tail generator whose state lives in its memory), so both paths give the same bits.
 * `rng` is an Rng; typed by the one method used so that this module need not import rng.ts.
 */
export function zigTail(rng: { uniformPositive(): number }, hz: number): number {
  const r = ZIGGURAT.r;
  let xt: number;
  let yt: number;
  do {
    xt = -Math.log(rng.uniformPositive()) / r;
    yt = -Math.log(rng.uniformPositive());
  } while (yt + yt < xt * xt);
  return hz > 0 ? r + xt : -r - xt;
}
