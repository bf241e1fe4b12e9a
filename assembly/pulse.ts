/**
 * WebAssembly (SIMD) kernel of the stochastic-pulse rank-1 update: the bit-identical twin of the
 * TypeScript reference in src/core/tile.ts, src/core/pulse-trains.ts, src/core/normal-stream.ts
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
// and the left-pack table at 256 (lane r of mask m's entry takes the lane of m's r-th set bit)
const PACK_AT: usize = 256;

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
const F_STEPS = 40; // uniform constant step: the columns' signed steps for rows of sign 0, then -1 (padded columns each)
const F_THR = 44; // i32 per column, then per row: the lines' firing thresholds (update)
const F_WORDS = 45; // the pulse generator's words of one update (up to 32 per line)
// update management (updateBatch): desired BL (i32), flags (bit 0 update_management, bit 1
// update_bl_management), um_grad_scale and the device granularity (float64 at words 48, 50), and
// the pulse slots of the last updateBatch (float64 at word 52, written by the kernel)
const F_DESIRED = 46;
const F_UFLAGS = 47;
const F_UMSCALE = 48;
const F_GRAN = 50;
const F_SLOTS = 52;
const F_FIRE = 54; // the columns whose x train fires, ascending (cols i32), then 16 i32 of counts
const F_SCRATCH = 37; // 528 bytes: a block's coefficients (0..255); loop constants: 256 i16 ones, 272 row bits, 288 ~row sign, 304 zero, 320 sign bits; uniform constant step: 336 s_up, 352 s_down, 368 b_min, 384 b_max; closed form: 400..527 the (G, a^m) pairs of 4 groups

// kernel modes (KernelMode in src/core/devices/base.ts)
const MODE_CONSTANT = 1;
const MODE_CONSTANT_NOISE = 2;
const MODE_AFFINE = 3;
const MODE_AFFINE_ADD = 4;
const MODE_AFFINE_MULT = 5;
const MODE_CONSTANT_CLOSED = 6;
const MODE_AFFINE_CLOSED = 7;

/** Closed-form rows: blocks whose longest count is below this pulse one by one (CLOSED_FORM_MIN of closed-form.ts). */
const CLOSED_FORM_MIN = 4;

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
let pStepPos: usize = 0;
let pStepNeg: usize = 0;
let pThr: usize = 0;
let pWords: usize = 0;
let pCtl: usize = 0;
/** The benchmark's profile (bench/profile.ts): 1 = stop each update after its trains (no pulses). */
let trainsOnly: i32 = 0;

/** The benchmark's profile only: 1 makes `update` stop after the trains (the weights do not move). */
export function setTrainsOnly(on: i32): void {
  trainsOnly = on;
}
let pFire: usize = 0;
/** Entries of the fire list of the current update. */
let nFire = 0;

@inline function field(ctl: usize, f: i32): usize {
  return <usize>load<u32>(ctl + (<usize>f << 2));
}

/** Where the tile's layout may begin (after this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

export function init(ctl: usize): void {
  pCtl = ctl;
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
  pStepPos = field(ctl, F_STEPS);
  pThr = field(ctl, F_THR);
  pWords = field(ctl, F_WORDS);
  pFire = field(ctl, F_FIRE);
  pStepNeg = pStepPos + ((<usize>(cols + 15) & ~15) << 2);
  v128.store(pScratch, i16x8.splat(1), 256);
  // constant step with the same step sizes and bounds on every weight (no device-to-device
  // variation): the row loop reads them from registers instead of four per-weight arrays
  uniform = mode == MODE_CONSTANT && isUniform(pSUp) && isUniform(pSDown) && isUniform(pBMin) && isUniform(pBMax);
  if (uniform) {
    v128.store(pScratch, v128.load32_splat(pSUp), 336);
    v128.store(pScratch, v128.load32_splat(pSDown), 352);
    v128.store(pScratch, v128.load32_splat(pBMin), 368);
    v128.store(pScratch, v128.load32_splat(pBMax), 384);
  }
}

let uniform = false;

/** True when all rows x cols words of the array have the bits of the first. */
function isUniform(p: usize): bool {
  const first = load<u32>(p);
  const end = p + ((<usize>rows * <usize>cols) << 2);
  for (let q = p; q < end; q += 4) if (load<u32>(q) != first) return false;
  return true;
}

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

// ---- pulse trains (pulse-trains.ts) ----


/**
 * trainOf of pulse-trains.ts in three steps (see update): the line's firing threshold: 0 when
 * p = scale |v| is not > 0, -1 when p >= 1, else ceil(p 2^24) in [1, 2^24].
 */
