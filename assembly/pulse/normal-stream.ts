/**
 * The pulse kernel's normal stream (see assembly/pulse.ts): NormalStream of
 * src/core/normal-stream.ts, op for op. `refill` carries the unread normals to the front of the
 * buffer at NBUF_AT and appends a block from the ziggurat on four xoshiro128** lanes; the rare
 * rejected words run afterwards on the scalar tail generator, in stream order. The row kernels
 * (rows-*.ts) read the buffer and call refill when it runs out; the state (lanes, tail generator,
 * buffer read/end positions) lives in the tile's memory at the addresses of layout.ts.
 */

import { block, pLanes, pNBuf, pNCtl, pRej, pTail, pZF, pZK, pZW } from './layout';

@external("env", "zigTail")
declare function zigTailJs(hz: i32): f64;

// ---- scalar xoshiro128** (the tail generator): its state in tl0..3 during a rejection pass ----

let tl0: u32 = 0;
let tl1: u32 = 0;
let tl2: u32 = 0;
let tl3: u32 = 0;

function tailLoad(): void {
  tl0 = load<u32>(pTail);
  tl1 = load<u32>(pTail, 4);
  tl2 = load<u32>(pTail, 8);
  tl3 = load<u32>(pTail, 12);
}

function tailStore(): void {
  store<u32>(pTail, tl0);
  store<u32>(pTail, tl1, 4);
  store<u32>(pTail, tl2, 8);
  store<u32>(pTail, tl3, 12);
}

@inline function tailNext(): u32 {
  let s0 = tl0;
  let s1 = tl1;
  let s2 = tl2;
  let s3 = tl3;
  const r = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  tl0 = s0;
  tl1 = s1;
  tl2 = s2;
  tl3 = s3;
  return r;
}

/** Rng.uniform53 of rng.ts. */
function tailUniform53(): f64 {
  const hi = tailNext() >>> 5;
  const lo = tailNext() >>> 6;
  return (<f64>hi * 67108864.0 + <f64>lo) / 9007199254740992.0;
}

// ---- zigExp of ziggurat.ts, op for op ----
const EXP_LN2_HI: f64 = 6.93147180369123816490e-1;
const EXP_LN2_LO: f64 = 1.90821492927058770002e-10;
const EXP_INV_LN2: f64 = 1.4426950408889634;
const EXP_P1: f64 = 1.66666666666666019037e-1;
const EXP_P2: f64 = -2.77777777770155933842e-3;
const EXP_P3: f64 = 6.61375632143793436117e-5;
const EXP_P4: f64 = -1.65339022054652515390e-6;
const EXP_P5: f64 = 4.13813679705723846039e-8;

function zigExp(t: f64): f64 {
  if (!(t > -700.0)) return 0.0;
  const k = Math.floor(EXP_INV_LN2 * t + 0.5);
  const hi = t - k * EXP_LN2_HI;
  const lo = k * EXP_LN2_LO;
  const r = hi - lo;
  const r2 = r * r;
  const c = r - r2 * (EXP_P1 + r2 * (EXP_P2 + r2 * (EXP_P3 + r2 * (EXP_P4 + r2 * EXP_P5))));
  const y = 1.0 - (lo - (r * c) / (2.0 - c) - hi);
  // 2^k exactly (k in [-1010, 0]): the same bits as ziggurat.ts's POW2_NEG[-k]
  return y * reinterpret<f64>(<u64>(1023 + <i32>k) << 52);
}

/** NormalStream.reject of normal-stream.ts: the ziggurat's rejection path on the tail generator. */
function reject(hzIn: i32, izIn: i32): f32 {
  let hz = hzIn;
  let iz = izIn;
  while (true) {
    if (iz == 0) {
      // the base-strip tail runs in TypeScript on the state in memory
      tailStore();
      const z = <f32>zigTailJs(hz);
      tailLoad();
      return z;
    }
    const x: f64 = <f64>hz * load<f64>(pZW + (<usize>iz << 3));
    const fi = load<f64>(pZF + (<usize>iz << 3));
    const fp = load<f64>(pZF + (<usize>(iz - 1) << 3));
    if (fi + tailUniform53() * (fp - fi) < zigExp(-0.5 * x * x)) return <f32>x;
    const u = <i32>tailNext();
    iz = u & 1023;
    hz = u >> 10;
    if (abs<i32>(hz) < load<i32>(pZK + (<usize>iz << 3))) return <f32>hz * load<f32>(pZK + (<usize>iz << 3), 4);
  }
}

@inline function rotl4(x: v128, k: i32): v128 {
  return v128.or(i32x4.shl(x, k), i32x4.shr_u(x, 32 - k));
}

let nrej = 0;

