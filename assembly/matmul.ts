/**
 * WebAssembly (SIMD) kernels of a tile's exact batched matrix products, the bit-identical twins of
 * matmulForward / matmulBackward in src/core/io.ts: forward y[b][i] = sum_j W[i][j] x[b][j] and
 * backward z[b][j] = sum_i W[i][j] d[b][i], each output summed in float64 in index order from
 * zero (0 + p0 + p1 + ...) and rounded once to float32, exactly as the TypeScript loops do.
 *
 * Why the bits agree: every product is of two float32 values, which is exact in float64; an f64
 * add rounds the same in WebAssembly as in JavaScript; and there is no fused multiply-add here.
 * The SIMD lanes never split one sum: an f64x2 holds the same output of TWO samples (a "pair"),
 * each lane accumulating in the reference's order.
 *
 * One generic product serves both directions: output o, reduction index k reads
 * W64[o * outer + k * inner] (bytes: forward inner = 8, outer = 8 cols; backward inner = 8 cols,
 * outer = 8). Memory (the caller's layout, src/core/kernels/matmul-kernel.ts):
 *   - W64: the tile's weights promoted to float64 (`promote`, once per call);
 *   - the inputs of up to a chunk of samples, interleaved by `interleave` into groups of up to 3
 *     pairs: group g (pairs 3g .. 3g + G - 1, G <= 3) holds, per reduction index k, G f64x2 of
 *     (sample 2p, sample 2p + 1); a missing odd last sample is a zero lane;
 *   - y: float32 [sample][m]; the lane of a missing odd last sample writes one row past the count.
 * The main block is 2 outputs x 3 pairs: 6 f64x2 accumulators, 3 input loads and 2 weight splats
 * per 12 multiply-adds (3 outputs x 3 pairs measured 1.6x slower: V8 runs out of registers).
 */

/** dst[k] = f64(src[k]) for k < n (float32 -> float64, exact). */
export function promote(src: usize, dst: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const v = v128.load(src + (<usize>k << 2));
    const at = dst + (<usize>k << 3);
    v128.store(at, f64x2.promote_low_f32x4(v));
    v128.store(at, f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)), 16);
  }
  for (; k < n; k++) store<f64>(dst + (<usize>k << 3), <f64>load<f32>(src + (<usize>k << 2)));
}

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

/** Output o of the 3 pairs of a full group. */
function block13(w: usize, inner: usize, outer: usize, n: i32, xg: usize, y: usize, m: usize, s: usize, o: usize): void {
  let w0 = w + o * outer;
  let x = xg;
  const z = f64x2.splat(0);
  let a0 = z, a1 = z, a2 = z;
  for (let k = 0; k < n; k++) {
    const v = v128.load64_splat(w0);
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
function block41(w: usize, inner: usize, outer: usize, n: i32, xp: usize, step: usize, y: usize, m: usize, s: usize, o: usize): void {
  let w0 = w + o * outer;
  let w1 = w0 + outer;
  let w2 = w1 + outer;
  let w3 = w2 + outer;
  let x = xp;
  const z = f64x2.splat(0);
  let a0 = z, a1 = z, a2 = z, a3 = z;
  for (let k = 0; k < n; k++) {
    const a = v128.load(x);
    a0 = f64x2.add(a0, f64x2.mul(v128.load64_splat(w0), a));
    a1 = f64x2.add(a1, f64x2.mul(v128.load64_splat(w1), a));
    a2 = f64x2.add(a2, f64x2.mul(v128.load64_splat(w2), a));
    a3 = f64x2.add(a3, f64x2.mul(v128.load64_splat(w3), a));
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
function block11(w: usize, inner: usize, outer: usize, n: i32, xp: usize, step: usize, y: usize, m: usize, s: usize, o: usize): void {
  let w0 = w + o * outer;
  let x = xp;
  let a0 = f64x2.splat(0);
  for (let k = 0; k < n; k++) {
    a0 = f64x2.add(a0, f64x2.mul(v128.load64_splat(w0), v128.load(x)));
    w0 += inner;
    x += step;
  }
  put(y, m, s, o, a0);
}

/** Outputs o, o+1 of the 3 pairs of a full group (xg, stride 48 per k); first sample s. */
function block23(w: usize, inner: usize, outer: usize, n: i32, xg: usize, y: usize, m: usize, s: usize, o: usize): void {
  let w0 = w + o * outer;
  let w1 = w0 + outer;
  let x = xg;
  const z = f64x2.splat(0);
  let a00 = z, a01 = z, a02 = z, a10 = z, a11 = z, a12 = z;
  for (let k = 0; k < n; k++) {
    const x0 = v128.load(x);
    const x1 = v128.load(x, 16);
    const x2 = v128.load(x, 32);
    const v0 = v128.load64_splat(w0);
    a00 = f64x2.add(a00, f64x2.mul(v0, x0));
    a01 = f64x2.add(a01, f64x2.mul(v0, x1));
    a02 = f64x2.add(a02, f64x2.mul(v0, x2));
    const v1 = v128.load64_splat(w1);
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
 * y[s][o] = sum_k W64[o * outer + k * inner] * input_s[k] for o < m and the `count` samples
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
