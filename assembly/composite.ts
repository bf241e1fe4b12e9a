/**
 * WebAssembly (SIMD) kernels of the composite algorithms' effective weights, the bit-identical
 * twins of their TypeScript reduce loops (test/composite-kernel.test.ts compares them bit for bit,
 * test/speed-paths.test.ts whole trainings):
 *   - residualSum: multi-tile residual learning (src/core/algorithms/residual.ts)
 *       out = float32(...float32(float32(0 + s0 (w0 - r0)) + s1 (w1 - r1))... + s[K-1] (w[K-1] - r[K-1]))
 *   - fastSlowSum: the two-array transfer algorithms (src/core/algorithms/fast-slow-transfer.ts)
 *       out = float32(slow + gamma (fast - ref)), and float32(slow + 0) where gamma is 0.
 * Every element gets JavaScript's float64 operations in the reference's order, rounded to float32
 * where the reference stores into its Float32Array (after each tile of a residual sum). Elements go
 * 4 at a time as two f64x2; a residual sum applies all its tiles while they stay in registers
 * (the reference makes one pass over the output per tile).
 *
 * Memory (src/core/kernels/kernel-matrix.ts, `staging`): the arrays are float32 of n values each,
 * `stride` bytes apart; residualSum reads tile i's weights from array 2i and its reference from
 * array 2i + 1, and its weights s_i (float64) from `scales`.
 */

import { demote4, hi2, lo2 } from './lanes';

/** The float64 lanes rounded to float32 and back (a store into a Float32Array and a load). */
@inline function round2(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}

/** Multi-tile residual learning's effective weights of `count` tiles into out (n float32). */
export function residualSum(out: usize, n: i32, arrays: usize, stride: usize, count: i32, scales: usize): void {
  const zero = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    let lo = zero;
    let hi = zero;
    let p = arrays + o;
    for (let i = 0; i < count; i++) {
      const w = v128.load(p);
      const r = v128.load(p + stride);
      const s = v128.load64_splat(scales + (<usize>i << 3));
      lo = round2(f64x2.add(lo, f64x2.mul(s, f64x2.sub(lo2(w), lo2(r)))));
      hi = round2(f64x2.add(hi, f64x2.mul(s, f64x2.sub(hi2(w), hi2(r)))));
      p += stride << 1;
    }
    v128.store(out + o, demote4(lo, hi));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    let a: f64 = 0;
    let p = arrays + o;
    for (let i = 0; i < count; i++) {
      const s = load<f64>(scales + (<usize>i << 3));
      a = <f64>(<f32>(a + s * (<f64>load<f32>(p) - <f64>load<f32>(p + stride))));
      p += stride << 1;
    }
    store<f32>(out + o, <f32>a);
  }
}

/** The two-array transfer algorithms' effective weights slow + gamma (fast - ref) into out (n float32). */
export function fastSlowSum(out: usize, n: i32, slow: usize, fast: usize, ref: usize, gamma: f64): void {
  const g = f64x2.splat(gamma);
  const zero = f64x2.splat(0);
  let k = 0;
  if (gamma == 0) {
    // the reference's `slow + 0` (which turns -0 into +0)
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      const s = v128.load(slow + o);
      v128.store(out + o, demote4(f64x2.add(lo2(s), zero), f64x2.add(hi2(s), zero)));
    }
    for (; k < n; k++) {
      const o = <usize>k << 2;
      store<f32>(out + o, <f32>(<f64>load<f32>(slow + o) + 0));
    }
    return;
  }
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    const s = v128.load(slow + o);
    const f = v128.load(fast + o);
    const r = v128.load(ref + o);
    const lo = f64x2.add(lo2(s), f64x2.mul(g, f64x2.sub(lo2(f), lo2(r))));
    const hi = f64x2.add(hi2(s), f64x2.mul(g, f64x2.sub(hi2(f), hi2(r))));
    v128.store(out + o, demote4(lo, hi));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(out + o, <f32>(<f64>load<f32>(slow + o) + gamma * (<f64>load<f32>(fast + o) - <f64>load<f32>(ref + o))));
  }
}
