/**
 * The pulse kernel's update driver (see assembly/pulse.ts): `update` runs one rank-1 update stage
 * by stage (the trains of trains.ts, then each active row through the row kernel of the device's
 * mode: rows-constant.ts, rows-rounds.ts, rows-closed.ts or rows-sparse.ts), and `updateBatch`
 * runs a batch of them with AnalogTile.updateVector's update management in front. The tile's
 * arrays and the control block are those of layout.ts.
 */

import {
  F_DESIRED,
  F_GRAN,
  F_SLOTS,
  F_UFLAGS,
  F_UMSCALE,
  MODE_AFFINE,
  MODE_AFFINE_ADD,
  MODE_AFFINE_CLOSED,
  MODE_AFFINE_MULT,
  MODE_CONSTANT,
  MODE_CONSTANT_CLOSED,
  MODE_CONSTANT_NOISE,
  PACK_AT,
  SHUF_AT,
  cols,
  mode,
  pCtl,
  pD,
  pDBits,
  pDIdx,
  pDNeg,
  pScratch,
  pStepNeg,
  pStepPos,
  pThr,
  pWords,
  pX,
  pXNeg,
  rows,
  uniform,
} from './layout';
import { drawWords, threshold, threshold4, trainBits, xTrains, xTrains1 } from './trains';
import { rowConstant, rowConstantU } from './rows-constant';
import { rowAffine, rowAffineAdd, rowAffineMult, rowConstantNoise } from './rows-rounds';
import { rowAffineClosed, rowConstantClosed } from './rows-closed';
import { nFire, rowSparse } from './rows-sparse';

/** The benchmark's profile (bench/profile.ts): 1 = stop each update after its trains (no pulses). */
let trainsOnly: i32 = 0;

/** The benchmark's profile only: 1 makes `update` stop after the trains (the weights do not move). */
export function setTrainsOnly(on: i32): void {
  trainsOnly = on;
}

/**
 * One stochastic-pulse rank-1 update (AnalogTile.updateVector after update management): the
 * trains of x (staged at pX, scale b) and d (staged at pD, scale a) with BL = bl, then the
 * pulses of every active row; `flip` = -1 for a negative learning rate. Returns the pulse count.
 */
