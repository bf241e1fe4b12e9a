/**
 * The pulse kernel's pulse trains (see assembly/pulse.ts): trainOf of src/core/pulse-trains.ts in
 * three steps, as `update` (update.ts) runs them: the lines' firing thresholds, the pulse
 * generator's words in stream order, and the trains of bits (u_s < t), here the x trains in the
 * three widths the row kernels (rows-*.ts) read and the fire list rows-sparse.ts visits. The
 * generator's state and the trains live in the tile's memory at the addresses of layout.ts.
 */

import { PACK_AT, SHUF_AT, cols, pFire, pPrng, pWords, pXBits, pXBits16, pXBits8 } from './layout';

/**
 * trainOf of pulse-trains.ts in three steps (see update, update.ts): the line's firing threshold:
 * 0 when p = scale |v| is not > 0, -1 when p >= 1, else ceil(p 2^24) in [1, 2^24].
 */
@inline export function threshold(v: f32, scale: f64): i32 {
  const p: f64 = <f64>(v < 0 ? -v : v) * scale;
  if (!(p > 0)) return 0;
  if (p >= 1) return -1;
  return <i32>Math.ceil(p * 16777216.0);
}

/** threshold of 4 lines (float64 in two halves, as threshold computes it). */
@inline export function threshold4(v: v128, scale: v128): v128 {
  const av = v128.and(v, i32x4.splat(0x7fffffff)); // |v|, exactly (v < 0 ? -v : v) but for -0 -> +0: p = 0 either way
  const plo = f64x2.mul(f64x2.promote_low_f32x4(av), scale);
  const phi = f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<i32>(av, av, 2, 3, 0, 1)), scale);
  const two24 = f64x2.splat(16777216.0);
  const tlo = i32x4.trunc_sat_f64x2_s_zero(f64x2.ceil(f64x2.mul(plo, two24)));
  const thi = i32x4.trunc_sat_f64x2_s_zero(f64x2.ceil(f64x2.mul(phi, two24)));
  const t = v128.shuffle<i32>(tlo, thi, 0, 1, 4, 5);
  // masks of the halves: p > 0 (not NaN) and p >= 1, narrowed from i64 lanes to i32
  const pos = v128.shuffle<i32>(f64x2.gt(plo, f64x2.splat(0)), f64x2.gt(phi, f64x2.splat(0)), 0, 2, 4, 6);
  const one = v128.shuffle<i32>(f64x2.ge(plo, f64x2.splat(1)), f64x2.ge(phi, f64x2.splat(1)), 0, 2, 4, 6);
  return v128.or(v128.and(t, pos), one);
}

/** The next n words of the pulse generator (state in memory) at pWords. */
export function drawWords(n: i32): void {
  let s0 = load<u32>(pPrng);
  let s1 = load<u32>(pPrng, 4);
  let s2 = load<u32>(pPrng, 8);
  let s3 = load<u32>(pPrng, 12);
  const end = pWords + (<usize>n << 2);
  for (let q = pWords; q < end; q += 4) {
    store<u32>(q, rotl<u32>(s1 * 5, 7) * 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl<u32>(s3, 11);
  }
  store<u32>(pPrng, s0);
  store<u32>(pPrng, s1, 4);
  store<u32>(pPrng, s2, 8);
  store<u32>(pPrng, s3, 12);
}

/**
 * Bits s < bl (and possibly above: the caller masks) of u_s < t for the words u at wp; `nv`
 * vectors of 4 words (2, 4 or 8: bl <= 8, 16, 32).
 */
@inline export function trainBits(wp: usize, t: i32, nv: i32): i32 {
  const tv = i32x4.splat(t);
  let mask =
    i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp), 8), tv)) |
    (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 16), 8), tv)) << 4);
  if (nv > 2) {
    mask |=
      (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 32), 8), tv)) << 8) |
      (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 48), 8), tv)) << 12);
  }
  if (nv > 4) {
    mask |=
      (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 64), 8), tv)) << 16) |
      (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 80), 8), tv)) << 20);
    mask |=
      (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 96), 8), tv)) << 24) |
      (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 112), 8), tv)) << 28);
  }
  return mask;
}

