/**
 * The pulse kernel's rows that pulse one by one (see assembly/pulse.ts): constant step with
 * cycle-to-cycle noise, and the affine devices (C - K v: softbounds, linear step) without noise or
 * with additive or multiplicative noise (ConstantStepDevice and AffineResponseDevice of
 * src/core/devices/). In blocks of 16 columns, round by round, one normal of the stream
 * (normal-stream.ts) per noisy pulse. The block counts, coefficients and rounds here are shared
 * with the closed-form rows (rows-closed.ts); popcnt4 and hsum come from rows-constant.ts.
 */

import { hsum, popcnt4 } from './rows-constant';
import { refill } from './normal-stream';
import {
  NBUF_AT,
  SHUF_AT,
  cols,
  pBMax,
  pBMin,
  pCDown,
  pCUp,
  pKDown,
  pKUp,
  pNCtl,
  pSDown,
  pSUp,
  pScratch,
  pW,
  pXBits,
  pXBits16,
  pXBits8,
  pXNeg,
  stdf,
} from './layout';

/**
 * One pulse on the active lanes of a group of 4 weights (float32, as ConstantStepDevice and
 * AffineResponseDevice do it): S = C - K v (slope) or C; T = S + (S std) z (mult), S + CS z
 * (additive noise) or S; v = clip(v + T).
 */
@inline function pulse4(
  v: v128, c: v128, k: v128, cs: v128, stdv: v128, z: v128, lo: v128, hi: v128, act: v128,
  slope: bool, noise: bool, mult: bool,
): v128 {
  const s = slope ? f32x4.sub(c, f32x4.mul(k, v)) : c;
  let t = s;
  if (noise) t = mult ? f32x4.add(s, f32x4.mul(f32x4.mul(s, stdv), z)) : f32x4.add(s, f32x4.mul(cs, z));
  const vn = f32x4.pmax(f32x4.pmin(f32x4.add(v, t), hi), lo);
  return v128.bitselect(vn, v, act);
}

/**
 * The coefficients of the group of 4 weights at byte g of the block at jo into the scratch:
 * up = -1 where the pulses go up; sg = the sign bit where they go down (negation by xor is
 * exactly f32 negation); C (scratch 0 + g), K (64 + g), C_s = +-float32(s * std) (128 + g).
 */
@inline export function blockGroup(
  jo: usize, g: usize, base: usize, rn: v128, stdv: v128, sc: usize, slope: bool, add: bool,
): void {
  const o = jo + g;
  const q = base + o;
  const up = v128.xor(v128.load(pXNeg + o), rn);
  const sg = v128.andnot(v128.load(sc, 320), up);
  v128.store(
    sc + g,
    v128.xor(v128.bitselect(v128.load((slope ? pCUp : pSUp) + q), v128.load((slope ? pCDown : pSDown) + q), up), sg),
  );
  if (slope) v128.store(sc + g, v128.bitselect(v128.load(pKUp + q), v128.load(pKDown + q), up), 64);
  if (add)
    v128.store(
      sc + g,
      v128.xor(f32x4.mul(v128.bitselect(v128.load(pSUp + q), v128.load(pSDown + q), up), stdv), sg),
      128,
    );
}

/** The pulses of the current row so far, per lane (blockCounts adds, the row kernels sum). */
export let rowAcc: v128 = i32x4.splat(0);

/**
 * The coincidence counts of the 16 columns of the block at byte jo of the row, into the scratch
 * at 192, 208, 224, 240 (groups of 4), from the narrowest form of the x trains; sc + 272 holds
 * the row's train splatted to that width. Adds them to rowAcc; returns the longest (0: none).
 */
