/**
 * WebAssembly (SIMD) kernels of a tile's exact batched matrix products, the bit-identical twins of
 * matmulForward / matmulBackward in src/core/io.ts: forward y[b][i] = sum_j W[i][j] x[b][j] and
 * backward z[b][j] = sum_i W[i][j] d[b][i], each output summed in float64 in index order from
 * zero (0 + p0 + p1 + ...) and rounded once to float32, exactly as the TypeScript loops do.
 *
 * Why the bits agree: every product is of two float32 values, which is exact in float64; an f64
 * add rounds the same in WebAssembly as in JavaScript; and there is no fused multiply-add here.
 * The SIMD lanes never split one sum: in the dense kernel an f64x2 holds the same output of TWO
 * samples (a "pair"), in the sparse ones two outputs of one sample; each lane accumulates in the
 * reference's order.
 *
 * Skipping zero inputs (the sparse kernels) is exact too, as long as every weight is finite: a
 * zero input contributes a product +-0, and adding +-0 leaves a sum unchanged unless the sum is
 * -0, which a sum started at +0 never is (x + y is -0 only for -0 + -0). So the sparse kernels run
 * only after `allFinite` (else a weight of +-Inf or NaN times 0 would have made the sum NaN).
 *
 * `product` is the entry: it looks at the staged inputs and runs the dense kernel or, when few
 * inputs are non-zero, the sparse one of the direction. The weights are float32, read in place
 * (the tile's own weights) and promoted per use (exact). Memory (the caller's layout,
 * src/core/kernels/matmul-kernel.ts):
 *   - w: float32 rows x cols, followed by at least 64 bytes that may be read (never written);
 *   - x: the staged inputs, float32 [count][n] (n = cols forward, rows backward);
 *   - scratch: the dense kernel's interleaved inputs, (count + 1) / 2 * n * 16 bytes (groups of up
 *     to 3 pairs: group g holds, per reduction index k, G f64x2 of (sample 2p, sample 2p + 1); a
 *     missing odd last sample is a zero lane), or the sparse kernels' list of one sample's
 *     non-zero inputs, n * 12 bytes;
 *   - y: float32 [count + 1][m] (m = rows forward, cols backward); the lane of a missing odd last
 *     sample writes one row past the count.
 * Output o, reduction index k of the dense kernel reads w[o * outer + k * inner] (bytes: forward
 * inner = 4, outer = 4 cols; backward inner = 4 cols, outer = 4). Its main block is 2 outputs x
 * 3 pairs: 6 f64x2 accumulators, 3 input loads and 2 weight splats per 12 multiply-adds (3
 * outputs x 3 pairs measured 1.6x slower: V8 runs out of registers).
 */

import { demote4, hi2, lo2 } from './lanes';

/** Interleaves `count` float32 vectors of length n at x ([count][n]) into dst as described above. */
export function interleave(x: usize, n: i32, count: i32, dst: usize): void {
  const pairs = (count + 1) >> 1;
  for (let p = 0; p < pairs; p++) {
    const g = p / 3;
    const q = p - 3 * g;
    const G = min(3, pairs - 3 * g);
    const base = dst + <usize>(3 * g) * <usize>n * 16 + (<usize>q << 4);
    const step = <usize>G << 4;
    const s0 = x + <usize>(2 * p) * <usize>n * 4;
    if (2 * p + 1 < count) {
      const s1 = s0 + (<usize>n << 2);
      let k = 0;
      let at = base;
      for (; k + 4 <= n; k += 4) {
        const a = v128.load(s0 + (<usize>k << 2));
        const b = v128.load(s1 + (<usize>k << 2));
        const lo = v128.shuffle<i32>(a, b, 0, 4, 1, 5);
        const hi = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
        v128.store(at, f64x2.promote_low_f32x4(lo));
        v128.store(at + step, f64x2.promote_low_f32x4(v128.shuffle<i32>(lo, lo, 2, 3, 2, 3)));
        v128.store(at + 2 * step, f64x2.promote_low_f32x4(hi));
        v128.store(at + 3 * step, f64x2.promote_low_f32x4(v128.shuffle<i32>(hi, hi, 2, 3, 2, 3)));
        at += 4 * step;
      }
      for (; k < n; k++) {
        store<f64>(at, <f64>load<f32>(s0 + (<usize>k << 2)));
        store<f64>(at, <f64>load<f32>(s1 + (<usize>k << 2)), 8);
        at += step;
      }
    } else {
      let at = base;
      for (let k = 0; k < n; k++) {
        store<f64>(at, <f64>load<f32>(s0 + (<usize>k << 2)));
        store<f64>(at, 0.0, 8);
        at += step;
      }
    }
  }
}