@inline function threshold(v: f32, scale: f64): i32 {
  const p: f64 = <f64>(v < 0 ? -v : v) * scale;
  if (!(p > 0)) return 0;
  if (p >= 1) return -1;
  return <i32>Math.ceil(p * 16777216.0);
}

/** threshold of 4 lines (float64 in two halves, as threshold computes it). */
@inline function threshold4(v: v128, scale: v128): v128 {
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
function drawWords(n: i32): void {
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
@inline function trainBits(wp: usize, t: i32, nv: i32): i32 {
  const tv = i32x4.splat(t);
  let mask = i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp), 8), tv)) | (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 16), 8), tv)) << 4);
  if (nv > 2) {
    mask |= (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 32), 8), tv)) << 8) | (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 48), 8), tv)) << 12);
  }
  if (nv > 4) {
    mask |= (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 64), 8), tv)) << 16) | (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 80), 8), tv)) << 20);
    mask |= (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 96), 8), tv)) << 24) | (i32x4.bitmask(i32x4.lt_s(i32x4.shr_u(v128.load(wp, 112), 8), tv)) << 28);
  }
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
function rowConstantU(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  // the steps of the columns for this row's sign (written by update)
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
      const c = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(xb + (jo >> 1)), v128.load(sc, 272))));
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
 * The coefficients of the group of 4 weights at byte g of the block at jo into the scratch:
 * up = -1 where the pulses go up; sg = the sign bit where they go down (negation by xor is
 * exactly f32 negation); C (scratch 0 + g), K (64 + g), C_s = +-float32(s * std) (128 + g).
 */
@inline function blockGroup(jo: usize, g: usize, base: usize, rn: v128, stdv: v128, sc: usize, slope: bool, add: bool): void {
  const o = jo + g;
  const q = base + o;
  const up = v128.xor(v128.load(pXNeg + o), rn);
  const sg = v128.andnot(v128.load(sc, 320), up);
  v128.store(sc + g, v128.xor(v128.bitselect(v128.load((slope ? pCUp : pSUp) + q), v128.load((slope ? pCDown : pSDown) + q), up), sg));
  if (slope) v128.store(sc + g, v128.bitselect(v128.load(pKUp + q), v128.load(pKDown + q), up), 64);
  if (add) v128.store(sc + g, v128.xor(f32x4.mul(v128.bitselect(v128.load(pSUp + q), v128.load(pSDown + q), up), stdv), sg), 128);
}

/** The pulses of the current row so far, per lane (blockCounts adds, the row kernels sum). */
let rowAcc: v128 = i32x4.splat(0);

/**
 * The coincidence counts of the 16 columns of the block at byte jo of the row, into the scratch
 * at 192, 208, 224, 240 (groups of 4), from the narrowest form of the x trains; sc + 272 holds
 * the row's train splatted to that width. Adds them to rowAcc; returns the longest (0: none).
 */
