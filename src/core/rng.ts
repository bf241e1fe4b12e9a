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
 * of one 32-bit draw (Doornik 2005 shows that sharing them biases the tails). The tables are in
 * ziggurat.ts; the devices' per-pulse normal stream is normal-stream.ts.
 */
import { ZIGGURAT_128 } from './ziggurat.ts';

const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M32 = 1 / 4294967296;
const RAW_BLOCK = 256;
const { k: ZIG_K, w: ZIG_W, f: ZIG_F, r: ZIG_R } = ZIGGURAT_128;

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
    for (let i = from; i < to;) {
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