export function update(a: f64, b: f64, bl: i32, flip: i32): f64 {
  const full: i32 = bl >= 32 ? -1 : (1 << bl) - 1;
  // 1. the lines that draw words (0 < p < 1), x then d: threshold ceil(p 2^24) (a word fires when
  //    its upper 24 bits u satisfy u < p 2^24, for an integer u exactly u < ceil(p 2^24)); 0 for
  //    p = 0 (no pulses), -1 for p >= 1 (every slot)
  const thrX = pThr;
  const thrD = pThr + (<usize>cols << 2);
  let drawing = 0;
  // uniform constant step: the signed step of each column for rows of either sign (row sign r:
  // the pulses go up where x's sign bit differs from r)
  const su = load<f32>(pScratch, 336);
  const sdn = -load<f32>(pScratch, 352);
  // four lines at a time (the same float64 ops as threshold), the last few one by one
  const c4 = cols & ~3;
  const bv = f64x2.splat(b);
  const suv = f32x4.splat(su);
  const sdnv = f32x4.splat(sdn);
  for (let j = 0; j < c4; j += 4) {
    const v = v128.load(pX + (<usize>j << 2));
    const t = threshold4(v, bv);
    v128.store(thrX + (<usize>j << 2), t);
    drawing += popcnt<i32>(i32x4.bitmask(i32x4.gt_s(t, i32x4.splat(0))));
    const neg = f32x4.lt(v, f32x4.splat(0));
    v128.store(pXNeg + (<usize>j << 2), neg);
    if (uniform) {
      v128.store(pStepPos + (<usize>j << 2), v128.bitselect(suv, sdnv, neg));
      v128.store(pStepNeg + (<usize>j << 2), v128.bitselect(sdnv, suv, neg));
    }
  }
  for (let j = c4; j < cols; j++) {
    const v = load<f32>(pX + (<usize>j << 2));
    const t = threshold(v, b);
    store<i32>(thrX + (<usize>j << 2), t);
    if (t > 0) drawing++;
    store<i32>(pXNeg + (<usize>j << 2), v < 0 ? -1 : 0);
    if (uniform) {
      store<f32>(pStepPos + (<usize>j << 2), v < 0 ? su : sdn);
      store<f32>(pStepNeg + (<usize>j << 2), v < 0 ? sdn : su);
    }
  }
  const drawingX = drawing;
  const r4 = rows & ~3;
  const av = f64x2.splat(a);
  for (let i = 0; i < r4; i += 4) {
    const t = threshold4(v128.load(pD + (<usize>i << 2)), av);
    v128.store(thrD + (<usize>i << 2), t);
    drawing += popcnt<i32>(i32x4.bitmask(i32x4.gt_s(t, i32x4.splat(0))));
  }
  for (let i = r4; i < rows; i++) {
    const t = threshold(load<f32>(pD + (<usize>i << 2)), a);
    store<i32>(thrD + (<usize>i << 2), t);
    if (t > 0) drawing++;
  }
  // 2. their words, in stream order: bl per drawing line
  drawWords(drawing * bl);
  // 3. the trains (bit s of a drawing line from its s-th word): d first, whose words follow the
  //    x lines' words; with no active row nothing reads the x trains, so they are left out
  const nv = bl <= 8 ? 2 : bl <= 16 ? 4 : 8;
  let wp = pWords + ((<usize>drawingX * <usize>bl) << 2);
  let nd = 0;
  let i0 = 0;
  if (bl == 1) {
    // 4 lines at a time, as xTrains1 (trains.ts); the firing rows left-packed onto the lists
    const zero = i32x4.splat(0);
    for (; i0 + 4 <= rows; i0 += 4) {
      const t = v128.load(thrD + (<usize>i0 << 2));
      const draw = i32x4.gt_s(t, zero);
      const m = i32x4.bitmask(draw);
      const w = i8x16.swizzle(v128.load(wp), v128.load(<usize>m << 4, SHUF_AT));
      wp += <usize>popcnt<i32>(m) << 2;
      const fire = v128.or(i32x4.lt_s(t, zero), v128.and(draw, i32x4.lt_s(i32x4.shr_u(w, 8), t)));
      const f = i32x4.bitmask(fire);
      const pack = v128.load(<usize>f << 4, PACK_AT);
      const at = <usize>nd << 2;
      v128.store(pDIdx + at, i8x16.swizzle(i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3)), pack));
      v128.store(pDBits + at, i32x4.splat(1));
      v128.store(pDNeg + at, i8x16.swizzle(f32x4.lt(v128.load(pD + (<usize>i0 << 2)), f32x4.splat(0)), pack));
      nd += popcnt<i32>(f);
    }
  }
  for (let i = i0; i < rows; i++) {
    const t = load<i32>(thrD + (<usize>i << 2));
    if (t == 0) continue;
    let mask = full;
    if (t > 0) {
      mask = trainBits(wp, t, nv) & full;
      wp += <usize>bl << 2;
    }
    if (mask == 0) continue;
    store<i32>(pDIdx + (<usize>nd << 2), i);
    store<i32>(pDBits + (<usize>nd << 2), mask);
    store<i32>(pDNeg + (<usize>nd << 2), load<f32>(pD + (<usize>i << 2)) < 0 ? -1 : 0);
    nd++;
  }
  if (nd == 0) return 0;
  const nx = bl == 1 ? xTrains1(thrX) : xTrains(thrX, bl, nv, full);
  if (nx == 0 || trainsOnly != 0) return 0;
  const width = bl <= 8 ? 8 : bl <= 16 ? 16 : 32;
  let total: f64 = 0;
  // few firing columns: the pulse-one-by-one modes visit only those (the same pulses and normals)
  nFire = nx;
  if (
    bl == 1 &&
    nx * 8 < cols &&
    (mode == MODE_CONSTANT_NOISE || mode == MODE_AFFINE || mode == MODE_AFFINE_ADD || mode == MODE_AFFINE_MULT)
  ) {
    for (let t = 0; t < nd; t++) {
      const base = (<usize>load<i32>(pDIdx + (<usize>t << 2)) * <usize>cols) << 2;
      const rowBits = load<i32>(pDBits + (<usize>t << 2));
      const rowNeg = load<i32>(pDNeg + (<usize>t << 2)) ^ flip;
      let n = 0;
      if (mode == MODE_CONSTANT_NOISE) n = rowSparse(base, rowBits, rowNeg, false, true, false);
      else if (mode == MODE_AFFINE) n = rowSparse(base, rowBits, rowNeg, true, false, false);
      else if (mode == MODE_AFFINE_ADD) n = rowSparse(base, rowBits, rowNeg, true, true, false);
      else n = rowSparse(base, rowBits, rowNeg, true, true, true);
      total += <f64>n;
    }
    return total;
  }
  for (let t = 0; t < nd; t++) {
    const base = (<usize>load<i32>(pDIdx + (<usize>t << 2)) * <usize>cols) << 2;
    const rowBits = load<i32>(pDBits + (<usize>t << 2));
    const rowNeg = load<i32>(pDNeg + (<usize>t << 2)) ^ flip;
    let n = 0;
    if (mode == MODE_CONSTANT)
      n = uniform ? rowConstantU(base, rowBits, rowNeg, width) : rowConstant(base, rowBits, rowNeg, width);
    else if (mode == MODE_CONSTANT_NOISE) n = rowConstantNoise(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE) n = rowAffine(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE_ADD) n = rowAffineAdd(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE_MULT) n = rowAffineMult(base, rowBits, rowNeg, width);
    else if (mode == MODE_CONSTANT_CLOSED) n = rowConstantClosed(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE_CLOSED) n = rowAffineClosed(base, rowBits, rowNeg, width);
    total += <f64>n;
  }
  return total;
}

