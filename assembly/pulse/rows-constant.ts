/**
 * The pulse kernel's rows of a constant-step device without noise (see assembly/pulse.ts): every
 * weight of the row moves by n steps at once, w + n * step, clipped (ConstantStepDevice.pulseRow of
 * src/core/devices/constant-step.ts), n the coincidences of the row's d train with the column's x
 * train (trains.ts). Also the popcount and lane sum the other row kernels (rows-*.ts) share.
 */

import {
  cols,
  pBMax,
  pBMin,
  pSDown,
  pSUp,
  pScratch,
  pStepNeg,
  pStepPos,
  pW,
  pXBits,
  pXBits16,
  pXBits8,
  pXNeg,
} from './layout';

/** popcount of each i32 lane; sc + 256 holds i16x8.splat(1) (written by init, layout.ts). */
@inline export function popcnt4(v: v128, sc: usize): v128 {
  return i32x4.dot_i16x8_s(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v)), v128.load(sc, 256));
}

@inline export function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** One group of 4 weights of rowConstant at byte offset jo of the row (see there). */
@inline function constGroup(
  n: v128, jo: usize, xn: usize, pw: usize, su: usize, sd: usize, lo: usize, hi: usize, sc: usize,
): void {
  // branch-free: lanes without coincidences keep their weight through the final select (a skip
  // branch mispredicts at the densities of small learning rates)
  // dn = -1 where the pulses go down; ns = n or -n; ns * s_down = -(n * s_down) exactly
  const dn = v128.xor(v128.load(xn + jo), v128.load(sc, 288));
  const ns = i32x4.sub(v128.xor(n, dn), dn);
  const mag = v128.bitselect(v128.load(sd + jo), v128.load(su + jo), dn);
  const w = v128.load(pw + jo);
  let v = f32x4.add(w, f32x4.mul(f32x4.convert_i32x4_s(ns), mag));
  v = f32x4.pmax(f32x4.pmin(v, v128.load(hi + jo)), v128.load(lo + jo));
  v128.store(pw + jo, v128.bitselect(v, w, i32x4.gt_s(n, v128.load(sc, 304))));
}

/**
 * constGroup for a uniform device: `st` holds the row's signed step of each column (s_up, or
 * -s_down where the pulses go down), so n * step is the -(n * s_down) of constGroup exactly.
 */
@inline function constGroupU(n: v128, jo: usize, st: usize, pw: usize, sc: usize): void {
  const w = v128.load(pw + jo);
  let v = f32x4.add(w, f32x4.mul(f32x4.convert_i32x4_s(n), v128.load(st + jo)));
  v = f32x4.pmax(f32x4.pmin(v, v128.load(sc, 384)), v128.load(sc, 368));
  v128.store(pw + jo, v128.bitselect(v, w, i32x4.gt_s(n, v128.load(sc, 304))));
}

/** rowConstant for a uniform device (see there). */
export function rowConstantU(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  // the steps of the columns for this row's sign (written by update, update.ts)
  const xn = rowNeg != 0 ? pStepNeg : pStepPos;
  const pw = pW + base;
  const sc = pScratch;
  v128.store(sc, i32x4.splat(0), 304);
  let acc = i32x4.splat(0);
  const end = <usize>cols << 2;
  if (width == 8) {
    const xb = pXBits8;
    v128.store(sc, i8x16.splat(<i8>rowBits), 272);
    for (let jo: usize = 0; jo < end; jo += 64) {
      const c = i8x16.popcnt(v128.and(v128.load(xb + (jo >> 2)), v128.load(sc, 272)));
      const c01 = i16x8.extend_low_i8x16_u(c);
      const c23 = i16x8.extend_high_i8x16_u(c);
      const n0 = i32x4.extend_low_i16x8_u(c01);
      const n1 = i32x4.extend_high_i16x8_u(c01);
      const n2 = i32x4.extend_low_i16x8_u(c23);
      const n3 = i32x4.extend_high_i16x8_u(c23);
      constGroupU(n0, jo, xn, pw, sc);
      constGroupU(n1, jo + 16, xn, pw, sc);
      constGroupU(n2, jo + 32, xn, pw, sc);
      constGroupU(n3, jo + 48, xn, pw, sc);
      acc = i32x4.add(acc, i32x4.add(i32x4.add(n0, n1), i32x4.add(n2, n3)));
    }
  } else if (width == 16) {
    const xb = pXBits16;
    v128.store(sc, i16x8.splat(<i16>rowBits), 272);
    for (let jo: usize = 0; jo < end; jo += 32) {
      const c = i16x8.extadd_pairwise_i8x16_u(
        i8x16.popcnt(v128.and(v128.load(xb + (jo >> 1)), v128.load(sc, 272))),
      );
      const n0 = i32x4.extend_low_i16x8_u(c);
      const n1 = i32x4.extend_high_i16x8_u(c);
      constGroupU(n0, jo, xn, pw, sc);
      constGroupU(n1, jo + 16, xn, pw, sc);
      acc = i32x4.add(acc, i32x4.add(n0, n1));
    }
  } else {
    const xb = pXBits;
    v128.store(sc, i32x4.splat(rowBits), 272);
    for (let jo: usize = 0; jo < end; jo += 32) {
      const n0 = popcnt4(v128.and(v128.load(xb + jo), v128.load(sc, 272)), sc);
      const n1 = popcnt4(v128.and(v128.load(xb + jo, 16), v128.load(sc, 272)), sc);
      constGroupU(n0, jo, xn, pw, sc);
      constGroupU(n1, jo + 16, xn, pw, sc);
      acc = i32x4.add(acc, i32x4.add(n0, n1));
    }
  }
  return hsum(acc);
}

