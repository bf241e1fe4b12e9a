/**
 * The pulse kernel's sparse rows (see assembly/pulse.ts): the rows of the pulse-one-by-one modes
 * (rows-rounds.ts) when few columns fire (BL 1), visiting only the columns of the fire list that
 * xTrains1 (trains.ts) writes; the same pulses, in the same order, with the same normals of the
 * stream (normal-stream.ts) as rows-rounds.ts gives.
 */

import { refill } from './normal-stream';
import {
  NBUF_AT,
  cols,
  pBMax,
  pBMin,
  pCDown,
  pCUp,
  pFire,
  pKDown,
  pKUp,
  pNCtl,
  pSDown,
  pSUp,
  pW,
  pXBits,
  pXNeg,
  stdf,
} from './layout';

/** Entries of the fire list of the current update. */
export let nFire = 0;

/**
 * A row of the pulse-one-by-one modes (rowBlocks of rows-rounds.ts: constant step with noise,
 * affine with or without noise) when few columns fire: the same pulses in the same order, visiting
 * only the columns of the fire list. Block by block of 16 columns (those with a firing column),
 * round by round, in column order; one pulse is pulse4's float32 arithmetic on one weight; one
 * normal per pulse when noisy. Returns the pulses.
 */
@inline export function rowSparse(base: usize, rowBits: i32, rowNeg: i32, slope: bool, noise: bool, mult: bool): i32 {
  const cnt = pFire + ((<usize>cols + 16) << 2);
  let idx = noise ? load<i32>(pNCtl) : 0;
  let nEnd = noise ? load<i32>(pNCtl, 4) : 0;
  let total = 0;
  let t = 0;
  while (t < nFire) {
    const end = (load<i32>(pFire + (<usize>t << 2)) & ~15) + 16;
    // the block's firing columns [t, u) and their coincidence counts
    let u = t;
    let longest = 0;
    let sum = 0;
    while (u < nFire) {
      const j = load<i32>(pFire + (<usize>u << 2));
      if (j >= end) break;
      const n = popcnt<i32>(rowBits & load<i32>(pXBits + (<usize>j << 2)));
      store<i32>(cnt + (<usize>(u - t) << 2), n);
      if (n > longest) longest = n;
      sum += n;
      u++;
    }
    if (sum != 0) {
      total += sum;
      for (let p = 0; p < longest; p++) {
        for (let q = t; q < u; q++) {
          if (load<i32>(cnt + (<usize>(q - t) << 2)) <= p) continue;
          const j = <usize>load<i32>(pFire + (<usize>q << 2));
          const k = base + (j << 2);
          // branch-free: the direction picks the arrays and the sign (xor of the sign bit is f32 negation)
          const up = (load<i32>(pXNeg + (j << 2)) ^ rowNeg) != 0;
          const sg = select<i32>(0, <i32>0x80000000, up);
          const c = reinterpret<f32>(
            reinterpret<i32>(load<f32>(select<usize>(slope ? pCUp : pSUp, slope ? pCDown : pSDown, up) + k)) ^ sg,
          );
          const v = load<f32>(pW + k);
          let st: f32 = slope ? c - load<f32>(select<usize>(pKUp, pKDown, up) + k) * v : c;
          if (noise) {
            if (idx >= nEnd) {
              // the buffer is used up (a refill moves the unread rest first, here none)
              store<i32>(pNCtl, idx);
              refill();
              idx = load<i32>(pNCtl);
              nEnd = load<i32>(pNCtl, 4);
            }
            const z = load<f32>(NBUF_AT + (<usize>idx << 2));
            idx++;
            if (mult) st = st + st * stdf * z;
            else
              st =
                st + reinterpret<f32>(reinterpret<i32>(load<f32>(select<usize>(pSUp, pSDown, up) + k) * stdf) ^ sg) * z;
          }
          const vn = v + st;
          const hi = load<f32>(pBMax + k);
          const lo = load<f32>(pBMin + k);
          const m = select<f32>(hi, vn, hi < vn);
          store<f32>(pW + k, select<f32>(lo, m, m < lo));
        }
      }
    }
    t = u;
  }
  if (noise) store<i32>(pNCtl, idx);
  return total;
}
