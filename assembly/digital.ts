/**
 * WebAssembly (SIMD) kernels of the digital updates, the bit-identical twins of the TypeScript
 * loops they replace (test/speed-paths.test.ts compares them bit for bit):
 *   - sgdUpdate: digital SGD (src/core/algorithms/sgd.ts), sample by sample
 *       w[i][j] = float32(w[i][j] - g x[j]),  g = lr d[i] (float64)
 *     for the rows with g != 0 and the columns with x[j] != 0 only (the others keep their bits);
 *   - mpAccumulate: mixed precision's gradient accumulator (src/core/algorithms/mixed-precision.ts)
 *       chi[i][j] += g x[j]  (float64, every column) for the rows with g != 0.
 * Every operation is the one JavaScript performs on those numbers (float64 multiply and add or
 * subtract, one rounding to float32 where it stores into a Float32Array), so the bits agree.
 */

import { demote4, hi2, lo2 } from './lanes';

/** One group of 4 weights at p: w = float32(w - g x) in float64 on the lanes of mask m (the others keep their bits). */
@inline function sgdGroup(p: usize, gv: v128, xlo: v128, xhi: v128, m: v128, masked: bool): void {
  const wv = v128.load(p);
  const nlo = f64x2.sub(lo2(wv), f64x2.mul(gv, xlo));
  const nhi = f64x2.sub(hi2(wv), f64x2.mul(gv, xhi));
  v128.store(p, masked ? v128.bitselect(demote4(nlo, nhi), wv, m) : demote4(nlo, nhi));
}

/**
 * Digital SGD on the float32 weights at w (rows x cols, followed by 16 readable and writable
 * bytes) for the `count` samples staged at x ([count][cols] float32) and d ([count][rows]),
 * one after another. `scratch`: 64 bytes per group of 4 columns (the sample's groups with a
 * non-zero input: index, lane mask, the 4 inputs promoted), then 4 bytes per row (the rows with
 * g != 0). Rows go two at a time (sharing the group's loads); when every group is complete (no
 * zero input) the lane masks are left out.
 */
export function sgdUpdate(
  w: usize, rows: i32, cols: i32, x: usize, d: usize, count: i32, lr: f64, scratch: usize,
): void {
  const groups = (cols + 3) >> 2;
  const rs = <usize>cols << 2;
  const zero = f32x4.splat(0);
  const rowList = scratch + (<usize>groups << 6);
  // lanes of the last group that are inside the row
  const tail = cols & 3;
  const lastValid = tail == 0 ? i32x4.splat(-1) : i32x4.gt_s(i32x4.splat(tail), i32x4(0, 1, 2, 3));
  for (let s = 0; s < count; s++) {
    const xs = x + <usize>s * rs;
    const ds = d + <usize>s * (<usize>rows << 2);
    // the groups of 4 columns with a non-zero input (NaN counts: x != 0 as in the reference)
    let ng = 0;
    let complete = tail == 0;
    for (let g = 0; g < groups; g++) {
      const xv = v128.load(xs + (<usize>g << 4));
      let m = f32x4.ne(xv, zero);
      if (g == groups - 1) m = v128.and(m, lastValid);
      if (!i32x4.all_true(m)) complete = false;
      if (!v128.any_true(m)) continue;
      const e = scratch + (<usize>ng << 6);
      store<i32>(e, g << 4);
      v128.store(e, m, 16);
      v128.store(e, lo2(xv), 32);
      v128.store(e, hi2(xv), 48);
      ng++;
    }
    if (ng == 0) continue;
    const end = scratch + (<usize>ng << 6);
    // the rows with g = lr d != 0 (JavaScript skips g === 0, -0 included)
    let nr = 0;
    for (let i = 0; i < rows; i++) {
      const g: f64 = lr * <f64>load<f32>(ds + (<usize>i << 2));
      store<i32>(rowList + (<usize>nr << 2), i);
      nr += <i32>(g != 0);
    }
    let t = 0;
    for (; t + 2 <= nr; t += 2) {
      const i0 = load<i32>(rowList + (<usize>t << 2));
      const i1 = load<i32>(rowList + (<usize>t << 2), 4);
      const g0 = f64x2.splat(lr * <f64>load<f32>(ds + (<usize>i0 << 2)));
      const g1 = f64x2.splat(lr * <f64>load<f32>(ds + (<usize>i1 << 2)));
      const r0 = w + <usize>i0 * rs;
      const r1 = w + <usize>i1 * rs;
      if (complete) {
        for (let e = scratch; e < end; e += 64) {
          const o = <usize>load<i32>(e);
          const xlo = v128.load(e, 32);
          const xhi = v128.load(e, 48);
          sgdGroup(r0 + o, g0, xlo, xhi, xlo, false);
          sgdGroup(r1 + o, g1, xlo, xhi, xlo, false);
        }
      } else {
        for (let e = scratch; e < end; e += 64) {
          const o = <usize>load<i32>(e);
          const m = v128.load(e, 16);
          const xlo = v128.load(e, 32);
          const xhi = v128.load(e, 48);
          sgdGroup(r0 + o, g0, xlo, xhi, m, true);
          sgdGroup(r1 + o, g1, xlo, xhi, m, true);
        }
      }
    }
    if (t < nr) {
      const i0 = load<i32>(rowList + (<usize>t << 2));
      const g0 = f64x2.splat(lr * <f64>load<f32>(ds + (<usize>i0 << 2)));
      const r0 = w + <usize>i0 * rs;
      for (let e = scratch; e < end; e += 64)
        sgdGroup(r0 + <usize>load<i32>(e), g0, v128.load(e, 32), v128.load(e, 48), v128.load(e, 16), true);
    }
  }
}

/**
 * Mixed precision's accumulation (float64 chi, rows x cols) for the `count` samples staged at x
 * ([count][cols] float32) and d ([count][rows]), one after another: chi[i][j] += g x[j] with
 * g = lr d[i], for the rows with g != 0 and every column. scratch: 8 cols bytes (a sample's
 * inputs promoted).
 */
export function mpAccumulate(
  chi: usize, rows: i32, cols: i32, x: usize, d: usize, count: i32, lr: f64, scratch: usize,
): void {
  const pairs = cols & ~1;
  for (let s = 0; s < count; s++) {
    const xs = x + ((<usize>s * <usize>cols) << 2);
    const ds = d + ((<usize>s * <usize>rows) << 2);
    for (let j = 0; j < cols; j++) store<f64>(scratch + (<usize>j << 3), <f64>load<f32>(xs + (<usize>j << 2)));
    for (let i = 0; i < rows; i++) {
      const g: f64 = lr * <f64>load<f32>(ds + (<usize>i << 2));
      if (g == 0) continue;
      const gv = f64x2.splat(g);
      const row = chi + ((<usize>i * <usize>cols) << 3);
      let j = 0;
      for (; j + 4 <= pairs; j += 4) {
        const p = row + (<usize>j << 3);
        const q = scratch + (<usize>j << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(gv, v128.load(q))));
        v128.store(p, f64x2.add(v128.load(p, 16), f64x2.mul(gv, v128.load(q, 16))), 16);
      }
      for (; j < pairs; j += 2) {
        const p = row + (<usize>j << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(gv, v128.load(scratch + (<usize>j << 3)))));
      }
      if (pairs < cols) {
        const p = row + (<usize>pairs << 3);
        store<f64>(p, load<f64>(p) + g * load<f64>(scratch + (<usize>pairs << 3)));
      }
    }
  }
}