/**
 * Constant step without noise: w + n * step, clipped (ConstantStepDevice.pulseRow). The
 * coincidence counts come from the x trains in the narrowest form that holds BL bits (bytes for
 * BL <= 8, 16 columns per popcount; halfwords for BL <= 16; words), written by `update` (update.ts).
 */
export function rowConstant(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  const xn = pXNeg;
  const pw = pW + base;
  const su = pSUp + base;
  const sd = pSDown + base;
  const lo = pBMin + base;
  const hi = pBMax + base;
  // loop constants through memory (V8 would rebuild splats inside the loop)
  const sc = pScratch;
  v128.store(sc, v128.not(i32x4.splat(rowNeg)), 288);
  v128.store(sc, i32x4.splat(0), 304);
  let acc = i32x4.splat(0);
  const end = <usize>cols << 2;
  if (width == 8) {
    const xb = pXBits8;
    v128.store(sc, i8x16.splat(<i8>rowBits), 272);
    for (let jo: usize = 0; jo < end; jo += 64) {
      // 16 columns: one popcount of bytes (x trains zero-padded to a multiple of 16 columns, so
      // the lanes past the row's end have no pulses and are written back unchanged)
      const c = i8x16.popcnt(v128.and(v128.load(xb + (jo >> 2)), v128.load(sc, 272)));
      const c01 = i16x8.extend_low_i8x16_u(c);
      const c23 = i16x8.extend_high_i8x16_u(c);
      const n0 = i32x4.extend_low_i16x8_u(c01);
      const n1 = i32x4.extend_high_i16x8_u(c01);
      const n2 = i32x4.extend_low_i16x8_u(c23);
      const n3 = i32x4.extend_high_i16x8_u(c23);
      constGroup(n0, jo, xn, pw, su, sd, lo, hi, sc);
      constGroup(n1, jo + 16, xn, pw, su, sd, lo, hi, sc);
      constGroup(n2, jo + 32, xn, pw, su, sd, lo, hi, sc);
      constGroup(n3, jo + 48, xn, pw, su, sd, lo, hi, sc);
      acc = i32x4.add(acc, i32x4.add(i32x4.add(n0, n1), i32x4.add(n2, n3)));
    }
  } else if (width == 16) {
    const xb = pXBits16;
    v128.store(sc, i16x8.splat(<i16>rowBits), 272);
    for (let jo: usize = 0; jo < end; jo += 32) {
      const c = i16x8.extadd_pairwise_i8x16_u(
        i8x16.popcnt(v128.and(v128.load(xb + (jo >> 1)), v128.load(sc, 272))),
      );
      const n0 = i32x4.extend_low_i16x8_u(c);
      const n1 = i32x4.extend_high_i16x8_u(c);
      constGroup(n0, jo, xn, pw, su, sd, lo, hi, sc);
      constGroup(n1, jo + 16, xn, pw, su, sd, lo, hi, sc);
      acc = i32x4.add(acc, i32x4.add(n0, n1));
    }
  } else {
    const xb = pXBits;
    v128.store(sc, i32x4.splat(rowBits), 272);
    for (let jo: usize = 0; jo < end; jo += 32) {
      const n0 = popcnt4(v128.and(v128.load(xb + jo), v128.load(sc, 272)), sc);
      const n1 = popcnt4(v128.and(v128.load(xb + jo, 16), v128.load(sc, 272)), sc);
      constGroup(n0, jo, xn, pw, su, sd, lo, hi, sc);
      constGroup(n1, jo + 16, xn, pw, su, sd, lo, hi, sc);
      acc = i32x4.add(acc, i32x4.add(n0, n1));
    }
  }
  return hsum(acc);
}