@inline export function blockCounts(jo: usize, width: i32, sc: usize): i32 {
  if (width == 8) {
    const c = i8x16.popcnt(v128.and(v128.load(pXBits8 + (jo >> 2)), v128.load(sc, 272)));
    const c01 = i16x8.extend_low_i8x16_u(c);
    const c23 = i16x8.extend_high_i8x16_u(c);
    v128.store(sc, i32x4.extend_low_i16x8_u(c01), 192);
    v128.store(sc, i32x4.extend_high_i16x8_u(c01), 208);
    v128.store(sc, i32x4.extend_low_i16x8_u(c23), 224);
    v128.store(sc, i32x4.extend_high_i16x8_u(c23), 240);
  } else if (width == 16) {
    const c01 = i16x8.extadd_pairwise_i8x16_u(
      i8x16.popcnt(v128.and(v128.load(pXBits16 + (jo >> 1)), v128.load(sc, 272))),
    );
    const c23 = i16x8.extadd_pairwise_i8x16_u(
      i8x16.popcnt(v128.and(v128.load(pXBits16 + (jo >> 1), 16), v128.load(sc, 272))),
    );
    v128.store(sc, i32x4.extend_low_i16x8_u(c01), 192);
    v128.store(sc, i32x4.extend_high_i16x8_u(c01), 208);
    v128.store(sc, i32x4.extend_low_i16x8_u(c23), 224);
    v128.store(sc, i32x4.extend_high_i16x8_u(c23), 240);
  } else {
    v128.store(sc, popcnt4(v128.and(v128.load(pXBits + jo), v128.load(sc, 272)), sc), 192);
    v128.store(sc, popcnt4(v128.and(v128.load(pXBits + jo, 16), v128.load(sc, 272)), sc), 208);
    v128.store(sc, popcnt4(v128.and(v128.load(pXBits + jo, 32), v128.load(sc, 272)), sc), 224);
    v128.store(sc, popcnt4(v128.and(v128.load(pXBits + jo, 48), v128.load(sc, 272)), sc), 240);
  }
  const n0 = v128.load(sc, 192);
  const n1 = v128.load(sc, 208);
  const n2 = v128.load(sc, 224);
  const n3 = v128.load(sc, 240);
  let nm = i32x4.max_s(i32x4.max_s(n0, n1), i32x4.max_s(n2, n3));
  if (!v128.any_true(nm)) return 0;
  rowAcc = i32x4.add(rowAcc, i32x4.add(i32x4.add(n0, n1), i32x4.add(n2, n3)));
  nm = i32x4.max_s(nm, v128.shuffle<i32>(nm, nm, 2, 3, 0, 1));
  nm = i32x4.max_s(nm, v128.shuffle<i32>(nm, nm, 1, 0, 3, 2));
  return i32x4.extract_lane(nm, 0);
}

/**
 * The pulses of the block of 16 columns at pw (bounds at pLo, pHi) round by round (see rowBlocks):
 * counts at sc + 192 .. 240, the groups' signed coefficients C (sc + 0), K (64), C_s (128); the
 * normals from position idx of the stream. Returns the position after.
 */