/** max |v| over n float32 at p, as AnalogTile.updateVector takes it (0 when none is > 0; NaN never wins). */
@inline function absMax(p: usize, n: i32): f32 {
  // 4 lanes at a time, the last group with the lanes past n cleared (|0| never wins); then across
  // the lanes (pmax keeps the running maximum where a lane is not greater, so NaN never wins)
  const mask = i32x4.splat(0x7fffffff);
  let acc = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) acc = f32x4.pmax(acc, v128.and(v128.load(p + (<usize>k << 2)), mask));
  if (k < n) {
    const valid = i32x4.gt_s(i32x4.splat(n - k), i32x4(0, 1, 2, 3));
    acc = f32x4.pmax(acc, v128.and(v128.load(p + (<usize>k << 2)), v128.and(mask, valid)));
  }
  acc = f32x4.pmax(acc, v128.shuffle<i32>(acc, acc, 2, 3, 0, 1));
  acc = f32x4.pmax(acc, v128.shuffle<i32>(acc, acc, 1, 0, 3, 2));
  return f32x4.extract_lane(acc, 0);
}

/**
 * `count` rank-1 updates of the vectors staged at xs ([count][cols] float32) and ds ([count][rows])
 * one after another at learning rate lr: AnalogTile.updateVector's update management
 * (PulseSchedule.plan of pulse-trains.ts, op for op in float64) and `update` for each. Returns
 * the pulses; the pulse slots go to the control block (F_SLOTS).
 */
export function updateBatch(xs: usize, ds: usize, count: i32, lr: f64): f64 {
  const x0 = pX;
  const d0 = pD;
  const desired = load<i32>(pCtl + (<usize>F_DESIRED << 2));
  const flags = load<i32>(pCtl + (<usize>F_UFLAGS << 2));
  const um = (flags & 3) != 0;
  const ublm = (flags & 2) != 0;
  const umScale = load<f64>(pCtl + (<usize>F_UMSCALE << 2));
  const g = load<f64>(pCtl + (<usize>F_GRAN << 2));
  const alr = abs<f64>(lr);
  const flip = lr < 0 ? -1 : 0;
  let pulses: f64 = 0;
  let slots: f64 = 0;
  for (let s = 0; s < count; s++) {
    pX = xs + ((<usize>s * <usize>cols) << 2);
    pD = ds + ((<usize>s * <usize>rows) << 2);
    const xmax = <f64>absMax(pX, cols);
    const dmax = <f64>absMax(pD, rows);
    if (alr == 0 || xmax == 0 || dmax == 0) continue;
    let bl: f64 = <f64>desired;
    let dv = umScale * dmax;
    const k = (alr * xmax * dv) / g;
    if (ublm) bl = min<f64>(Math.ceil(k), <f64>desired);
    let a = Math.sqrt(alr / (g * bl));
    let b = a;
    if (um) {
      if (k > <f64>desired) dv *= <f64>desired / k;
      a *= Math.sqrt(xmax / dv);
      b *= Math.sqrt(dv / xmax);
    }
    if (bl == 0) continue;
    slots += bl;
    pulses += update(a, b, <i32>bl, flip);
  }
  pX = x0;
  pD = d0;
  store<f64>(pCtl + (<usize>F_SLOTS << 2), slots);
  return pulses;
}
