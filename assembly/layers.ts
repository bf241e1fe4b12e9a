/**
 * WebAssembly (SIMD) kernels of the network modules (src/core/models/layers.ts): im2col and its
 * transpose for the convolutions, the layout changes between the matrix's patch-major rows and
 * the modules' channel-major maps, the conv bias gradient, max pooling and the tanh / relu
 * activations. Each is the bit-identical twin of a TypeScript loop there (the reference, which
 * runs where the module is missing; test/layers-kernel.test.ts compares them bit for bit):
 *   - copies and layout changes move float32 bits unchanged;
 *   - sums keep the reference's order of float32 (or float64) additions for every output;
 *   - tanh is V8's Math.tanh (fdlibm's s_tanh.c and s_expm1.c, the algorithm V8 ships in
 *     src/base/ieee754.cc) ported operation by operation in float64, so the float64 results
 *     are the same and so their float32 roundings (checked for every float32 input by
 *     scripts in the test).
 * All arrays are float32 (argmax i32) at byte addresses of the module's memory.
 */

// ---- tanh: fdlibm's algorithm in float64, as V8's Math.tanh ----

@inline function highWord(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >>> 32);
}
@inline function fromHigh(hi: i32): f64 {
  return reinterpret<f64>(<u64><u32>hi << 32);
}

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INVLN2: f64 = 1.44269504088896338700e+00;
const Q1: f64 = -3.33333333333331316428e-02;
const Q2: f64 = 1.58730158725481460165e-03;
const Q3: f64 = -7.93650757867487942473e-05;
const Q4: f64 = 4.00821782732936239552e-06;
const Q5: f64 = -2.01099218183624371326e-07;
const O_THRESHOLD: f64 = 7.09782712893383973096e+02;
const HUGE: f64 = 1.0e+300;
const TINY: f64 = 1.0e-300;

