/**
 * WebAssembly (SIMD) kernel of the stochastic-pulse rank-1 update: the bit-identical twin of the
 * TypeScript reference in src/core/tile.ts, src/core/pulse-trains.ts, src/core/rng.ts
 * (NormalStream) and src/core/devices/{constant-step,affine-response}.ts. Every formula below
 * mirrors one there, op for op (float32 where they use Math.fround, float64 where they use
 * numbers); change both together, test/kernel.test.ts compares them bit for bit.
 *
 * One instance per tile, on a memory the tile allocates up front (src/core/kernels/
 * pulse-kernel.ts): `init` reads the addresses of the tile's arrays from a control block there.
 * No allocation, no runtime; the one import is the ziggurat's rare base-strip tail, which runs in
 * TypeScript on the tail generator whose state lives in this memory.
 */

@external("env", "zigTail")
declare function zigTailJs(hz: i32): f64;

// Fixed addresses (below __heap_base, where this module keeps no data), so that the hot loads
// use immediate offsets: the normals' swizzle table at 0 and the normal buffer at 1024.
const SHUF_AT: usize = 0;
const NBUF_AT: usize = 1024;

// ---- control block: i32 words at the address given to init (same order in pulse-kernel.ts) ----
const F_ROWS = 0;
const F_COLS = 1;
const F_MODE = 2;
const F_STD = 3; // float32 bits
const F_W = 4;
const F_BMIN = 5;
const F_BMAX = 6;
const F_SUP = 7;
const F_SDOWN = 8;
const F_CUP = 9;
const F_KUP = 10;
const F_CDOWN = 11;
const F_KDOWN = 12;
const F_X = 13;
const F_D = 14;
const F_XBITS = 15;
const F_XNEG = 16;
const F_DIDX = 17;
const F_DBITS = 18;
const F_DNEG = 19;
const F_PRNG = 20;
const F_LANES = 21;
const F_TAIL = 22;
const F_NCTL = 23;
const F_NBUF = 24;
const F_ZK = 25; // (k, w32) pairs
const F_ZW = 27;
const F_ZF = 28;
const F_SHUF = 29;
const F_BLOCK = 35;
const F_REJ = 36; // reject list: positions (block i32), then raw words (block i32)
const F_XBITS8 = 38; // the x trains as bytes and as halfwords (rowConstant)
const F_XBITS16 = 39;
const F_SCRATCH = 37; // 512 bytes: a block's coefficients (0..255); loop constants: 256 i16 ones, 272 row bits, 288 ~row sign, 304 zero, 320 sign bits

// kernel modes (KernelMode in src/core/devices/base.ts)
const MODE_CONSTANT = 1;
const MODE_CONSTANT_NOISE = 2;
const MODE_AFFINE = 3;
const MODE_AFFINE_ADD = 4;
const MODE_AFFINE_MULT = 5;

let rows: i32 = 0;
let cols: i32 = 0;
let mode: i32 = 0;
let stdf: f32 = 0;
let block: i32 = 0;
let pW: usize = 0;
let pBMin: usize = 0;
let pBMax: usize = 0;
let pSUp: usize = 0;
let pSDown: usize = 0;
let pCUp: usize = 0;
let pKUp: usize = 0;
let pCDown: usize = 0;
let pKDown: usize = 0;
let pX: usize = 0;
let pD: usize = 0;
let pXBits: usize = 0;
let pXNeg: usize = 0;
let pDIdx: usize = 0;
let pDBits: usize = 0;
let pDNeg: usize = 0;
let pPrng: usize = 0;
let pLanes: usize = 0;
let pTail: usize = 0;
let pNCtl: usize = 0;
let pNBuf: usize = 0;
let pZK: usize = 0;
let pZW: usize = 0;
let pZF: usize = 0;
let pShuf: usize = 0;
let pRej: usize = 0;
let pScratch: usize = 0;
let pXBits8: usize = 0;
let pXBits16: usize = 0;

@inline function field(ctl: usize, f: i32): usize {
  return <usize>load<u32>(ctl + (<usize>f << 2));
}