@inline export function pulseRounds(
  pw: usize, pLo: usize, pHi: usize, rounds: i32, idxIn: i32, sc: usize, slope: bool, noise: bool, mult: bool,
): i32 {
  let idx = idxIn;
  const zero = i32x4.splat(0);
  const stdv = f32x4.splat(stdf);
  // the bounds are loaded per round, from the device's arrays: held in registers, V8 would
  // spill the weights of the block instead (a store-load on the chain of every round)
  let v0 = v128.load(pw);
  let v1 = v128.load(pw, 16);
  let v2 = v128.load(pw, 32);
  let v3 = v128.load(pw, 48);
  for (let p = 0; p < rounds; p++) {
    const pv = i32x4.splat(p);
    const a0 = i32x4.gt_s(v128.load(sc, 192), pv);
    const a1 = i32x4.gt_s(v128.load(sc, 208), pv);
    const a2 = i32x4.gt_s(v128.load(sc, 224), pv);
    const a3 = i32x4.gt_s(v128.load(sc, 240), pv);
    let z0 = zero;
    let z1 = zero;
    let z2 = zero;
    let z3 = zero;
    if (noise) {
      if (idx + 16 > load<i32>(pNCtl, 4)) {
        store<i32>(pNCtl, idx);
        refill();
        idx = load<i32>(pNCtl);
      }
      const m0 = i32x4.bitmask(a0);
      const m1 = i32x4.bitmask(a1);
      const m2 = i32x4.bitmask(a2);
      const m3 = i32x4.bitmask(a3);
      z0 = i8x16.swizzle(v128.load(<usize>idx << 2, NBUF_AT), v128.load(<usize>m0 << 4, SHUF_AT));
      idx += popcnt<i32>(m0);
      z1 = i8x16.swizzle(v128.load(<usize>idx << 2, NBUF_AT), v128.load(<usize>m1 << 4, SHUF_AT));
      idx += popcnt<i32>(m1);
      z2 = i8x16.swizzle(v128.load(<usize>idx << 2, NBUF_AT), v128.load(<usize>m2 << 4, SHUF_AT));
      idx += popcnt<i32>(m2);
      z3 = i8x16.swizzle(v128.load(<usize>idx << 2, NBUF_AT), v128.load(<usize>m3 << 4, SHUF_AT));
      idx += popcnt<i32>(m3);
    }
    v0 = pulse4(
      v0, v128.load(sc), v128.load(sc, 64), v128.load(sc, 128), stdv, z0,
      v128.load(pLo), v128.load(pHi), a0, slope, noise, mult,
    );
    v1 = pulse4(
      v1, v128.load(sc, 16), v128.load(sc, 80), v128.load(sc, 144), stdv, z1,
      v128.load(pLo, 16), v128.load(pHi, 16), a1, slope, noise, mult,
    );
    v2 = pulse4(
      v2, v128.load(sc, 32), v128.load(sc, 96), v128.load(sc, 160), stdv, z2,
      v128.load(pLo, 32), v128.load(pHi, 32), a2, slope, noise, mult,
    );
    v3 = pulse4(
      v3, v128.load(sc, 48), v128.load(sc, 112), v128.load(sc, 176), stdv, z3,
      v128.load(pLo, 48), v128.load(pHi, 48), a3, slope, noise, mult,
    );
  }
  v128.store(pw, v0);
  v128.store(pw, v1, 16);
  v128.store(pw, v2, 32);
  v128.store(pw, v3, 48);
  return idx;
}

/**
 * Pulses one by one in blocks of 16 columns (PULSE_BLOCK of devices/base.ts): within a block
 * round by round (round p: the p-th pulse of every weight with more than p coincidences, in
 * column order, one normal each when noisy), the block's 4 groups of 4 held in registers.
 * `slope`: affine step C - K v (else constant C); `noise`/`mult`: cycle-to-cycle noise,
 * multiplicative or additive.
 */
@inline function rowBlocks(
  base: usize, rowBits: i32, rowNeg: i32, width: i32, slope: bool, noise: bool, mult: bool,
): i32 {
  const pw = pW + base;
  const pLo = pBMin + base;
  const pHi = pBMax + base;
  const sc = pScratch;
  v128.store(
    sc,
    width == 8 ? i8x16.splat(<i8>rowBits) : width == 16 ? i16x8.splat(<i16>rowBits) : i32x4.splat(rowBits),
    272,
  );
  v128.store(sc, i32x4.splat(<i32>0x80000000), 320);
  const rn = i32x4.splat(rowNeg);
  const stdv = f32x4.splat(stdf);
  rowAcc = i32x4.splat(0);
  let idx = noise ? load<i32>(pNCtl) : 0;
  const end = <usize>cols << 2;
  for (let jo: usize = 0; jo < end; jo += 64) {
    const rounds = blockCounts(jo, width, sc);
    if (rounds == 0) continue;
    // the block's signed coefficients, group by group into the scratch (V8 would recompute pure
    // values inside the rounds loop, next to their use: through memory they are computed once;
    // one group at a time keeps few values live)
    blockGroup(jo, 0, base, rn, stdv, sc, slope, noise && !mult);
    blockGroup(jo, 16, base, rn, stdv, sc, slope, noise && !mult);
    blockGroup(jo, 32, base, rn, stdv, sc, slope, noise && !mult);
    blockGroup(jo, 48, base, rn, stdv, sc, slope, noise && !mult);
    idx = pulseRounds(pw + jo, pLo + jo, pHi + jo, rounds, idx, sc, slope, noise, mult);
  }
  if (noise) store<i32>(pNCtl, idx);
  return hsum(rowAcc);
}

export function rowConstantNoise(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, false, true, false);
}
export function rowAffine(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, true, false, false);
}
export function rowAffineAdd(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, true, true, false);
}
export function rowAffineMult(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, true, true, true);
}