/** exp(x) - 1 (fdlibm s_expm1.c). */
function expm1(xIn: f64): f64 {
  let x = xIn;
  let hx = <u32>highWord(x);
  const xsb = hx & 0x80000000;
  hx &= 0x7fffffff;
  if (hx >= 0x4043687a) {
    if (hx >= 0x40862e42) {
      if (hx >= 0x7ff00000) {
        const low = <u32>reinterpret<u64>(x);
        if (((hx & 0xfffff) | low) != 0) return x + x;
        return xsb == 0 ? x : -1.0;
      }
      if (x > O_THRESHOLD) return HUGE * HUGE;
    }
    if (xsb != 0) {
      if (x + TINY < 0.0) return TINY - 1.0;
    }
  }
  let hi: f64 = 0;
  let lo: f64 = 0;
  let c: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3fd62e42) {
    if (hx < 0x3ff0a2b2) {
      if (xsb == 0) {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      } else {
        hi = x + LN2_HI;
        lo = -LN2_LO;
        k = -1;
      }
    } else {
      k = <i32>(INVLN2 * x + (xsb == 0 ? 0.5 : -0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000) {
    const t = HUGE + x;
    return x - (t - (HUGE + x));
  } else {
    k = 0;
  }
  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  let t = 3.0 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);
  const twopk = fromHigh(0x3ff00000 + (k << 20));
  e = x * (e - c) - c;
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  let y: f64;
  if (k <= -2 || k > 56) {
    y = 1.0 - (e - x);
    if (k == 1024) y = y * 2.0 * 8.98846567431158e+307;
    else y = y * twopk;
    return y - 1.0;
  }
  if (k < 20) {
    t = fromHigh(0x3ff00000 - (0x200000 >> k));
    y = t - (e - x);
    y = y * twopk;
  } else {
    t = fromHigh((0x3ff - k) << 20);
    y = x - (e + t);
    y += 1.0;
    y = y * twopk;
  }
  return y;
}

/** tanh(x) (fdlibm s_tanh.c), the float64 result of V8's Math.tanh. */
export function tanh64(x: f64): f64 {
  const jx = highWord(x);
  const ix = jx & 0x7fffffff;
  if (ix >= 0x7ff00000) {
    if (jx >= 0) return 1.0 / x + 1.0;
    return 1.0 / x - 1.0;
  }
  let z: f64;
  if (ix < 0x40360000) {
    if (ix < 0x3e300000) {
      if (HUGE + x > 1.0) return x;
    }
    if (ix >= 0x3ff00000) {
      const t = expm1(2.0 * abs<f64>(x));
      z = 1.0 - 2.0 / (t + 2.0);
    } else {
      const t = expm1(-2.0 * abs<f64>(x));
      z = -t / (t + 2.0);
    }
  } else {
    z = 1.0 - TINY;
  }
  return jx >= 0 ? z : -z;
}


// tanhForward's constants, splatted into its scratch (loaded from memory in the loops: V8 would
// rebuild each splat inside them), at byte offsets from the constants' base
const C_ONE = 0;
const C_TWO = 16;
const C_HALF = 32;
const C_MHALF = 48;
const C_ABS = 64;
const C_SIGN = 80;
const C_K0 = 96;
const C_KM1 = 112;
const C_INVLN2 = 128;
const C_LN2HI = 144;
const C_LN2LO = 160;
const C_Q1 = 176;
const C_Q2 = 192;
const C_Q3 = 208;
const C_Q4 = 224;
const C_Q5 = 240;
const C_THREE = 256;
const C_SIX = 272;
const C_SMALL = 288;
const C_SAT = 304;
const C_TWENTY = 320;
const C_MONE = 336;
const C_ZERO = 352;
const C_BIAS = 368;
const C_BYTES: usize = 384;

function tanhConstants(k: usize): void {
  v128.store(k, f64x2.splat(1.0), C_ONE);
  v128.store(k, f64x2.splat(2.0), C_TWO);
  v128.store(k, f64x2.splat(0.5), C_HALF);
  v128.store(k, f64x2.splat(-0.5), C_MHALF);
  v128.store(k, i64x2.splat(0x7fffffffffffffff), C_ABS);
  v128.store(k, i64x2.splat(0x8000000000000000), C_SIGN);
  v128.store(k, i64x2.splat(0x3fd62e4300000000), C_K0);
  v128.store(k, i64x2.splat(0x3ff0a2b200000000), C_KM1);
  v128.store(k, f64x2.splat(INVLN2), C_INVLN2);
  v128.store(k, f64x2.splat(LN2_HI), C_LN2HI);
  v128.store(k, f64x2.splat(LN2_LO), C_LN2LO);
  v128.store(k, f64x2.splat(Q1), C_Q1);
  v128.store(k, f64x2.splat(Q2), C_Q2);
  v128.store(k, f64x2.splat(Q3), C_Q3);
  v128.store(k, f64x2.splat(Q4), C_Q4);
  v128.store(k, f64x2.splat(Q5), C_Q5);
  v128.store(k, f64x2.splat(3.0), C_THREE);
  v128.store(k, f64x2.splat(6.0), C_SIX);
  v128.store(k, f64x2.splat(3.725290298461914e-9), C_SMALL); // 2^-28
  v128.store(k, f64x2.splat(9.1), C_SAT);
  v128.store(k, f64x2.splat(20.0), C_TWENTY);
  v128.store(k, f64x2.splat(-1.0), C_MONE);
  v128.store(k, f64x2.splat(0.0), C_ZERO);
  v128.store(k, i64x2.splat(1023), C_BIAS);
}

/** 2^k for integer k in [-1022, 1023] (i32 lanes 0 and 1 of kv), as f64x2. */
@inline function pow2(kv: v128, k: usize): v128 {
  return i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(kv), v128.load(k, C_BIAS)), 52);
}

/**
 * tanh64 of float32-valued lanes without branches, in two passes over a block (so that the long
 * chain of dependent operations of one value overlaps with those of its neighbours): every path a
 * float32 input takes through fdlibm (|x| < 2^-28: x; |x| < 1: -t / (t + 2), t = expm1(-2|x|) with
 * k in {0, -1, -2, -3}; 1 <= |x| < 9.1: 1 - 2 / (t + 2), t = expm1(2|x|) with k in [3, 26]) is
 * computed with the same operations on the same values and each lane takes its own; |x| >= 9.1
 * (and the infinities) gives +-1, which fdlibm's value there rounds to in float32. Only for float32
 * inputs (the thresholds assume it) without NaN (the caller's). k: the constants.
 *
 * tanhReduce: expm1's argument reduction and polynomial, per 2 lanes; writes (xr, c, hxs, e, k)
 * to the scratch at s (80 bytes).
 */