/** Where the tile's layout may begin (after this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

export function init(ctl: usize): void {
  rows = <i32>field(ctl, F_ROWS);
  cols = <i32>field(ctl, F_COLS);
  mode = <i32>field(ctl, F_MODE);
  stdf = load<f32>(ctl + (<usize>F_STD << 2));
  block = <i32>field(ctl, F_BLOCK);
  pW = field(ctl, F_W);
  pBMin = field(ctl, F_BMIN);
  pBMax = field(ctl, F_BMAX);
  pSUp = field(ctl, F_SUP);
  pSDown = field(ctl, F_SDOWN);
  pCUp = field(ctl, F_CUP);
  pKUp = field(ctl, F_KUP);
  pCDown = field(ctl, F_CDOWN);
  pKDown = field(ctl, F_KDOWN);
  pX = field(ctl, F_X);
  pD = field(ctl, F_D);
  pXBits = field(ctl, F_XBITS);
  pXNeg = field(ctl, F_XNEG);
  pDIdx = field(ctl, F_DIDX);
  pDBits = field(ctl, F_DBITS);
  pDNeg = field(ctl, F_DNEG);
  pPrng = field(ctl, F_PRNG);
  pLanes = field(ctl, F_LANES);
  pTail = field(ctl, F_TAIL);
  pNCtl = field(ctl, F_NCTL);
  pNBuf = field(ctl, F_NBUF);
  pZK = field(ctl, F_ZK);
  pZW = field(ctl, F_ZW);
  pZF = field(ctl, F_ZF);
  pShuf = field(ctl, F_SHUF);
  pRej = field(ctl, F_REJ);
  pScratch = field(ctl, F_SCRATCH);
  pXBits8 = field(ctl, F_XBITS8);
  pXBits16 = field(ctl, F_XBITS16);
  v128.store(pScratch, i16x8.splat(1), 256);
}

// ---- scalar xoshiro128** on a state in memory (the tail generator) ----

function tailNext(): u32 {
  let s0 = load<u32>(pTail);
  let s1 = load<u32>(pTail, 4);
  let s2 = load<u32>(pTail, 8);
  let s3 = load<u32>(pTail, 12);
  const r = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  store<u32>(pTail, s0);
  store<u32>(pTail, s1, 4);
  store<u32>(pTail, s2, 8);
  store<u32>(pTail, s3, 12);
  return r;
}

/** Rng.uniform53 of rng.ts. */
function tailUniform53(): f64 {
  const hi = tailNext() >>> 5;
  const lo = tailNext() >>> 6;
  return (<f64>hi * 67108864.0 + <f64>lo) / 9007199254740992.0;
}

// ---- zigExp of rng.ts, op for op ----
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
  // 2^k exactly (k in [-1010, 0]): the same bits as rng.ts's POW2_NEG[-k]
  return y * reinterpret<f64>(<u64>(1023 + <i32>k) << 52);
}

/** NormalStream.reject of rng.ts: the ziggurat's rejection path on the tail generator. */
function reject(hzIn: i32, izIn: i32): f32 {
  let hz = hzIn;
  let iz = izIn;
  while (true) {
    if (iz == 0) return <f32>zigTailJs(hz);
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

/** Notes the rejected lanes (`bad`) of the 4 words `r` at buffer position `pos`, in lane order. */
function noteRejects(pos: i32, r: v128, bad: i32): void {
  const rejPos = pRej;
  const rejRaw = pRej + (<usize>block << 2);
  // the words go to the list's free end first; an entry is written after its word is read
  const words = rejRaw + (<usize>nrej << 2);
  v128.store(words, r);
  for (let l = 0; l < 4; l++) {
    if ((bad >> l) & 1) {
      store<i32>(rejPos + (<usize>nrej << 2), pos + l);
      store<i32>(rejRaw + (<usize>nrej << 2), load<i32>(words + (<usize>l << 2)));
      nrej++;
    }
  }
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
  const iz = i32x4.shr_u(i32x4.shl(r, 22), 19); // (r & 1023) * 8
  const hz = i32x4.shr_s(r, 10);
  let t01 = v128.load64_zero(zkw + <usize>i32x4.extract_lane(iz, 0));
  let t23 = v128.load64_zero(zkw + <usize>i32x4.extract_lane(iz, 2));
  t01 = v128.load64_lane(zkw + <usize>i32x4.extract_lane(iz, 1), t01, 1);
  t23 = v128.load64_lane(zkw + <usize>i32x4.extract_lane(iz, 3), t23, 1);
  const kv = v128.shuffle<i32>(t01, t23, 0, 2, 4, 6);
  const wv = v128.shuffle<i32>(t01, t23, 1, 3, 5, 7);
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(hz), wv));
  return i32x4.bitmask(i32x4.lt_s(i32x4.abs(hz), kv)) ^ 15;
}