@inline function put(y: usize, m: usize, s: usize, o: usize, acc: v128): void {
  const at = y + ((s * m + o) << 2);
  store<f32>(at, <f32>f64x2.extract_lane(acc, 0));
  store<f32>(at + (m << 2), <f32>f64x2.extract_lane(acc, 1));
}

/** The float32 weight at p, promoted, in both lanes. */
@inline function splatW(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_splat(p));
}

/** Output o of the 3 pairs of a full group. */
function block13(
  w: usize, inner: usize, outer: usize, n: i32, xg: usize, y: usize, m: usize, s: usize, o: usize,
): void {
  let w0 = w + o * outer;
  let x = xg;
  const z = f64x2.splat(0);
  let a0 = z, a1 = z, a2 = z;
  for (let k = 0; k < n; k++) {
    const v = splatW(w0);
    a0 = f64x2.add(a0, f64x2.mul(v, v128.load(x)));
    a1 = f64x2.add(a1, f64x2.mul(v, v128.load(x, 16)));
    a2 = f64x2.add(a2, f64x2.mul(v, v128.load(x, 32)));
    w0 += inner;
    x += 48;
  }
  put(y, m, s, o, a0);
  put(y, m, s + 2, o, a1);
  put(y, m, s + 4, o, a2);
}

/** Outputs o .. o+3 of one pair at xp (stride `step` per k). */
function block41(
  w: usize, inner: usize, outer: usize, n: i32, xp: usize, step: usize, y: usize, m: usize, s: usize, o: usize,
): void {
  let w0 = w + o * outer;
  let w1 = w0 + outer;
  let w2 = w1 + outer;
  let w3 = w2 + outer;
  let x = xp;
  const z = f64x2.splat(0);
  let a0 = z, a1 = z, a2 = z, a3 = z;
  for (let k = 0; k < n; k++) {
    const a = v128.load(x);
    a0 = f64x2.add(a0, f64x2.mul(splatW(w0), a));
    a1 = f64x2.add(a1, f64x2.mul(splatW(w1), a));
    a2 = f64x2.add(a2, f64x2.mul(splatW(w2), a));
    a3 = f64x2.add(a3, f64x2.mul(splatW(w3), a));
    w0 += inner;
    w1 += inner;
    w2 += inner;
    w3 += inner;
    x += step;
  }
  put(y, m, s, o, a0);
  put(y, m, s, o + 1, a1);
  put(y, m, s, o + 2, a2);
  put(y, m, s, o + 3, a3);
}

/** Output o of one pair at xp (stride `step` per k). */
function block11(
  w: usize, inner: usize, outer: usize, n: i32, xp: usize, step: usize, y: usize, m: usize, s: usize, o: usize,
): void {
  let w0 = w + o * outer;
  let x = xp;
  let a0 = f64x2.splat(0);
  for (let k = 0; k < n; k++) {
    a0 = f64x2.add(a0, f64x2.mul(splatW(w0), v128.load(x)));
    w0 += inner;
    x += step;
  }
  put(y, m, s, o, a0);
}

/** Outputs o, o+1 of the 3 pairs of a full group (xg, stride 48 per k); first sample s. */
function block23(
  w: usize, inner: usize, outer: usize, n: i32, xg: usize, y: usize, m: usize, s: usize, o: usize,
): void {
  let w0 = w + o * outer;
  let w1 = w0 + outer;
  let x = xg;
  const z = f64x2.splat(0);
  let a00 = z, a01 = z, a02 = z, a10 = z, a11 = z, a12 = z;
  for (let k = 0; k < n; k++) {
    const x0 = v128.load(x);
    const x1 = v128.load(x, 16);
    const x2 = v128.load(x, 32);
    const v0 = splatW(w0);
    a00 = f64x2.add(a00, f64x2.mul(v0, x0));
    a01 = f64x2.add(a01, f64x2.mul(v0, x1));
    a02 = f64x2.add(a02, f64x2.mul(v0, x2));
    const v1 = splatW(w1);
    a10 = f64x2.add(a10, f64x2.mul(v1, x0));
    a11 = f64x2.add(a11, f64x2.mul(v1, x1));
    a12 = f64x2.add(a12, f64x2.mul(v1, x2));
    w0 += inner;
    w1 += inner;
    x += 48;
  }
  put(y, m, s, o, a00);
  put(y, m, s + 2, o, a01);
  put(y, m, s + 4, o, a02);
  put(y, m, s, o + 1, a10);
  put(y, m, s + 2, o + 1, a11);
  put(y, m, s + 4, o + 1, a12);
}

/**
 * y[s][o] = sum_k w[o * outer + k * inner] * input_s[k] for o < m and the `count` samples
 * interleaved at xp (reduction length n).
 */