@inline function blockCounts(jo: usize, width: i32, sc: usize): i32 {
  if (width == 8) {
    const c = i8x16.popcnt(v128.and(v128.load(pXBits8 + (jo >> 2)), v128.load(sc, 272)));
    const c01 = i16x8.extend_low_i8x16_u(c);
    const c23 = i16x8.extend_high_i8x16_u(c);
    v128.store(sc, i32x4.extend_low_i16x8_u(c01), 192);
    v128.store(sc, i32x4.extend_high_i16x8_u(c01), 208);
    v128.store(sc, i32x4.extend_low_i16x8_u(c23), 224);
    v128.store(sc, i32x4.extend_high_i16x8_u(c23), 240);
  } else if (width == 16) {
    const c01 = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(pXBits16 + (jo >> 1)), v128.load(sc, 272))));
    const c23 = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(pXBits16 + (jo >> 1), 16), v128.load(sc, 272))));
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
@inline function pulseRounds(pw: usize, pLo: usize, pHi: usize, rounds: i32, idxIn: i32, sc: usize, slope: bool, noise: bool, mult: bool): i32 {
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
    v0 = pulse4(v0, v128.load(sc), v128.load(sc, 64), v128.load(sc, 128), stdv, z0, v128.load(pLo), v128.load(pHi), a0, slope, noise, mult);
    v1 = pulse4(v1, v128.load(sc, 16), v128.load(sc, 80), v128.load(sc, 144), stdv, z1, v128.load(pLo, 16), v128.load(pHi, 16), a1, slope, noise, mult);
    v2 = pulse4(v2, v128.load(sc, 32), v128.load(sc, 96), v128.load(sc, 160), stdv, z2, v128.load(pLo, 32), v128.load(pHi, 32), a2, slope, noise, mult);
    v3 = pulse4(v3, v128.load(sc, 48), v128.load(sc, 112), v128.load(sc, 176), stdv, z3, v128.load(pLo, 48), v128.load(pHi, 48), a3, slope, noise, mult);
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
@inline function rowBlocks(base: usize, rowBits: i32, rowNeg: i32, width: i32, slope: bool, noise: bool, mult: bool): i32 {
  const pw = pW + base;
  const pLo = pBMin + base;
  const pHi = pBMax + base;
  const sc = pScratch;
  v128.store(sc, width == 8 ? i8x16.splat(<i8>rowBits) : width == 16 ? i16x8.splat(<i16>rowBits) : i32x4.splat(rowBits), 272);
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
  const far = v128.and(f32x4.gt(f32x4.sub(f32x4.min(v0, mean), lo), margin), f32x4.gt(f32x4.sub(hi, f32x4.max(v0, mean)), margin));
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
 * round by round (pulseRounds, as rowBlocks); in the others each active weight gets its n pulses
 * at once with one normal. The powering runs over the block's 4 groups together (independent
 * chains) for the bit length of the longest count: leading zero bits leave (G, a^m) = (0, 1) as
 * they are, so each lane gets the result of its own count. Then the listed weights pulse one by
 * one (the per-pulse step of pulse4 with additive noise, n normals each, in column order).
 */
@inline function rowClosed(base: usize, rowBits: i32, rowNeg: i32, width: i32, slope: bool): i32 {
  const sc = pScratch;
  v128.store(sc, width == 8 ? i8x16.splat(<i8>rowBits) : width == 16 ? i16x8.splat(<i16>rowBits) : i32x4.splat(rowBits), 272);
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

function rowConstantClosed(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowClosed(base, rowBits, rowNeg, width, false);
}
function rowAffineClosed(base: usize, rowBits: i32, rowNeg: i32, width: i32): i32 {
  return rowClosed(base, rowBits, rowNeg, width, true);
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
 * A row of the pulse-one-by-one modes (rowBlocks: constant step with noise, affine with or without
 * noise) when few columns fire: the same pulses in the same order, visiting only the columns of
 * the fire list. Block by block of 16 columns (those with a firing column), round by round, in
 * column order; one pulse is pulse4's float32 arithmetic on one weight; one normal per pulse when
 * noisy. Returns the pulses.
 */
@inline function rowSparse(base: usize, rowBits: i32, rowNeg: i32, slope: bool, noise: bool, mult: bool): i32 {
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
          const c = reinterpret<f32>(reinterpret<i32>(load<f32>(select<usize>(slope ? pCUp : pSUp, slope ? pCDown : pSDown, up) + k)) ^ sg);
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
            else st = st + reinterpret<f32>(reinterpret<i32>(load<f32>(select<usize>(pSUp, pSDown, up) + k) * stdf) ^ sg) * z;
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

/** Stores the x trains of columns j .. j+3 (i32 lanes) in the three widths the row kernels read. */
@inline function storeX4(j: usize, bits: v128): void {
  v128.store(pXBits + (j << 2), bits);
  v128.store32_lane(pXBits8 + j, v128.shuffle<u8>(bits, bits, 0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
  v128.store64_lane(pXBits16 + (j << 1), v128.shuffle<u8>(bits, bits, 0, 1, 4, 5, 8, 9, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0), 0);
}

/**
 * The x trains for BL = 1 from the words at pWords, 4 columns at a time: the drawing lanes
 * (threshold > 0) take the next words in column order (through the swizzle table), a lane fires
 * when its word's upper 24 bits are below the threshold; threshold -1 fires, 0 never. Returns
 * the number of columns with a pulse.
 */
function xTrains1(thrX: usize): i32 {
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
    v128.store(pFire + (<usize>nx << 2), i8x16.swizzle(i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3)), v128.load(<usize>f << 4, PACK_AT)));
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
function xTrains(thrX: usize, bl: i32, nv: i32, full: i32): i32 {
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
    // 4 lines at a time, as xTrains1; the firing rows left-packed onto the lists
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
  if (bl == 1 && nx * 8 < cols && (mode == MODE_CONSTANT_NOISE || mode == MODE_AFFINE || mode == MODE_AFFINE_ADD || mode == MODE_AFFINE_MULT)) {
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
    if (mode == MODE_CONSTANT) n = uniform ? rowConstantU(base, rowBits, rowNeg, width) : rowConstant(base, rowBits, rowNeg, width);
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