@inline function tanhReduce(x: v128, s: usize, k: usize): void {
  const one = v128.load(k, C_ONE);
  const a = v128.and(x, v128.load(k, C_ABS));
  const mid = f64x2.lt(a, one);
  // expm1's argument: -2|x| below 1, 2|x| above
  const two = f64x2.mul(v128.load(k, C_TWO), a);
  const arg = v128.bitselect(v128.xor(two, v128.load(k, C_SIGN)), two, mid);
  const aa = v128.and(arg, v128.load(k, C_ABS));
  // k: 0 for |arg| <= 0.5 ln2 (high word <= 0x3fd62e42), -1 below 1.5 ln2 (only negative
  // arguments get there), else trunc(arg / ln2 +- 0.5)
  const k0 = f64x2.lt(aa, v128.load(k, C_K0));
  const km1 = f64x2.lt(aa, v128.load(k, C_KM1));
  const kr = f64x2.trunc(
    f64x2.add(f64x2.mul(v128.load(k, C_INVLN2), arg), v128.bitselect(v128.load(k, C_MHALF), v128.load(k, C_HALF), mid)),
  );
  const kf = v128.andnot(v128.bitselect(v128.load(k, C_MONE), kr, km1), k0);
  const hi = f64x2.sub(arg, f64x2.mul(kf, v128.load(k, C_LN2HI)));
  const lo = f64x2.mul(kf, v128.load(k, C_LN2LO));
  const xr = v128.bitselect(arg, f64x2.sub(hi, lo), k0);
  const c = f64x2.sub(f64x2.sub(hi, xr), lo);
  const hfx = f64x2.mul(v128.load(k, C_HALF), xr);
  const hxs = f64x2.mul(xr, hfx);
  // 1 + hxs (Q1 + hxs (Q2 + hxs (Q3 + hxs (Q4 + hxs Q5)))), a nesting level a line
  const r1 = f64x2.add(
    one,
    f64x2.mul(hxs, f64x2.add(v128.load(k, C_Q1),
      f64x2.mul(hxs, f64x2.add(v128.load(k, C_Q2),
        f64x2.mul(hxs, f64x2.add(v128.load(k, C_Q3),
          f64x2.mul(hxs, f64x2.add(v128.load(k, C_Q4),
            f64x2.mul(hxs, v128.load(k, C_Q5)))))))))),
  );
  const t = f64x2.sub(v128.load(k, C_THREE), f64x2.mul(r1, hfx));
  const e = f64x2.mul(hxs, f64x2.div(f64x2.sub(r1, t), f64x2.sub(v128.load(k, C_SIX), f64x2.mul(xr, t))));
  v128.store(s, xr);
  v128.store(s, c, 16);
  v128.store(s, hxs, 32);
  v128.store(s, e, 48);
  v128.store(s, kf, 64);
}

/** tanhFinish: expm1's reconstruction by k and tanh from it, with x's sign (see tanhReduce). */
@inline function tanhFinish(x: v128, s: usize, k: usize): v128 {
  const one = v128.load(k, C_ONE);
  const two = v128.load(k, C_TWO);
  const half = v128.load(k, C_HALF);
  const xr = v128.load(s);
  const c = v128.load(s, 16);
  const hxs = v128.load(s, 32);
  const e = v128.load(s, 48);
  const kf = v128.load(s, 64);
  const a = v128.and(x, v128.load(k, C_ABS));
  const small = f64x2.lt(a, v128.load(k, C_SMALL));
  const mid = f64x2.lt(a, one);
  const sat = f64x2.ge(a, v128.load(k, C_SAT));
  const r0 = f64x2.sub(xr, f64x2.sub(f64x2.mul(xr, e), hxs));
  const e2 = f64x2.sub(f64x2.sub(f64x2.mul(xr, f64x2.sub(e, c)), c), hxs);
  const rm1 = f64x2.sub(f64x2.mul(half, f64x2.sub(xr, e2)), half);
  const ki = i32x4.trunc_sat_f64x2_s_zero(kf);
  const twopk = pow2(ki, k);
  const twomk = pow2(i32x4.neg(ki), k);
  const d = f64x2.sub(e2, xr);
  const rneg = f64x2.sub(f64x2.mul(f64x2.sub(one, d), twopk), one);
  const rlt20 = f64x2.mul(f64x2.sub(f64x2.sub(one, twomk), d), twopk);
  const rge20 = f64x2.mul(f64x2.add(f64x2.sub(xr, f64x2.add(e2, twomk)), one), twopk);
  let em = v128.bitselect(rlt20, rge20, f64x2.lt(kf, v128.load(k, C_TWENTY)));
  em = v128.bitselect(rneg, em, f64x2.lt(kf, v128.load(k, C_ZERO)));
  em = v128.bitselect(rm1, em, f64x2.eq(kf, v128.load(k, C_MONE)));
  em = v128.bitselect(r0, em, f64x2.eq(kf, v128.load(k, C_ZERO)));
  // below 1: -t / (t + 2); above: 1 - 2 / (t + 2) (one division for both)
  const q = f64x2.div(v128.bitselect(v128.xor(em, v128.load(k, C_SIGN)), two, mid), f64x2.add(em, two));
  let z = v128.bitselect(one, v128.bitselect(q, f64x2.sub(one, q), mid), sat);
  z = v128.or(z, v128.and(x, v128.load(k, C_SIGN)));
  return v128.bitselect(x, z, small);
}