/** Stores the x trains of columns j .. j+3 (i32 lanes) in the three widths the row kernels read. */
@inline function storeX4(j: usize, bits: v128): void {
  v128.store(pXBits + (j << 2), bits);
  v128.store32_lane(pXBits8 + j, v128.shuffle<u8>(bits, bits, 0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
  v128.store64_lane(
    pXBits16 + (j << 1),
    v128.shuffle<u8>(bits, bits, 0, 1, 4, 5, 8, 9, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0),
    0,
  );
}

/**
 * The x trains for BL = 1 from the words at pWords, 4 columns at a time: the drawing lanes
 * (threshold > 0) take the next words in column order (through the swizzle table), a lane fires
 * when its word's upper 24 bits are below the threshold; threshold -1 fires, 0 never. Returns
 * the number of columns with a pulse.
 */
export function xTrains1(thrX: usize): i32 {
  const zero = i32x4.splat(0);
  const one = i32x4.splat(1);
  let wp = pWords;
  let nx = 0;
  const c4 = cols & ~3;
  for (let j = 0; j < c4; j += 4) {
    const t = v128.load(thrX + (<usize>j << 2));
    const draw = i32x4.gt_s(t, zero);
    const m = i32x4.bitmask(draw);
    const w = i8x16.swizzle(v128.load(wp), v128.load(<usize>m << 4, SHUF_AT));
    wp += <usize>popcnt<i32>(m) << 2;
    const fire = v128.or(i32x4.lt_s(t, zero), v128.and(draw, i32x4.lt_s(i32x4.shr_u(w, 8), t)));
    storeX4(<usize>j, v128.and(fire, one));
    // the firing columns, left-packed onto the list (branch-free: lanes past the count are
    // overwritten by the next group)
    const f = i32x4.bitmask(fire);
    v128.store(
      pFire + (<usize>nx << 2),
      i8x16.swizzle(i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3)), v128.load(<usize>f << 4, PACK_AT)),
    );
    nx += popcnt<i32>(f);
  }
  for (let j = c4; j < cols; j++) {
    const t = load<i32>(thrX + (<usize>j << 2));
    let mask = t < 0 ? 1 : 0;
    if (t > 0) {
      mask = (load<u32>(wp) >>> 8) < <u32>t ? 1 : 0;
      wp += 4;
    }
    store<i32>(pXBits + (<usize>j << 2), mask);
    store<u8>(pXBits8 + <usize>j, <u8>mask);
    store<u16>(pXBits16 + (<usize>j << 1), <u16>mask);
    // branch-free: the entry is kept only when the column fires
    store<i32>(pFire + (<usize>nx << 2), j);
    nx += <i32>(mask != 0);
  }
  return nx;
}

/** The x trains for any BL (one column at a time, trainBits); returns the columns with a pulse. */
export function xTrains(thrX: usize, bl: i32, nv: i32, full: i32): i32 {
  let wp = pWords;
  let nx = 0;
  for (let j = 0; j < cols; j++) {
    const t = load<i32>(thrX + (<usize>j << 2));
    let mask = t < 0 ? full : 0;
    if (t > 0) {
      mask = trainBits(wp, t, nv) & full;
      wp += <usize>bl << 2;
    }
    store<i32>(pXBits + (<usize>j << 2), mask);
    store<u8>(pXBits8 + <usize>j, <u8>mask);
    store<u16>(pXBits16 + (<usize>j << 1), <u16>mask);
    // branch-free: the entry is kept only when the column fires
    store<i32>(pFire + (<usize>nx << 2), j);
    nx += <i32>(mask != 0);
  }
  return nx;
}
