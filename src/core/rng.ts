/**
 * Seeded random numbers for the simulation core.
 *
 * Generator: xoshiro128** (Blackman & Vigna, 2018), 128-bit state, period 2^128 - 1, all
 * arithmetic in 32-bit integers (Math.imul, >>>), so the stream is bit-identical on every
 * machine, thread and JavaScript engine.
 *
 * Streams: a run never shares one generator between purposes. `streamFor(seed, name)` derives
 * an independent generator per named purpose ("device", "pulses", "noise", "data", "init", ...)
 * by hashing the stream name into the seed, so adding draws to one purpose never shifts the
 * numbers another purpose sees.
 *
 * Normals: Marsaglia & Tsang's ziggurat with 128 layers; index and value come from disjoint bits
 * of one 32-bit draw (Doornik 2005 shows that sharing them biases the tails).
 */

const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M32 = 1 / 4294967296;
const RAW_BLOCK = 256;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of a stream name. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  /**
   * xoshiro128** state words. An Int32Array (not four fields) so V8 never boxes them; it may be
   * a view into a WebAssembly memory (`moveState`), so a kernel continues the same stream.
   */
  private s: Int32Array = new Int32Array(4);
  /** Scratch for block generation. */
  private readonly raw = new Int32Array(RAW_BLOCK);

  /** Seeds the state from four 32-bit words via splitmix32; an all-zero state is impossible. */
  constructor(a: number, b = 0, c = 0, d = 0) {
    let x = (a ^ fmix32(b ^ 0x9e3779b9) ^ fmix32(c ^ 0x7f4a7c15) ^ fmix32(d ^ 0x6a09e667)) >>> 0;
    for (let k = 0; k < 4; k++) {
      x = (x + 0x9e3779b9) | 0;
      this.s[k] = fmix32(x);
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next raw 32-bit output as an unsigned integer. */
  nextU32(): number {
    return this.nextI32() >>> 0;
  }

  /** Next raw 32-bit output as a signed integer (cheaper in hot loops). */
  nextI32(): number {
    const st = this.s;
    const s0 = st[0];
    const s1 = st[1];
    const s2 = st[2] ^ s0;
    const s3 = st[3] ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    st[0] = s0 ^ s3;
    st[1] = s1 ^ s2;
    st[2] = s2 ^ (s1 << 9);
    st[3] = rotl(s3, 11);
    return result;
  }

  /**
   * Fills `out[from, to)` with raw 32-bit outputs: the same numbers as as many nextI32 calls,
   * generated with the state in registers (the hot path for pulse trains).
   */
  fillI32(out: Int32Array, from = 0, to = out.length): void {
    const st = this.s;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    for (let i = from; i < to; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }

  /** Uniform in [0, 1) with 24 random bits (exactly representable as float32). */
  uniform(): number {
    return (this.nextI32() >>> 8) * TWO_POW_M24;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform53(): number {
    const hi = this.nextI32() >>> 5; // 27 bits
    const lo = this.nextI32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in (0, 1]: safe under Math.log. */
  uniformPositive(): number {
    return ((this.nextI32() >>> 0) + 1) * TWO_POW_M32;
  }

  /** Uniform integer in [0, n) for integer n in [1, 2^32], without modulo bias (rejection). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 4294967296)) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextI32() >>> 0;
      if (r < limit) return r % n;
    }
  }

  /** Standard normal N(0, 1) (ziggurat). */
  normal(): number {
    const u = this.nextI32();
    const iz = u & 127;
    const hz = u >> 7; // signed 25-bit value, disjoint from the index bits
    if ((hz < 0 ? -hz : hz) < ZIG_K[iz]) return hz * ZIG_W[iz];
    return this.normalTail(hz, iz);
  }

  private normalTail(hzIn: number, izIn: number): number {
    let hz = hzIn;
    let iz = izIn;
    for (;;) {
      const x = hz * ZIG_W[iz];
      if (iz === 0) {
        let xt: number;
        let yt: number;
        do {
          xt = -Math.log(this.uniformPositive()) / ZIG_R;
          yt = -Math.log(this.uniformPositive());
        } while (yt + yt < xt * xt);
        return hz > 0 ? ZIG_R + xt : -ZIG_R - xt;
      }
      if (ZIG_F[iz] + this.uniform53() * (ZIG_F[iz - 1] - ZIG_F[iz]) < Math.exp(-0.5 * x * x)) return x;
      const u = this.nextI32();
      iz = u & 127;
      hz = u >> 7;
      if ((hz < 0 ? -hz : hz) < ZIG_K[iz]) return hz * ZIG_W[iz];
    }
  }

  /**
   * Fills `out[from, to)` with standard normals. Raw words come in blocks with the state in
   * registers; the rare ziggurat rejections (< 2 %) draw their extra numbers after the block.
   * Deterministic, but not the same sequence as repeated normal() calls.
   */
  fillNormal(out: Float32Array | Float64Array, from = 0, to = out.length): void {
    const raw = this.raw;
    const zk = ZIG_K;
    const zw = ZIG_W;
    for (let i = from; i < to; ) {
      const n = Math.min(to - i, RAW_BLOCK);
      this.fillI32(raw, 0, n);
      for (let k = 0; k < n; k++, i++) {
        const u = raw[k];
        const iz = u & 127;
        const hz = u >> 7;
        out[i] = (hz < 0 ? -hz : hz) < zk[iz] ? hz * zw[iz] : this.normalTail(hz, iz);
      }
    }
  }

  /** Fills `out[from, to)` with uniforms in [0, 1). */
  fillUniform(out: Float32Array | Float64Array, from = 0, to = out.length): void {
    for (let i = from; i < to; i++) out[i] = (this.nextI32() >>> 8) * TWO_POW_M24;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** A generator continuing from a saved state (four 32-bit words, not all zero). */
  static fromState(words: ArrayLike<number>): Rng {
    const r = new Rng(0);
    for (let k = 0; k < 4; k++) r.s[k] = words[k] | 0;
    if ((r.s[0] | r.s[1] | r.s[2] | r.s[3]) === 0) throw new RangeError('Rng.fromState: the all-zero state is invalid');
    return r;
  }

  /**
   * Moves the state into `view` (four words, e.g. in a WebAssembly memory): from now on this
   * generator and whoever else works on `view` continue one and the same stream.
   */
  moveState(view: Int32Array): void {
    if (view.length !== 4) throw new RangeError('Rng.moveState: the view must hold exactly 4 words');
    view.set(this.s);
    this.s = view;
  }

  /** The generator's state, for tests and checkpoints. */
  state(): [number, number, number, number] {
    return [this.s[0] >>> 0, this.s[1] >>> 0, this.s[2] >>> 0, this.s[3] >>> 0];
  }
}

/**
 * Independent generator for one purpose of one run. `seed` may be any safe integer; `name`
 * identifies the purpose and `index` distinguishes instances (e.g. tile number).
 */
export function streamFor(seed: number, name: string, index = 0): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return new Rng(lo, hi, hashName(name), index >>> 0);
}

// ---- ziggurat tables (Marsaglia & Tsang 2000, 128 layers), scaled for 25-bit signed values ----
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_M = 16777216; // 2^24: |hz| < 2^24
const ZIG_K = new Float64Array(128);
const ZIG_W = new Float64Array(128);
const ZIG_F = new Float64Array(128);
{
  let dn = ZIG_R;
  let tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  ZIG_K[0] = (dn / q) * ZIG_M;
  ZIG_K[1] = 0;
  ZIG_W[0] = q / ZIG_M;
  ZIG_W[127] = dn / ZIG_M;
  ZIG_F[0] = 1;
  ZIG_F[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    ZIG_K[i + 1] = (dn / tn) * ZIG_M;
    tn = dn;
    ZIG_F[i] = Math.exp(-0.5 * dn * dn);
    ZIG_W[i] = dn / ZIG_M;
  }
}

// ---- the per-pulse normal stream of the devices ----

/**
 * The normal stream's ziggurat: Marsaglia & Tsang's construction with 1024 layers (99.57 % fast
 * acceptance, against 97.2 % with 128: the rejection path is what costs), index = low 10 bits of
 * a word, hz = its signed upper 22 bits (a layer's width in 2^21 steps), in the
 * forms a SIMD kernel uses: the acceptance bound as an integer (|hz| < K <=> |hz| < ceil(K) for
 * integer hz) and the scale as a float32 (hz * w32 is exact in float64, so one rounding to float32
 * gives the float32 product). The WebAssembly kernel copies these very arrays into its memory.
 */
export const ZIGGURAT = (() => {
  // r: start of the tail, v: area of each layer (solved for 1024 equal layers; the published
  // 128- and 256-layer values come out of the same solver to 12 digits)
  const n = 1024;
  const r = 4.038849846109494;
  const v = 0.0012263246463530878;
  const m = 2097152; // 2^21: |hz| < 2^21
  const kf = new Float64Array(n);
  const w = new Float64Array(n);
  const f = new Float64Array(n);
  let dn = r;
  let tn = dn;
  const q = v / Math.exp(-0.5 * dn * dn);
  kf[0] = (dn / q) * m;
  kf[1] = 0;
  w[0] = q / m;
  w[n - 1] = dn / m;
  f[0] = 1;
  f[n - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = n - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(v / dn + Math.exp(-0.5 * dn * dn)));
    kf[i + 1] = (dn / tn) * m;
    tn = dn;
    f[i] = Math.exp(-0.5 * dn * dn);
    w[i] = dn / m;
  }
  return {
    /** ceil(K[i]): fast acceptance |hz| < k[i] */
    k: Int32Array.from(kf, (x) => Math.ceil(x)),
    /** float32(W[i]): fast value hz * w32[i] */
    w32: Float32Array.from(w),
    /** W[i] in float64 (wedge test) */
    w,
    /** f(x_i) = exp(-x_i^2 / 2) (wedge test) */
    f,
    /** start of the base strip's tail */
    r,
  } as const;
})();

const EXP_LN2_HI = 6.93147180369123816490e-1;
const EXP_LN2_LO = 1.90821492927058770002e-10;
const EXP_INV_LN2 = 1.4426950408889634;
const EXP_P1 = 1.66666666666666019037e-1;
const EXP_P2 = -2.77777777770155933842e-3;
const EXP_P3 = 6.61375632143793436117e-5;
const EXP_P4 = -1.65339022054652515390e-6;
const EXP_P5 = 4.13813679705723846039e-8;

/**
 * exp(t) for t <= 0 (fdlibm's algorithm, error < 1 ulp) written with nothing but IEEE-754
 * +, -, *, / and floor, so that it gives the same bits in JavaScript and in the WebAssembly
 * kernel (assembly/pulse.ts holds the same code; Math.exp may differ between engines in the last
 * bit). Used by the ziggurat's wedge test of the normal stream.
 */
export function zigExp(t: number): number {
  if (!(t > -700)) return 0;
  const k = Math.floor(EXP_INV_LN2 * t + 0.5);
  const hi = t - k * EXP_LN2_HI;
  const lo = k * EXP_LN2_LO;
  const r = hi - lo;
  const r2 = r * r;
  const c = r - r2 * (EXP_P1 + r2 * (EXP_P2 + r2 * (EXP_P3 + r2 * (EXP_P4 + r2 * EXP_P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  return y * POW2_NEG[-k];
}

/** POW2_NEG[i] = 2^-i (exact: repeated halving stays in the normal range), i <= 1021. */
const POW2_NEG = (() => {
  const t = new Float64Array(1022);
  t[0] = 1;
  for (let i = 1; i < t.length; i++) t[i] = t[i - 1] * 0.5;
  return t;
})();

/**
 * The ziggurat's base-strip tail (|x| > R, Marsaglia 1964) from `rng`: the one rare branch of the
 * normal stream that uses Math.log. The WebAssembly kernel calls back into this very function
 * (on the tail generator whose state lives in its memory), so both paths give the same bits.
 */
export function zigTail(rng: Rng, hz: number): number {
  const r = ZIGGURAT.r;
  let xt: number;
  let yt: number;
  do {
    xt = -Math.log(rng.uniformPositive()) / r;
    yt = -Math.log(rng.uniformPositive());
  } while (yt + yt < xt * xt);
  return hz > 0 ? r + xt : -r - xt;
}

/**
 * Fills raw[0 ..) with the words of the four xoshiro128** lanes (state lanes[4 * word + lane]):
 * raw[q] from lane q mod 4, each lane's state in registers.
 */
function laneWords(lanes: Int32Array, raw: Int32Array): void {
  const n = raw.length;
  for (let l = 0; l < 4; l++) {
    let s0 = lanes[l];
    let s1 = lanes[4 + l];
    let s2 = lanes[8 + l];
    let s3 = lanes[12 + l];
    for (let q = l; q < n; q += 4) {
      raw[q] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    lanes[l] = s0;
    lanes[4 + l] = s1;
    lanes[8 + l] = s2;
    lanes[12 + l] = s3;
  }
}

/**
 * The ziggurat's fast path of each word raw[q] into buf[at + q]; the positions q of the words it
 * rejects go to rejects[0 ..), whose count it returns.
 */
function zigFast(raw: Int32Array, buf: Float32Array, at: number, rejects: Int32Array): number {
  const kt = ZIGGURAT.k;
  const wt = ZIGGURAT.w32;
  let nrej = 0;
  for (let q = 0; q < raw.length; q++) {
    const u = raw[q];
    const iz = u & 1023;
    const hz = u >> 10;
    buf[at + q] = hz * wt[iz];
    if ((hz < 0 ? -hz : hz) >= kt[iz]) rejects[nrej++] = q;
  }
  return nrej;
}

/** Four xoshiro128** lanes seeded from `seed` (12 draws), as lanes[4 * word + lane]. */
function seedLanes(seed: Rng): Int32Array {
  const lanes = new Int32Array(16);
  for (let l = 0; l < 4; l++) {
    const st = new Rng(seed.nextU32(), seed.nextU32(), seed.nextU32(), l).state();
    for (let k = 0; k < 4; k++) lanes[4 * k + l] = st[k];
  }
  return lanes;
}

/** Normals generated per refill of a NormalStream (a multiple of 4). */
export const NORMAL_BLOCK = 1024;
/** Buffer capacity: a block plus room for the normals carried over from the previous one. */
export const NORMAL_CAPACITY = NORMAL_BLOCK + 128;

/**
 * The cycle-to-cycle noise of a device: an endless stream of standard normals, consumed one per
 * pulse. Definition (the same in the TypeScript reference and the WebAssembly kernel):
 *   - four xoshiro128** generators ("lanes") make the raw words; word k of the stream comes
 *     from lane k mod 4 (so a SIMD kernel steps the four lanes at once);
 *   - normal k is the ziggurat's fast value hz * w32[iz] of word k (ZIGGURAT: iz = low 10
 *     bits, hz = the signed upper 22 bits) when |hz| < k[iz] (99.57 %); otherwise the rejection
 *     path runs on a fifth, scalar generator (`tail`), in order of k: the wedge test with
 *     `zigExp`, new words from `tail`, and the base-strip tail `zigTail`;
 *   - the normals are float32 (the precision of the float32 pulse arithmetic that uses them).
 * Normals are generated in blocks into `buf`; `ctl` = [next, end]. A refill moves the unread
 * normals to the front and appends a block, so the stream does not depend on when refills
 * happen. The arrays may be views into a WebAssembly memory (`moveTo`).
 */
export class NormalStream {
  /** Lane states, structure of arrays: lanes[4 * word + lane]. */
  lanes: Int32Array;
  /** The scalar generator of the rejection path. */
  readonly tail: Rng;
  /** [index of the next normal, end of the generated normals] in `buf`. */
  ctl: Int32Array;
  buf: Float32Array;
  /** When set, refills run here (the WebAssembly kernel's refill on the same memory). */
  refillHook: (() => void) | null = null;
  private readonly raw = new Int32Array(NORMAL_BLOCK);
  private readonly rejects = new Int32Array(NORMAL_BLOCK);

  /** Seeds the five generators from `seed` (15 draws). */
  constructor(seed: Rng) {
    this.lanes = seedLanes(seed);
    this.tail = new Rng(seed.nextU32(), seed.nextU32(), seed.nextU32(), 4);
    this.ctl = new Int32Array(2);
    this.buf = new Float32Array(NORMAL_CAPACITY);
  }

  /** The next normal of the stream. */
  next(): number {
    const c = this.ctl;
    let i = c[0];
    if (i >= c[1]) {
      this.refill();
      i = c[0];
    }
    c[0] = i + 1;
    return this.buf[i];
  }

  /** Makes at least `k` (<= 128) normals available at buf[ctl[0] ..]. */
  ensure(k: number): void {
    if (this.ctl[1] - this.ctl[0] < k) this.refill();
  }

  /** Moves the unread normals to the front and appends a block. */
  refill(): void {
    if (this.refillHook !== null) this.refillHook();
    else this.refillReference();
  }

  /** The TypeScript refill (the reference of the kernel's). */
  refillReference(): void {
    const c = this.ctl;
    const carry = c[1] - c[0];
    this.buf.copyWithin(0, c[0], c[1]);
    this.generate(carry);
    c[0] = 0;
    c[1] = carry + NORMAL_BLOCK;
  }

  /** Moves the whole state into the given views (e.g. in a WebAssembly memory). */
  moveTo(lanes: Int32Array, tail: Int32Array, ctl: Int32Array, buf: Float32Array): void {
    if (lanes.length !== 16 || ctl.length !== 2 || buf.length !== NORMAL_CAPACITY) throw new RangeError('NormalStream.moveTo: wrong view sizes');
    lanes.set(this.lanes);
    ctl.set(this.ctl);
    buf.set(this.buf);
    this.tail.moveState(tail);
    this.lanes = lanes;
    this.ctl = ctl;
    this.buf = buf;
  }

  private generate(at: number): void {
    const raw = this.raw;
    laneWords(this.lanes, raw);
    // the fast path, then the rare rejections in stream order (as the kernel does it)
    const nrej = zigFast(raw, this.buf, at, this.rejects);
    for (let r = 0; r < nrej; r++) {
      const q = this.rejects[r];
      const u = raw[q];
      this.buf[at + q] = this.reject(u >> 10, u & 1023);
    }
  }

  /** The rejection path of one word (float64; the caller stores the float32 rounding). */
  private reject(hzIn: number, izIn: number): number {
    const tail = this.tail;
    const { w, f } = ZIGGURAT;
    let hz = hzIn;
    let iz = izIn;
    for (;;) {
      if (iz === 0) return zigTail(tail, hz);
      const x = hz * w[iz];
      if (f[iz] + tail.uniform53() * (f[iz - 1] - f[iz]) < zigExp(-0.5 * x * x)) return x;
      const u = tail.nextI32();
      iz = u & 1023;
      hz = u >> 10;
      if ((hz < 0 ? -hz : hz) < ZIGGURAT.k[iz]) return hz * ZIGGURAT.w32[iz];
    }
  }
}