/** Values per block of tanhForward; its scratch takes 40 bytes per value, then the constants. */
const TANH_BLOCK: usize = 64;

/**
 * out[k] = float32(tanh(x[k])) for k < n (ActivationLayer tanh), a block of 64 at a time through
 * the two passes (scratch: 40 bytes per value of a block, then C_BYTES of constants); blocks with
 * a NaN and the last n mod 64 values one by one (tanh64).
 */
export function tanhForward(x: usize, out: usize, n: i32, scratch: usize): void {
  const kc = scratch + TANH_BLOCK * 40;
  tanhConstants(kc);
  let k = 0;
  for (; k + <i32>TANH_BLOCK <= n; k += <i32>TANH_BLOCK) {
    const xb = x + (<usize>k << 2);
    let ok = i32x4.splat(-1);
    for (let j: usize = 0; j < TANH_BLOCK * 4; j += 16) {
      const v = v128.load(xb + j);
      ok = v128.and(ok, f32x4.eq(v, v));
    }
    const ob = out + (<usize>k << 2);
    if (!i32x4.all_true(ok)) {
      for (let j: usize = 0; j < TANH_BLOCK * 4; j += 4) store<f32>(ob + j, <f32>tanh64(<f64>load<f32>(xb + j)));
      continue;
    }
    for (let j: usize = 0; j < TANH_BLOCK; j += 2)
      tanhReduce(f64x2.promote_low_f32x4(v128.load64_zero(xb + (j << 2))), scratch + j * 40, kc);
    for (let j: usize = 0; j < TANH_BLOCK; j += 4) {
      const v = v128.load(xb + (j << 2));
      const lo = tanhFinish(f64x2.promote_low_f32x4(v), scratch + j * 40, kc);
      const hi = tanhFinish(f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)), scratch + j * 40 + 80, kc);
      v128.store(
        ob + (j << 2),
        v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5),
      );
    }
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(out + o, <f32>tanh64(<f64>load<f32>(x + o)));
  }
}

