/**
 * The pulse kernel's closed-form rows (see assembly/pulse.ts; update.closed_form_pulses,
 * src/core/devices/closed-form.ts is the reference, op for op): each active weight of a block
 * gets its n pulses at once with one normal of the stream (normal-stream.ts). Blocks with few
 * pulses, and the weights a bound is within reach of, pulse one by one with the block counts,
 * coefficients and rounds of rows-rounds.ts.
 */

import { hsum } from './rows-constant';
import { blockCounts, blockGroup, pulseRounds, rowAcc } from './rows-rounds';
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
  pThr,
  pW,
  pXBits,
  pXNeg,
  stdf,
} from './layout';

/** Closed-form rows: blocks whose longest count is below this pulse one by one (CLOSED_FORM_MIN of closed-form.ts). */
const CLOSED_FORM_MIN = 4;

/** Columns of the current closed-form row that pulse one by one (listed at pThr, free by then). */
let nSlow = 0;

/**
 * Binary powering of 4 lanes (closed-form.ts): doubling m -> 2m takes G <- G (1 + a^m),
 * a^m <- (a^m)^2; then where the bit is set (f = a there, else 1; e = 1 there, else 0)
 * m -> m + 1 takes G <- 1 + a G, a^m <- a a^m; a clear bit multiplies by 1 and adds 0 (exact).
 */
@inline function powerG(g: v128, p: v128, f: v128, e: v128): v128 {
  return f32x4.add(e, f32x4.mul(f, f32x4.mul(g, f32x4.add(f32x4.splat(1), p))));
}
@inline function powerP(p: v128, f: v128): v128 {
  return f32x4.mul(f, f32x4.mul(p, p));
}

/**
 * The rest of the closed form of the group at byte o (n: counts; C, K, C_s at sc + g, 64 + g,
 * 128 + g; G and a^n at sc + 400 + 32 g; its normals at idx of the buffer):
 * v_n = a^n v + C G + C_s sqrt(H) z, clipped; lanes with a bound within reach keep their weight
 * and go to the slow list. Returns the normals taken.
 */
@inline function closedFinish(o: usize, g: usize, n: v128, idx: i32, base: usize, sc: usize): i32 {
  const act = i32x4.gt_s(n, i32x4.splat(0));
  const m = i32x4.bitmask(act);
  if (m == 0) return 0;
  const pw = pW + base + o;
  const v0 = v128.load(pw);
  const c = v128.load(sc + g);
  const k = v128.load(sc + g, 64);
  const cs = v128.load(sc + g, 128);
  const z = i8x16.swizzle(v128.load(<usize>idx << 2, NBUF_AT), v128.load(<usize>m << 4, SHUF_AT));
  const lo = v128.load(pBMin + base + o);
  const hi = v128.load(pBMax + base + o);
  const one = f32x4.splat(1);
  const a = f32x4.sub(one, k);
  const gn = v128.load(sc + 400 + (g << 1));
  const p = v128.load(sc + 400 + (g << 1), 16);
  const h = f32x4.div(f32x4.mul(gn, f32x4.add(one, p)), f32x4.add(one, a));
  const sd = f32x4.mul(cs, f32x4.sqrt(h));
  const mean = f32x4.add(f32x4.mul(p, v0), f32x4.mul(c, gn));
  const v = f32x4.pmax(f32x4.pmin(f32x4.add(mean, f32x4.mul(sd, z)), hi), lo);
  const margin = f32x4.mul(f32x4.splat(8), f32x4.abs(sd));
  const far = v128.and(
    f32x4.gt(f32x4.sub(f32x4.min(v0, mean), lo), margin),
    f32x4.gt(f32x4.sub(hi, f32x4.max(v0, mean)), margin),
  );
  // one pulse: a single step, then the clip, exactly as pulsing does it
  const safe = v128.or(i32x4.eq(n, i32x4.splat(1)), v128.and(f32x4.ge(a, f32x4.splat(0)), far));
  v128.store(pw, v128.bitselect(v, v0, v128.and(act, safe)));
  let bad = i32x4.bitmask(v128.andnot(act, safe));
  while (bad != 0) {
    store<i32>(pThr + (<usize>nSlow << 2), <i32>(o >> 2) + ctz<i32>(bad));
    nSlow++;
    bad &= bad - 1;
  }
  return popcnt<i32>(m);
}

