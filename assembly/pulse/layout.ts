/**
 * The pulse kernel's layout (see assembly/pulse.ts): the control block `init` reads, the fixed
 * addresses of the tables, the kernel modes, and the addresses and sizes of the tile's arrays kept
 * in globals. Every other file of assembly/pulse/ reads these globals; only `init` sets them (and
 * updateBatch, update.ts, points pX and pD at each sample in turn).
 */

// Fixed addresses (below __heap_base, where this module keeps no data), so that the hot loads
// use immediate offsets: the normals' swizzle table at 0 and the normal buffer at 1024.
export const SHUF_AT: usize = 0;
export const NBUF_AT: usize = 1024;
// and the left-pack table at 256 (lane r of mask m's entry takes the lane of m's r-th set bit)
export const PACK_AT: usize = 256;

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
// uniform constant step: the columns' signed steps for rows of sign 0, then -1 (padded columns
// each)
const F_STEPS = 40;
const F_THR = 44; // i32 per column, then per row: the lines' firing thresholds (update)
const F_WORDS = 45; // the pulse generator's words of one update (up to 32 per line)
// update management (updateBatch of update.ts): desired BL (i32), flags (bit 0 update_management,
// bit 1 update_bl_management), um_grad_scale and the device granularity (float64 at words 48, 50),
// and the pulse slots of the last updateBatch (float64 at word 52, written by the kernel)
export const F_DESIRED = 46;
export const F_UFLAGS = 47;
export const F_UMSCALE = 48;
export const F_GRAN = 50;
export const F_SLOTS = 52;
const F_FIRE = 54; // the columns whose x train fires, ascending (cols i32), then 16 i32 of counts
// 528 bytes: a block's coefficients (0..255); loop constants: 256 i16 ones, 272 row bits, 288 ~row
// sign, 304 zero, 320 sign bits; uniform constant step: 336 s_up, 352 s_down, 368 b_min, 384 b_max;
// closed form: 400..527 the (G, a^m) pairs of 4 groups
const F_SCRATCH = 37;

// kernel modes (KernelMode in src/core/devices/base.ts)
export const MODE_CONSTANT = 1;
export const MODE_CONSTANT_NOISE = 2;
export const MODE_AFFINE = 3;
export const MODE_AFFINE_ADD = 4;
export const MODE_AFFINE_MULT = 5;
export const MODE_CONSTANT_CLOSED = 6;
export const MODE_AFFINE_CLOSED = 7;

export let rows: i32 = 0;
export let cols: i32 = 0;
export let mode: i32 = 0;
export let stdf: f32 = 0;
export let block: i32 = 0;
export let pW: usize = 0;
export let pBMin: usize = 0;
export let pBMax: usize = 0;
export let pSUp: usize = 0;
export let pSDown: usize = 0;
export let pCUp: usize = 0;
export let pKUp: usize = 0;
export let pCDown: usize = 0;
export let pKDown: usize = 0;
export let pX: usize = 0;
export let pD: usize = 0;
export let pXBits: usize = 0;
export let pXNeg: usize = 0;
export let pDIdx: usize = 0;
export let pDBits: usize = 0;
export let pDNeg: usize = 0;
export let pPrng: usize = 0;
export let pLanes: usize = 0;
export let pTail: usize = 0;
export let pNCtl: usize = 0;
export let pNBuf: usize = 0;
export let pZK: usize = 0;
export let pZW: usize = 0;
export let pZF: usize = 0;
export let pShuf: usize = 0;
export let pRej: usize = 0;
export let pScratch: usize = 0;
export let pXBits8: usize = 0;
export let pXBits16: usize = 0;
export let pStepPos: usize = 0;
export let pStepNeg: usize = 0;
export let pThr: usize = 0;
export let pWords: usize = 0;
export let pCtl: usize = 0;
export let pFire: usize = 0;

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
  uniform =
    mode == MODE_CONSTANT && isUniform(pSUp) && isUniform(pSDown) && isUniform(pBMin) && isUniform(pBMax);
  if (uniform) {
    v128.store(pScratch, v128.load32_splat(pSUp), 336);
    v128.store(pScratch, v128.load32_splat(pSDown), 352);
    v128.store(pScratch, v128.load32_splat(pBMin), 368);
    v128.store(pScratch, v128.load32_splat(pBMax), 384);
  }
}

/** Constant step with the same step sizes and bounds on every weight (set by init). */
export let uniform = false;

/** True when all rows x cols words of the array have the bits of the first. */
function isUniform(p: usize): bool {
  const first = load<u32>(p);
  const end = p + ((<usize>rows * <usize>cols) << 2);
  for (let q = p; q < end; q += 4) if (load<u32>(q) != first) return false;
  return true;
}