/** gradIn[k] = float32(gradOut[k] (1 - out[k]^2)) in float64 (the reference's numbers). */
export function tanhBackward(gradOut: usize, out: usize, gradIn: usize, n: i32): void {
  const one = f64x2.splat(1.0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    const g = v128.load(gradOut + o);
    const y = v128.load(out + o);
    const ylo = f64x2.promote_low_f32x4(y);
    const yhi = f64x2.promote_low_f32x4(v128.shuffle<i32>(y, y, 2, 3, 2, 3));
    const lo = f64x2.mul(f64x2.promote_low_f32x4(g), f64x2.sub(one, f64x2.mul(ylo, ylo)));
    const hi = f64x2.mul(
      f64x2.promote_low_f32x4(v128.shuffle<i32>(g, g, 2, 3, 2, 3)),
      f64x2.sub(one, f64x2.mul(yhi, yhi)),
    );
    v128.store(gradIn + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    const y = <f64>load<f32>(out + o);
    store<f32>(gradIn + o, <f32>(<f64>load<f32>(gradOut + o) * (1.0 - y * y)));
  }
}

/** out[k] = x[k] > 0 ? x[k] : 0 (ActivationLayer relu; NaN and -0 give +0). */
export function reluForward(x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    const v = v128.load(x + o);
    v128.store(out + o, v128.and(v, f32x4.gt(v, zero)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v > 0 ? v : 0);
  }
}

/** gradIn[k] = out[k] > 0 ? gradOut[k] : 0. */
export function reluBackward(gradOut: usize, out: usize, gradIn: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(gradIn + o, v128.and(v128.load(gradOut + o), f32x4.gt(v128.load(out + o), zero)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(gradIn + o, load<f32>(out + o) > 0 ? load<f32>(gradOut + o) : 0);
  }
}

// ---- convolution (stride 1, no padding) ----

/** Copies n float32 from src to dst (n >= 1; 4-lane blocks, the last one ending at n). */
@inline function copyRow(dst: usize, src: usize, n: i32): void {
  if (n >= 4) {
    let k = 0;
    for (; k + 4 < n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
    const last = <usize>(n - 4) << 2;
    v128.store(dst + last, v128.load(src + last));
  } else {
    for (let k = 0; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
  }
}

/**
 * im2col (Conv2d.forward): for each of `batch` inputs x[b] (C x H x W, stride inSize floats) the
 * patches of a K x K kernel, patch-major, each patch's columns ordered (channel, kernel row,
 * kernel column): cols[(b * patches + p) * C K K + (c K + ki) K + kj].
 */
export function im2col(x: usize, inSize: i32, batch: i32, cols: usize, C: i32, H: i32, W: i32, K: i32): void {
  const OH = H - K + 1;
  const OW = W - K + 1;
  let dst = cols;
  const rowBytes = <usize>K << 2;
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>b * (<usize>inSize << 2);
    for (let oi = 0; oi < OH; oi++) {
      for (let oj = 0; oj < OW; oj++) {
        for (let c = 0; c < C; c++) {
          let src = xb + ((<usize>(c * H + oi) * <usize>W + <usize>oj) << 2);
          for (let ki = 0; ki < K; ki++) {
            copyRow(dst, src, K);
            dst += rowBytes;
            src += <usize>W << 2;
          }
        }
      }
    }
  }
}

/**
 * col2im (Conv2d.backward): gradIn[b] = 0, then every patch's column gradients added onto the
 * input pixels they came from, patch after patch (the reference's order q; within one patch
 * every pixel appears once, so each pixel sums its contributions in the same order).
 */
export function col2im(gradCols: usize, gradIn: usize, inSize: i32, batch: i32, C: i32, H: i32, W: i32, K: i32): void {
  const OH = H - K + 1;
  const OW = W - K + 1;
  memory.fill(gradIn, 0, (<usize>batch * <usize>inSize) << 2);
  let src = gradCols;
  const k4 = K & ~3;
  for (let b = 0; b < batch; b++) {
    const gb = gradIn + <usize>b * (<usize>inSize << 2);
    for (let oi = 0; oi < OH; oi++) {
      for (let oj = 0; oj < OW; oj++) {
        for (let c = 0; c < C; c++) {
          let dst = gb + ((<usize>(c * H + oi) * <usize>W + <usize>oj) << 2);
          for (let ki = 0; ki < K; ki++) {
            let kj = 0;
            for (; kj < k4; kj += 4) {
              const o = <usize>kj << 2;
              v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
            }
            for (; kj < K; kj++) {
              const o = <usize>kj << 2;
              store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
            }
            src += <usize>K << 2;
            dst += <usize>W << 2;
          }
        }
      }
    }
  }
}

/** 4x4 transpose of the rows a, b, c, d. */
@inline function t4(a: v128, b: v128, c: v128, d: v128, i: i32): v128 {
  const ab = i < 2 ? v128.shuffle<i32>(a, b, 0, 4, 1, 5) : v128.shuffle<i32>(a, b, 2, 6, 3, 7);
  const cd = i < 2 ? v128.shuffle<i32>(c, d, 0, 4, 1, 5) : v128.shuffle<i32>(c, d, 2, 6, 3, 7);
  return (i & 1) == 0 ? v128.shuffle<i32>(ab, cd, 0, 1, 4, 5) : v128.shuffle<i32>(ab, cd, 2, 3, 6, 7);
}

/**
 * out[b][c][p] = y[b][p][c] + bias[c] (float32) for `batch` samples of `patches` x oc
 * (Conv2d.forward: the matrix's patch-major output to the channel-major map).
 */
export function convOut(y: usize, out: usize, bias: usize, batch: i32, patches: i32, oc: i32): void {
  const fast = (patches & 3) == 0 && (oc & 3) == 0;
  const ps = <usize>patches << 2;
  for (let b = 0; b < batch; b++) {
    const yb = y + <usize>b * <usize>patches * (<usize>oc << 2);
    const ob = out + <usize>b * <usize>oc * ps;
    if (fast) {
      for (let c = 0; c < oc; c += 4) {
        const bc = bias + (<usize>c << 2);
        const b0 = v128.load32_splat(bc);
        const b1 = v128.load32_splat(bc, 4);
        const b2 = v128.load32_splat(bc, 8);
        const b3 = v128.load32_splat(bc, 12);
        for (let p = 0; p < patches; p += 4) {
          const src = yb + ((<usize>p * <usize>oc + <usize>c) << 2);
          const r0 = v128.load(src);
          const r1 = v128.load(src + (<usize>oc << 2));
          const r2 = v128.load(src + (<usize>oc << 3));
          const r3 = v128.load(src + <usize>oc * 12);
          const dst = ob + <usize>c * ps + (<usize>p << 2);
          v128.store(dst, f32x4.add(t4(r0, r1, r2, r3, 0), b0));
          v128.store(dst + ps, f32x4.add(t4(r0, r1, r2, r3, 1), b1));
          v128.store(dst + 2 * ps, f32x4.add(t4(r0, r1, r2, r3, 2), b2));
          v128.store(dst + 3 * ps, f32x4.add(t4(r0, r1, r2, r3, 3), b3));
        }
      }
    } else {
      for (let c = 0; c < oc; c++) {
        const bc = load<f32>(bias + (<usize>c << 2));
        for (let p = 0; p < patches; p++) {
          store<f32>(
            ob + <usize>c * ps + (<usize>p << 2),
            load<f32>(yb + ((<usize>p * <usize>oc + <usize>c) << 2)) + bc,
          );
        }
      }
    }
  }
}

/** y[b][p][c] = gradOut[b][c][p] (Conv2d.backward: the map's gradient to the matrix's layout). */
export function convGrad(gradOut: usize, y: usize, batch: i32, patches: i32, oc: i32): void {
  const fast = (patches & 3) == 0 && (oc & 3) == 0;
  const ps = <usize>patches << 2;
  const os = <usize>oc << 2;
  for (let b = 0; b < batch; b++) {
    const gb = gradOut + <usize>b * <usize>oc * ps;
    const yb = y + <usize>b * <usize>patches * os;
    if (fast) {
      for (let p = 0; p < patches; p += 4) {
        for (let c = 0; c < oc; c += 4) {
          const src = gb + <usize>c * ps + (<usize>p << 2);
          const r0 = v128.load(src);
          const r1 = v128.load(src + ps);
          const r2 = v128.load(src + 2 * ps);
          const r3 = v128.load(src + 3 * ps);
          const dst = yb + <usize>p * os + (<usize>c << 2);
          v128.store(dst, t4(r0, r1, r2, r3, 0));
          v128.store(dst + os, t4(r0, r1, r2, r3, 1));
          v128.store(dst + 2 * os, t4(r0, r1, r2, r3, 2));
          v128.store(dst + 3 * os, t4(r0, r1, r2, r3, 3));
        }
      }
    } else {
      for (let c = 0; c < oc; c++) {
        for (let p = 0; p < patches; p++)
          store<f32>(yb + <usize>p * os + (<usize>c << 2), load<f32>(gb + <usize>c * ps + (<usize>p << 2)));
      }
    }
  }
}

/**
 * The conv bias step (Conv2d.update): g_c = sum over the n rows r of y[r][c] in float64, in order
 * of r; bias[c] = float32(bias[c] - lr g_c). Channels 2 at a time in the lanes of an f64x2.
 */
export function convBias(y: usize, n: i32, oc: i32, lr: f64, bias: usize): void {
  const os = <usize>oc << 2;
  let c = 0;
  for (; c + 4 <= oc; c += 4) {
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let p = y + (<usize>c << 2);
    for (let r = 0; r < n; r++) {
      const v = v128.load(p);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)));
      p += os;
    }
    const bc = bias + (<usize>c << 2);
    store<f32>(bc, <f32>(<f64>load<f32>(bc) - lr * f64x2.extract_lane(lo, 0)));
    store<f32>(bc, <f32>(<f64>load<f32>(bc, 4) - lr * f64x2.extract_lane(lo, 1)), 4);
    store<f32>(bc, <f32>(<f64>load<f32>(bc, 8) - lr * f64x2.extract_lane(hi, 0)), 8);
    store<f32>(bc, <f32>(<f64>load<f32>(bc, 12) - lr * f64x2.extract_lane(hi, 1)), 12);
  }
  for (; c < oc; c++) {
    let g: f64 = 0;
    let p = y + (<usize>c << 2);
    for (let r = 0; r < n; r++) {
      g += <f64>load<f32>(p);
      p += os;
    }
    const bc = bias + (<usize>c << 2);
    store<f32>(bc, <f32>(<f64>load<f32>(bc) - lr * g));
  }
}