export function matmul(w: usize, inner: usize, outer: usize, n: i32, m: i32, xp: usize, count: i32, y: usize): void {
  const pairs = (count + 1) >> 1;
  const mm = <usize>m;
  let p = 0;
  for (; p + 3 <= pairs; p += 3) {
    const xg = xp + <usize>p * <usize>n * 16;
    const s = <usize>(2 * p);
    let o = 0;
    for (; o + 2 <= m; o += 2) block23(w, inner, outer, n, xg, y, mm, s, <usize>o);
    for (; o < m; o++) block13(w, inner, outer, n, xg, y, mm, s, <usize>o);
  }
  const G = pairs - p;
  const step = <usize>G << 4;
  for (let q = 0; q < G; q++) {
    const xq = xp + <usize>p * <usize>n * 16 + (<usize>q << 4);
    const s = <usize>(2 * (p + q));
    let o = 0;
    for (; o + 4 <= m; o += 4) block41(w, inner, outer, n, xq, step, y, mm, s, <usize>o);
    for (; o < m; o++) block11(w, inner, outer, n, xq, step, y, mm, s, <usize>o);
  }
}

// ---- the sparse kernels ----

/** True when none of the n float32 values at p is +-Inf or NaN. */
export function allFinite(p: usize, n: i32): bool {
  const abs = i32x4.splat(0x7fffffff);
  const inf = i32x4.splat(0x7f800000);
  let ok = i32x4.splat(-1);
  let k = 0;
  for (; k + 4 <= n; k += 4) ok = v128.and(ok, i32x4.lt_s(v128.and(v128.load(p + (<usize>k << 2)), abs), inf));
  if (!i32x4.all_true(ok)) return false;
  for (; k < n; k++) if ((load<i32>(p + (<usize>k << 2)) & 0x7fffffff) >= 0x7f800000) return false;
  return true;
}

/** Non-zero values among the n float32 at p (NaN counts as non-zero). */
function nonZeros(p: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) acc = i32x4.sub(acc, f32x4.ne(v128.load(p + (<usize>k << 2)), zero));
  let c =
    i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; k < n; k++) if (load<f32>(p + (<usize>k << 2)) != 0) c++;
  return c;
}

/**
 * The non-zero inputs of one vector (n float32 at v) as a list at `list`: their indices (i32,
 * n slots) then their values promoted (f64, at list + 4 n rounded up to 16). Returns the count.
 */
@inline function listNonZeros(v: usize, n: i32, list: usize): i32 {
  const vals = list + ((<usize>n * 4 + 15) & ~15);
  let c = 0;
  for (let k = 0; k < n; k++) {
    const a = load<f32>(v + (<usize>k << 2));
    if (a != 0) {
      store<i32>(list + (<usize>c << 2), k);
      store<f64>(vals + (<usize>c << 3), <f64>a);
      c++;
    }
  }
  return c;
}

/** Two weights at p and p + stride, promoted: (w[p], w[p + stride]). */
@inline function gather2(p: usize, stride: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_lane(p + stride, v128.load32_zero(p), 1));
}

/**
 * Forward with few non-zero inputs, one sample at a time: y[s][i] = sum over the sample's
 * non-zero x[s][j] (ascending j) of w[i][j] x[s][j]; rows in passes of 8 (4 accumulators of
 * 2 rows), then 2, then 1.
 */
function sparseForward(w: usize, rows: i32, cols: i32, x: usize, count: i32, y: usize, list: usize): void {
  const vals = list + ((<usize>cols * 4 + 15) & ~15);
  const rs = <usize>cols << 2;
  for (let s = 0; s < count; s++) {
    const nz = listNonZeros(x + <usize>s * rs, cols, list);
    const out = y + <usize>s * (<usize>rows << 2);
    let i = 0;
    for (; i + 8 <= rows; i += 8) {
      const r0 = w + <usize>i * rs;
      const z = f64x2.splat(0);
      let a0 = z, a1 = z, a2 = z, a3 = z;
      for (let t = 0; t < nz; t++) {
        const p = r0 + (<usize>load<i32>(list + (<usize>t << 2)) << 2);
        const xv = v128.load64_splat(vals + (<usize>t << 3));
        a0 = f64x2.add(a0, f64x2.mul(gather2(p, rs), xv));
        a1 = f64x2.add(a1, f64x2.mul(gather2(p + 2 * rs, rs), xv));
        a2 = f64x2.add(a2, f64x2.mul(gather2(p + 4 * rs, rs), xv));
        a3 = f64x2.add(a3, f64x2.mul(gather2(p + 6 * rs, rs), xv));
      }
      const o = out + (<usize>i << 2);
      v128.store(o, demote4(a0, a1));
      v128.store(o, demote4(a2, a3), 16);
    }
    for (; i + 2 <= rows; i += 2) {
      const r0 = w + <usize>i * rs;
      let a0 = f64x2.splat(0);
      for (let t = 0; t < nz; t++) {
        const p = r0 + (<usize>load<i32>(list + (<usize>t << 2)) << 2);
        a0 = f64x2.add(a0, f64x2.mul(gather2(p, rs), v128.load64_splat(vals + (<usize>t << 3))));
      }
      v128.store64_lane(out + (<usize>i << 2), f32x4.demote_f64x2_zero(a0), 0);
    }
    if (i < rows) {
      const r0 = w + <usize>i * rs;
      let a: f64 = 0;
      for (let t = 0; t < nz; t++)
        a += <f64>load<f32>(r0 + (<usize>load<i32>(list + (<usize>t << 2)) << 2)) * load<f64>(vals + (<usize>t << 3));
      store<f32>(out + (<usize>i << 2), <f32>a);
    }
  }
}