/**
 * Writes `block` normals of the stream at buf[at ..] (NormalStream.generate of rng.ts): the four
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
    if ((bada | badb) != 0) {
      const pos = <i32>((out - pNBuf) >> 2);
      if (bada != 0) noteRejects(pos, ra, bada);
      if (badb != 0) noteRejects(pos + 4, rb, badb);
    }
  }
  v128.store(pLanes, s0);
  v128.store(pLanes, s1, 16);
  v128.store(pLanes, s2, 32);
  v128.store(pLanes, s3, 48);
  const rejPos = pRej;
  const rejRaw = pRej + (<usize>block << 2);
  for (let q = 0; q < nrej; q++) {
    const u = load<i32>(rejRaw + (<usize>q << 2));
    store<f32>(pNBuf + (<usize>load<i32>(rejPos + (<usize>q << 2)) << 2), reject(u >> 10, u & 1023));
  }
}

/** NormalStream.refillReference of rng.ts: carry the unread normals to the front, append a block. */
export function refill(): void {
  const idx = load<i32>(pNCtl);
  const end = load<i32>(pNCtl, 4);
  const carry = end - idx;
  memory.copy(pNBuf, pNBuf + (<usize>idx << 2), <usize>carry << 2);
  generate(carry);
  store<i32>(pNCtl, 0);
  store<i32>(pNCtl, carry + block, 4);
}

// ---- pulse trains (pulse-trains.ts) ----

let prng0: u32 = 0;
let prng1: u32 = 0;
let prng2: u32 = 0;
let prng3: u32 = 0;

/** trainOf of pulse-trains.ts, with the pulse generator's state in prng0..3. */
@inline function trainOf(v: f32, scale: f64, bl: i32, full: i32): i32 {
  const p: f64 = <f64>(v < 0 ? -v : v) * scale;
  if (!(p > 0)) return 0;
  if (p >= 1) return full;
  const thr = p * 16777216.0;
  let s0 = prng0;
  let s1 = prng1;
  let s2 = prng2;
  let s3 = prng3;
  let mask = 0;
  for (let s = 0; s < bl; s++) {
    const r = rotl<u32>(s1 * 5, 7) * 9;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl<u32>(s3, 11);
    if (<f64>(r >>> 8) < thr) mask |= 1 << s;
  }
  prng0 = s0;
  prng1 = s1;
  prng2 = s2;
  prng3 = s3;
  return mask;
}

// ---- row kernels ----

/** popcount of each i32 lane; sc + 256 holds i16x8.splat(1) (written by init). */
@inline function popcnt4(v: v128, sc: usize): v128 {
  return i32x4.dot_i16x8_s(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v)), v128.load(sc, 256));
}

@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** One group of 4 weights of rowConstant at byte offset jo of the row (see there). */
@inline function constGroup(n: v128, jo: usize, xn: usize, pw: usize, su: usize, sd: usize, lo: usize, hi: usize, sc: usize): void {
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
 * Constant step without noise: w + n * step, clipped (ConstantStepDevice.pulseRow). The
 * coincidence counts come from the x trains in the narrowest form that holds BL bits (bytes for
 * BL <= 8, 16 columns per popcount; halfwords for BL <= 16; words), written by `update`.
 */
function rowConstant(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
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
      const c = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(xb + (jo >> 1)), v128.load(sc, 272))));
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

/**
 * One pulse on the active lanes of a group of 4 weights (float32, as ConstantStepDevice and
 * AffineResponseDevice do it): S = C - K v (slope) or C; T = S + (S std) z (mult), S + CS z
 * (additive noise) or S; v = clip(v + T).
 */