// ---- 2x2 max pooling, stride 2 ----

/**
 * MaxPool2.forward: for each output the first maximum of its window (top left, top right, bottom
 * left, bottom right; a later value wins only if greater, so NaN never wins) and its input
 * offset; 4 outputs of a row at a time (their windows' 8 inputs of each row, deinterleaved).
 */
export function poolForward(x: usize, out: usize, argmax: usize, batch: i32, C: i32, H: i32, W: i32): void {
  const OH = H >> 1;
  const OW = W >> 1;
  const inSize = C * H * W;
  const ow4 = OW & ~3;
  let o: usize = 0;
  for (let b = 0; b < batch; b++) {
    const xb = x + ((<usize>b * <usize>inSize) << 2);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < OH; i++) {
        const row = (c * H + 2 * i) * W;
        let j = 0;
        for (; j < ow4; j += 4) {
          const p = row + 2 * j;
          const a0 = v128.load(xb + (<usize>p << 2));
          const a1 = v128.load(xb + (<usize>p << 2), 16);
          const c0 = v128.load(xb + (<usize>(p + W) << 2));
          const c1 = v128.load(xb + (<usize>(p + W) << 2), 16);
          const tl = v128.shuffle<i32>(a0, a1, 0, 2, 4, 6);
          const tr = v128.shuffle<i32>(a0, a1, 1, 3, 5, 7);
          const bl = v128.shuffle<i32>(c0, c1, 0, 2, 4, 6);
          const br = v128.shuffle<i32>(c0, c1, 1, 3, 5, 7);
          const base = i32x4.add(i32x4.splat(p), i32x4(0, 2, 4, 6));
          let v = tl;
          let best = base;
          let m = f32x4.gt(tr, v);
          v = v128.bitselect(tr, v, m);
          best = v128.bitselect(i32x4.add(base, i32x4.splat(1)), best, m);
          m = f32x4.gt(bl, v);
          v = v128.bitselect(bl, v, m);
          best = v128.bitselect(i32x4.add(base, i32x4.splat(W)), best, m);
          m = f32x4.gt(br, v);
          v = v128.bitselect(br, v, m);
          best = v128.bitselect(i32x4.add(base, i32x4.splat(W + 1)), best, m);
          v128.store(out + (o << 2), v);
          v128.store(argmax + (o << 2), best);
          o += 4;
        }
        for (; j < OW; j++) {
          const p = row + 2 * j;
          let best = p;
          let v = load<f32>(xb + (<usize>p << 2));
          let u = load<f32>(xb + (<usize>(p + 1) << 2));
          if (u > v) {
            best = p + 1;
            v = u;
          }
          u = load<f32>(xb + (<usize>(p + W) << 2));
          if (u > v) {
            best = p + W;
            v = u;
          }
          u = load<f32>(xb + (<usize>(p + W + 1) << 2));
          if (u > v) {
            best = p + W + 1;
            v = u;
          }
          store<f32>(out + (o << 2), v);
          store<i32>(argmax + (o << 2), best);
          o++;
        }
      }
    }
  }
}

/** MaxPool2.backward: gradIn[b] = 0, then gradIn[b][argmax[o]] += gradOut[o] (float32) in order of o. */
export function poolBackward(
  gradOut: usize, argmax: usize, gradIn: usize, batch: i32, inSize: i32, outSize: i32,
): void {
  memory.fill(gradIn, 0, (<usize>batch * <usize>inSize) << 2);
  let o: usize = 0;
  for (let b = 0; b < batch; b++) {
    const gb = gradIn + ((<usize>b * <usize>inSize) << 2);
    for (let k = 0; k < outSize; k++) {
      const at = gb + (<usize>load<i32>(argmax + (o << 2)) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(gradOut + (o << 2)));
      o++;
    }
  }
}