/**
 * Backward with few non-zero inputs, one sample at a time: z[s][j] = sum over the sample's
 * non-zero d[s][i] (ascending i) of w[i][j] d[s][i], in blocks of 16 columns (8 accumulators of
 * 2 columns) that run over the rows of the list; a last partial block computes 16 columns
 * (reading past the row, harmless: those lanes are not stored) and stores the valid ones.
 */
function sparseBackward(w: usize, rows: i32, cols: i32, d: usize, count: i32, z: usize, list: usize): void {
  const vals = list + ((<usize>rows * 4 + 15) & ~15);
  const rs = <usize>cols << 2;
  for (let s = 0; s < count; s++) {
    const nz = listNonZeros(d + <usize>s * (<usize>rows << 2), rows, list);
    const out = z + <usize>s * rs;
    for (let j = 0; j < cols; j += 16) {
      const c0 = w + (<usize>j << 2);
      const zero = f64x2.splat(0);
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
      for (let t = 0; t < nz; t++) {
        const p = c0 + <usize>load<i32>(list + (<usize>t << 2)) * rs;
        const dv = v128.load64_splat(vals + (<usize>t << 3));
        const v0 = v128.load(p);
        const v1 = v128.load(p, 16);
        const v2 = v128.load(p, 32);
        const v3 = v128.load(p, 48);
        a0 = f64x2.add(a0, f64x2.mul(lo2(v0), dv));
        a1 = f64x2.add(a1, f64x2.mul(hi2(v0), dv));
        a2 = f64x2.add(a2, f64x2.mul(lo2(v1), dv));
        a3 = f64x2.add(a3, f64x2.mul(hi2(v1), dv));
        a4 = f64x2.add(a4, f64x2.mul(lo2(v2), dv));
        a5 = f64x2.add(a5, f64x2.mul(hi2(v2), dv));
        a6 = f64x2.add(a6, f64x2.mul(lo2(v3), dv));
        a7 = f64x2.add(a7, f64x2.mul(hi2(v3), dv));
      }
      const o = out + (<usize>j << 2);
      if (j + 16 <= cols) {
        v128.store(o, demote4(a0, a1));
        v128.store(o, demote4(a2, a3), 16);
        v128.store(o, demote4(a4, a5), 32);
        v128.store(o, demote4(a6, a7), 48);
      } else {
        // the block's valid columns through the scratch after the list's values
        const tmp = vals + (<usize>rows << 3);
        v128.store(tmp, demote4(a0, a1));
        v128.store(tmp, demote4(a2, a3), 16);
        v128.store(tmp, demote4(a4, a5), 32);
        v128.store(tmp, demote4(a6, a7), 48);
        memory.copy(o, tmp, <usize>(cols - j) << 2);
      }
    }
  }
}

/** Share of non-zero inputs below which the sparse kernels run (their cost per product is higher). */
const SPARSE_FORWARD = 0.35;
const SPARSE_BACKWARD = 0.5;

/**
 * The product of the float32 weights at w (rows x cols) with the `count` staged inputs at x into
 * y (forward: back = 0, y = W x; backward: back = 1, z = W^T d), through the dense kernel or,
 * when few inputs are non-zero and every weight is finite, the sparse one. Returns 1 when the
 * sparse kernel ran. `scratch`: see the file comment.
 */
export function product(
  w: usize, rows: i32, cols: i32, x: usize, count: i32, y: usize, back: i32, scratch: usize,
): i32 {
  const n = back ? rows : cols;
  const m = back ? cols : rows;
  const total = <f64>count * <f64>n;
  const nz = <f64>nonZeros(x, count * n);
  if (nz <= (back ? SPARSE_BACKWARD : SPARSE_FORWARD) * total && allFinite(w, rows * cols)) {
    if (back) sparseBackward(w, rows, cols, x, count, y, scratch);
    else sparseForward(w, rows, cols, x, count, y, scratch);
    return 1;
  }
  interleave(x, n, count, scratch);
  const inner: usize = back ? <usize>cols << 2 : 4;
  const outer: usize = back ? 4 : <usize>cols << 2;
  matmul(w, inner, outer, n, m, scratch, count, y);
  return 0;
}