/**
 * Closed-form rows (update.closed_form_pulses; src/core/devices/closed-form.ts is the reference,
 * op for op), in blocks of 16 columns: a block whose longest count is below CLOSED_FORM_MIN pulses
 * round by round (pulseRounds, as rowBlocks of rows-rounds.ts); in the others each active weight
 * gets its n pulses at once with one normal. The powering runs over the block's 4 groups together
 * (independent chains) for the bit length of the longest count: leading zero bits leave
 * (G, a^m) = (0, 1) as they are, so each lane gets the result of its own count. Then the listed
 * weights pulse one by one (the per-pulse step of pulse4 of rows-rounds.ts with additive noise,
 * n normals each, in column order).
 */
@inline function rowClosed(base: usize, rowBits: i32, rowNeg: i32, width: i32, slope: bool): i32 {
  const sc = pScratch;
  v128.store(
    sc,
    width == 8 ? i8x16.splat(<i8>rowBits) : width == 16 ? i16x8.splat(<i16>rowBits) : i32x4.splat(rowBits),
    272,
  );
  v128.store(sc, i32x4.splat(<i32>0x80000000), 320);
  const rn = i32x4.splat(rowNeg);
  const stdv = f32x4.splat(stdf);
  if (!slope) {
    // constant step: K = 0 (blockGroup leaves the K slots alone)
    const zero = f32x4.splat(0);
    for (let g: usize = 64; g < 128; g += 16) v128.store(sc + g, zero);
  }
  rowAcc = i32x4.splat(0);
  let idx = load<i32>(pNCtl);
  nSlow = 0;
  const end = <usize>cols << 2;
  for (let jo: usize = 0; jo < end; jo += 64) {
    const longest = blockCounts(jo, width, sc);
    if (longest == 0) continue;
    blockGroup(jo, 0, base, rn, stdv, sc, slope, true);
    blockGroup(jo, 16, base, rn, stdv, sc, slope, true);
    blockGroup(jo, 32, base, rn, stdv, sc, slope, true);
    blockGroup(jo, 48, base, rn, stdv, sc, slope, true);
    if (longest < CLOSED_FORM_MIN) {
      // few pulses: one by one is cheaper (and exact)
      idx = pulseRounds(pW + base + jo, pBMin + base + jo, pBMax + base + jo, longest, idx, sc, slope, true, false);
      continue;
    }
    if (idx + 16 > load<i32>(pNCtl, 4)) {
      store<i32>(pNCtl, idx);
      refill();
      idx = load<i32>(pNCtl);
    }
    // the top bit from (G, a^m) = (0, 1), where doubling changes nothing: (e, f)
    const one = f32x4.splat(1);
    const nb = 32 - clz<i32>(longest);
    const top = 32 - nb;
    const t0 = i32x4.lt_s(i32x4.shl(v128.load(sc, 192), top), i32x4.splat(0));
    const t1 = i32x4.lt_s(i32x4.shl(v128.load(sc, 208), top), i32x4.splat(0));
    const t2 = i32x4.lt_s(i32x4.shl(v128.load(sc, 224), top), i32x4.splat(0));
    const t3 = i32x4.lt_s(i32x4.shl(v128.load(sc, 240), top), i32x4.splat(0));
    let g0 = v128.and(one, t0);
    let g1 = v128.and(one, t1);
    let g2 = v128.and(one, t2);
    let g3 = v128.and(one, t3);
    // f = a = 1 - K where the bit is set (the same bits as a), else 1 - 0
    let p0 = f32x4.sub(one, v128.and(v128.load(sc, 64), t0));
    let p1 = f32x4.sub(one, v128.and(v128.load(sc, 80), t1));
    let p2 = f32x4.sub(one, v128.and(v128.load(sc, 96), t2));
    let p3 = f32x4.sub(one, v128.and(v128.load(sc, 112), t3));
    for (let b = 1; b < nb; b++) {
      // the counts' bit nb - 1 - b, in the sign bit; four independent chains
      const sh = 32 - nb + b;
      const b0 = i32x4.lt_s(i32x4.shl(v128.load(sc, 192), sh), i32x4.splat(0));
      const b1 = i32x4.lt_s(i32x4.shl(v128.load(sc, 208), sh), i32x4.splat(0));
      const b2 = i32x4.lt_s(i32x4.shl(v128.load(sc, 224), sh), i32x4.splat(0));
      const b3 = i32x4.lt_s(i32x4.shl(v128.load(sc, 240), sh), i32x4.splat(0));
      const f0 = f32x4.sub(one, v128.and(v128.load(sc, 64), b0));
      const f1 = f32x4.sub(one, v128.and(v128.load(sc, 80), b1));
      const f2 = f32x4.sub(one, v128.and(v128.load(sc, 96), b2));
      const f3 = f32x4.sub(one, v128.and(v128.load(sc, 112), b3));
      g0 = powerG(g0, p0, f0, v128.and(one, b0));
      g1 = powerG(g1, p1, f1, v128.and(one, b1));
      g2 = powerG(g2, p2, f2, v128.and(one, b2));
      g3 = powerG(g3, p3, f3, v128.and(one, b3));
      p0 = powerP(p0, f0);
      p1 = powerP(p1, f1);
      p2 = powerP(p2, f2);
      p3 = powerP(p3, f3);
    }
    v128.store(sc, g0, 400);
    v128.store(sc, p0, 416);
    v128.store(sc, g1, 432);
    v128.store(sc, p1, 448);
    v128.store(sc, g2, 464);
    v128.store(sc, p2, 480);
    v128.store(sc, g3, 496);
    v128.store(sc, p3, 512);
    idx += closedFinish(jo, 0, v128.load(sc, 192), idx, base, sc);
    idx += closedFinish(jo + 16, 16, v128.load(sc, 208), idx, base, sc);
    idx += closedFinish(jo + 32, 32, v128.load(sc, 224), idx, base, sc);
    idx += closedFinish(jo + 48, 48, v128.load(sc, 240), idx, base, sc);
  }
  for (let t = 0; t < nSlow; t++) {
    const j = <usize>load<i32>(pThr + (<usize>t << 2));
    const n = popcnt<i32>(rowBits & load<i32>(pXBits + (j << 2)));
    const up = (rowNeg ^ load<i32>(pXNeg + (j << 2))) != 0;
    const q = base + (j << 2);
    const c: f32 = up ? load<f32>((slope ? pCUp : pSUp) + q) : -load<f32>((slope ? pCDown : pSDown) + q);
    const k: f32 = slope ? (up ? load<f32>(pKUp + q) : load<f32>(pKDown + q)) : 0;
    const cs: f32 = up ? load<f32>(pSUp + q) * stdf : -(load<f32>(pSDown + q) * stdf);
    const lo = load<f32>(pBMin + q);
    const hi = load<f32>(pBMax + q);
    if (idx + n > load<i32>(pNCtl, 4)) {
      store<i32>(pNCtl, idx);
      refill();
      idx = load<i32>(pNCtl);
    }
    let v = load<f32>(pW + q);
    for (let r = 0; r < n; r++) {
      const s = v + ((c - k * v) + cs * load<f32>(NBUF_AT + (<usize>idx << 2)));
      idx++;
      v = s > hi ? hi : s < lo ? lo : s;
    }
    store<f32>(pW + q, v);
  }
  store<i32>(pNCtl, idx);
  return hsum(rowAcc);
}

export function rowConstantClosed(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowClosed(base, rowBits, rowNeg, width, false);
}
export function rowAffineClosed(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowClosed(base, rowBits, rowNeg, width, true);
}