@inline function pulse4(v: v128, c: v128, k: v128, cs: v128, stdv: v128, z: v128, lo: v128, hi: v128, act: v128, slope: bool, noise: bool, mult: bool): v128 {
  const s = slope ? f32x4.sub(c, f32x4.mul(k, v)) : c;
  let t = s;
  if (noise) t = mult ? f32x4.add(s, f32x4.mul(f32x4.mul(s, stdv), z)) : f32x4.add(s, f32x4.mul(cs, z));
  const vn = f32x4.pmax(f32x4.pmin(f32x4.add(v, t), hi), lo);
  return v128.bitselect(vn, v, act);
}

/**
 * Pulses one by one in blocks of 16 columns (PULSE_BLOCK of devices/base.ts): within a block
 * round by round (round p: the p-th pulse of every weight with more than p coincidences, in
 * column order, one normal each when noisy), the block's 4 groups of 4 held in registers.
 * `slope`: affine step C - K v (else constant C); `noise`/`mult`: cycle-to-cycle noise,
 * multiplicative or additive.
 */
@inline function rowBlocks(base: usize, rowBits: i32, rowNeg: i32, width: i32, slope: bool, noise: bool, mult: bool): i32 {
  const xb = pXBits;
  const xn = pXNeg;
  const pw = pW + base;
  const pLo = pBMin + base;
  const pHi = pBMax + base;
  const pCu = (slope ? pCUp : pSUp) + base;
  const pCd = (slope ? pCDown : pSDown) + base;
  const pKu = pKUp + base;
  const pKd = pKDown + base;
  const pSu = pSUp + base;
  const pSd = pSDown + base;
  const sc = pScratch;
  v128.store(sc, width == 8 ? i8x16.splat(<i8>rowBits) : width == 16 ? i16x8.splat(<i16>rowBits) : i32x4.splat(rowBits), 272);
  v128.store(sc, i32x4.splat(<i32>0x80000000), 320);
  const rn = i32x4.splat(rowNeg);
  const stdv = f32x4.splat(stdf);
  const zero = i32x4.splat(0);
  let acc = zero;
  let idx = noise ? load<i32>(pNCtl) : 0;
  let nend = noise ? load<i32>(pNCtl, 4) : 0;
  const end = <usize>cols << 2;
  for (let jo: usize = 0; jo < end; jo += 64) {
    // coincidences of the block's 16 columns, from the narrowest form of the x trains
    let n0: v128;
    let n1: v128;
    let n2: v128;
    let n3: v128;
    if (width == 8) {
      const c = i8x16.popcnt(v128.and(v128.load(pXBits8 + (jo >> 2)), v128.load(sc, 272)));
      const c01 = i16x8.extend_low_i8x16_u(c);
      const c23 = i16x8.extend_high_i8x16_u(c);
      n0 = i32x4.extend_low_i16x8_u(c01);
      n1 = i32x4.extend_high_i16x8_u(c01);
      n2 = i32x4.extend_low_i16x8_u(c23);
      n3 = i32x4.extend_high_i16x8_u(c23);
    } else if (width == 16) {
      const c01 = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(pXBits16 + (jo >> 1)), v128.load(sc, 272))));
      const c23 = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(pXBits16 + (jo >> 1), 16), v128.load(sc, 272))));
      n0 = i32x4.extend_low_i16x8_u(c01);
      n1 = i32x4.extend_high_i16x8_u(c01);
      n2 = i32x4.extend_low_i16x8_u(c23);
      n3 = i32x4.extend_high_i16x8_u(c23);
    } else {
      n0 = popcnt4(v128.and(v128.load(xb + jo), v128.load(sc, 272)), sc);
      n1 = popcnt4(v128.and(v128.load(xb + jo, 16), v128.load(sc, 272)), sc);
      n2 = popcnt4(v128.and(v128.load(xb + jo, 32), v128.load(sc, 272)), sc);
      n3 = popcnt4(v128.and(v128.load(xb + jo, 48), v128.load(sc, 272)), sc);
    }
    let nm = i32x4.max_s(i32x4.max_s(n0, n1), i32x4.max_s(n2, n3));
    if (!v128.any_true(nm)) continue;
    acc = i32x4.add(acc, i32x4.add(i32x4.add(n0, n1), i32x4.add(n2, n3)));
    nm = i32x4.max_s(nm, v128.shuffle<i32>(nm, nm, 2, 3, 0, 1));
    nm = i32x4.max_s(nm, v128.shuffle<i32>(nm, nm, 1, 0, 3, 2));
    const rounds = i32x4.extract_lane(nm, 0);
    // up = -1 where the pulses go up; sg = the sign bit where they go down (negation by xor is
    // exactly f32 negation)
    const up0 = v128.xor(v128.load(xn + jo), rn);
    const up1 = v128.xor(v128.load(xn + jo, 16), rn);
    const up2 = v128.xor(v128.load(xn + jo, 32), rn);
    const up3 = v128.xor(v128.load(xn + jo, 48), rn);
    const sg0 = v128.andnot(v128.load(sc, 320), up0);
    const sg1 = v128.andnot(v128.load(sc, 320), up1);
    const sg2 = v128.andnot(v128.load(sc, 320), up2);
    const sg3 = v128.andnot(v128.load(sc, 320), up3);
    const c0 = v128.xor(v128.bitselect(v128.load(pCu + jo), v128.load(pCd + jo), up0), sg0);
    const c1 = v128.xor(v128.bitselect(v128.load(pCu + jo, 16), v128.load(pCd + jo, 16), up1), sg1);
    const c2 = v128.xor(v128.bitselect(v128.load(pCu + jo, 32), v128.load(pCd + jo, 32), up2), sg2);
    const c3 = v128.xor(v128.bitselect(v128.load(pCu + jo, 48), v128.load(pCd + jo, 48), up3), sg3);
    const k0 = slope ? v128.bitselect(v128.load(pKu + jo), v128.load(pKd + jo), up0) : zero;
    const k1 = slope ? v128.bitselect(v128.load(pKu + jo, 16), v128.load(pKd + jo, 16), up1) : zero;
    const k2 = slope ? v128.bitselect(v128.load(pKu + jo, 32), v128.load(pKd + jo, 32), up2) : zero;
    const k3 = slope ? v128.bitselect(v128.load(pKu + jo, 48), v128.load(pKd + jo, 48), up3) : zero;
    const add = noise && !mult;
    const s0 = add ? v128.xor(f32x4.mul(v128.bitselect(v128.load(pSu + jo), v128.load(pSd + jo), up0), stdv), sg0) : zero;
    const s1 = add ? v128.xor(f32x4.mul(v128.bitselect(v128.load(pSu + jo, 16), v128.load(pSd + jo, 16), up1), stdv), sg1) : zero;
    const s2 = add ? v128.xor(f32x4.mul(v128.bitselect(v128.load(pSu + jo, 32), v128.load(pSd + jo, 32), up2), stdv), sg2) : zero;
    const s3 = add ? v128.xor(f32x4.mul(v128.bitselect(v128.load(pSu + jo, 48), v128.load(pSd + jo, 48), up3), stdv), sg3) : zero;
    // V8 would recompute these inside the rounds loop (it schedules pure values next to their
    // use): through memory they are computed once and loaded per round
    v128.store(sc, c0);
    v128.store(sc, c1, 16);
    v128.store(sc, c2, 32);
    v128.store(sc, c3, 48);
    if (slope) {
      v128.store(sc, k0, 64);
      v128.store(sc, k1, 80);
      v128.store(sc, k2, 96);
      v128.store(sc, k3, 112);
    }
    if (add) {
      v128.store(sc, s0, 128);
      v128.store(sc, s1, 144);
      v128.store(sc, s2, 160);
      v128.store(sc, s3, 176);
    }
    v128.store(sc, n0, 192);
    v128.store(sc, n1, 208);
    v128.store(sc, n2, 224);
    v128.store(sc, n3, 240);
    const lo0 = v128.load(pLo + jo);
    const lo1 = v128.load(pLo + jo, 16);
    const lo2 = v128.load(pLo + jo, 32);
    const lo3 = v128.load(pLo + jo, 48);
    const hi0 = v128.load(pHi + jo);
    const hi1 = v128.load(pHi + jo, 16);
    const hi2 = v128.load(pHi + jo, 32);
    const hi3 = v128.load(pHi + jo, 48);
    let v0 = v128.load(pw + jo);
    let v1 = v128.load(pw + jo, 16);
    let v2 = v128.load(pw + jo, 32);
    let v3 = v128.load(pw + jo, 48);
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
        if (idx + 16 > nend) {
          store<i32>(pNCtl, idx);
          refill();
          idx = load<i32>(pNCtl);
          nend = load<i32>(pNCtl, 4);
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
      v0 = pulse4(v0, v128.load(sc), v128.load(sc, 64), v128.load(sc, 128), stdv, z0, lo0, hi0, a0, slope, noise, mult);
      v1 = pulse4(v1, v128.load(sc, 16), v128.load(sc, 80), v128.load(sc, 144), stdv, z1, lo1, hi1, a1, slope, noise, mult);
      v2 = pulse4(v2, v128.load(sc, 32), v128.load(sc, 96), v128.load(sc, 160), stdv, z2, lo2, hi2, a2, slope, noise, mult);
      v3 = pulse4(v3, v128.load(sc, 48), v128.load(sc, 112), v128.load(sc, 176), stdv, z3, lo3, hi3, a3, slope, noise, mult);
    }
    v128.store(pw + jo, v0);
    v128.store(pw + jo, v1, 16);
    v128.store(pw + jo, v2, 32);
    v128.store(pw + jo, v3, 48);
  }
  if (noise) store<i32>(pNCtl, idx);
  return hsum(acc);
}