/** Notes the rejected lanes (`bad`, a mask of 8) of the 8 words ra, rb at buffer position `pos`. */
function noteRejects(pos: i32, ra: v128, rb: v128, bad: i32): void {
  const rejPos = pRej;
  const rejRaw = pRej + (<usize>block << 2);
  // the words go to the list's free end first; an entry is written after its word is read
  const words = rejRaw + (<usize>nrej << 2);
  v128.store(words, ra);
  v128.store(words, rb, 16);
  let m = bad;
  let n = nrej;
  while (m != 0) {
    const l = ctz<i32>(m);
    m &= m - 1;
    const w = load<i32>(words + (<usize>l << 2));
    store<i32>(rejPos + (<usize>n << 2), pos + l);
    store<i32>(rejRaw + (<usize>n << 2), w);
    n++;
  }
  nrej = n;
}

/** xoshiro128** output of the four lanes' state word s1. */
@inline function starstar(s1: v128): v128 {
  const s1x5 = i32x4.add(i32x4.shl(s1, 2), s1);
  const rot = rotl4(s1x5, 7);
  return i32x4.add(i32x4.shl(rot, 3), rot);
}

/**
 * The ziggurat's fast path for 4 words: stores hz * w32[iz] at `out` and returns the mask of
 * the lanes that fail |hz| < k[iz]. The table holds (k, w32) pairs, 8 bytes per layer.
 */
@inline function zig4(r: v128, out: usize, zkw: usize): i32 {
  // the layers (r & 1023) of the lanes, through two 64-bit extractions and scalar masks
  const hz = i32x4.shr_s(r, 10);
  const r01 = i64x2.extract_lane(r, 0);
  const r23 = i64x2.extract_lane(r, 1);
  let t01 = v128.load64_zero(zkw + ((<usize>(<u32>r01) & 1023) << 3));
  let t23 = v128.load64_zero(zkw + ((<usize>(<u32>r23) & 1023) << 3));
  t01 = v128.load64_lane(zkw + ((<usize>(<u32>(r01 >>> 32)) & 1023) << 3), t01, 1);
  t23 = v128.load64_lane(zkw + ((<usize>(<u32>(r23 >>> 32)) & 1023) << 3), t23, 1);
  const kv = v128.shuffle<i32>(t01, t23, 0, 2, 4, 6);
  const wv = v128.shuffle<i32>(t01, t23, 1, 3, 5, 7);
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(hz), wv));
  return i32x4.bitmask(i32x4.lt_s(i32x4.abs(hz), kv)) ^ 15;
}

/**
 * Writes `block` normals of the stream at buf[at ..] (NormalStream.generate of normal-stream.ts): the four
 * lanes step together; the rare rejected words are noted and run afterwards, in stream order.
 */
function generate(at: i32): void {
  const zkw = pZK;
  let s0 = v128.load(pLanes);
  let s1 = v128.load(pLanes, 16);
  let s2 = v128.load(pLanes, 32);
  let s3 = v128.load(pLanes, 48);
  const start = pNBuf + (<usize>at << 2);
  const end = start + (<usize>block << 2);
  nrej = 0;
  for (let out = start; out < end; out += 32) {
    // two steps of the four lanes per iteration (block is a multiple of 8)
    const ra = starstar(s1);
    let t = i32x4.shl(s1, 9);
    s2 = v128.xor(s2, s0);
    s3 = v128.xor(s3, s1);
    s1 = v128.xor(s1, s2);
    s0 = v128.xor(s0, s3);
    s2 = v128.xor(s2, t);
    s3 = rotl4(s3, 11);
    const rb = starstar(s1);
    t = i32x4.shl(s1, 9);
    s2 = v128.xor(s2, s0);
    s3 = v128.xor(s3, s1);
    s1 = v128.xor(s1, s2);
    s0 = v128.xor(s0, s3);
    s2 = v128.xor(s2, t);
    s3 = rotl4(s3, 11);
    const bada = zig4(ra, out, zkw);
    const badb = zig4(rb, out + 16, zkw);
    if ((bada | badb) != 0) noteRejects(<i32>((out - pNBuf) >> 2), ra, rb, bada | (badb << 4));
  }
  v128.store(pLanes, s0);
  v128.store(pLanes, s1, 16);
  v128.store(pLanes, s2, 32);
  v128.store(pLanes, s3, 48);
  const rejPos = pRej;
  const rejRaw = pRej + (<usize>block << 2);
  tailLoad();
  for (let q = 0; q < nrej; q++) {
    const u = load<i32>(rejRaw + (<usize>q << 2));
    store<f32>(pNBuf + (<usize>load<i32>(rejPos + (<usize>q << 2)) << 2), reject(u >> 10, u & 1023));
  }
  tailStore();
}

/** NormalStream.refillReference of normal-stream.ts: carry the unread normals to the front, append a block. */
export function refill(): void {
  const idx = load<i32>(pNCtl);
  const end = load<i32>(pNCtl, 4);
  const carry = end - idx;
  memory.copy(pNBuf, pNBuf + (<usize>idx << 2), <usize>carry << 2);
  generate(carry);
  store<i32>(pNCtl, 0);
  store<i32>(pNCtl, carry + block, 4);
}