function rowConstantNoise(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, false, true, false);
}
function rowAffine(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, true, false, false);
}
function rowAffineAdd(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, true, true, false);
}
function rowAffineMult(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowBlocks(base, rowBits, rowNeg, width, true, true, true);
}

/**
 * One stochastic-pulse rank-1 update (AnalogTile.updateVector after update management): the
 * trains of x (staged at pX, scale b) and d (staged at pD, scale a) with BL = bl, then the
 * pulses of every active row; `flip` = -1 for a negative learning rate. Returns the pulse count.
 */
export function update(a: f64, b: f64, bl: i32, flip: i32): f64 {
  const full: i32 = bl >= 32 ? -1 : (1 << bl) - 1;
  prng0 = load<u32>(pPrng);
  prng1 = load<u32>(pPrng, 4);
  prng2 = load<u32>(pPrng, 8);
  prng3 = load<u32>(pPrng, 12);
  let nx = 0;
  for (let j = 0; j < cols; j++) {
    const v = load<f32>(pX + (<usize>j << 2));
    const mask = trainOf(v, b, bl, full);
    store<i32>(pXBits + (<usize>j << 2), mask);
    store<u8>(pXBits8 + <usize>j, <u8>mask);
    store<u16>(pXBits16 + (<usize>j << 1), <u16>mask);
    store<i32>(pXNeg + (<usize>j << 2), v < 0 ? -1 : 0);
    if (mask != 0) nx++;
  }
  let nd = 0;
  for (let i = 0; i < rows; i++) {
    const v = load<f32>(pD + (<usize>i << 2));
    const mask = trainOf(v, a, bl, full);
    if (mask == 0) continue;
    store<i32>(pDIdx + (<usize>nd << 2), i);
    store<i32>(pDBits + (<usize>nd << 2), mask);
    store<i32>(pDNeg + (<usize>nd << 2), v < 0 ? -1 : 0);
    nd++;
  }
  store<u32>(pPrng, prng0);
  store<u32>(pPrng, prng1, 4);
  store<u32>(pPrng, prng2, 8);
  store<u32>(pPrng, prng3, 12);
  if (nx == 0 || nd == 0) return 0;
  const width = bl <= 8 ? 8 : bl <= 16 ? 16 : 32;
  let total: f64 = 0;
  for (let t = 0; t < nd; t++) {
    const base = (<usize>load<i32>(pDIdx + (<usize>t << 2)) * <usize>cols) << 2;
    const rowBits = load<i32>(pDBits + (<usize>t << 2));
    const rowNeg = load<i32>(pDNeg + (<usize>t << 2)) ^ flip;
    let n = 0;
    if (mode == MODE_CONSTANT) n = rowConstant(base, rowBits, rowNeg, width);
    else if (mode == MODE_CONSTANT_NOISE) n = rowConstantNoise(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE) n = rowAffine(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE_ADD) n = rowAffineAdd(base, rowBits, rowNeg, width);
    else if (mode == MODE_AFFINE_MULT) n = rowAffineMult(base, rowBits, rowNeg, width);
    total += <f64>n;
  }
  return total;
}
