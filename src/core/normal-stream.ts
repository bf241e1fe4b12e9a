/**
 * The per-pulse normal stream of the devices (`NormalStream`): standard normals made in blocks
 * from four xoshiro128** lanes and the 1024-layer ziggurat, the TypeScript reference of the
 * WebAssembly kernel's refill (assembly/pulse/normal-stream.ts).
 *
 * Separate from the generator (rng.ts: Rng, named streams) and the tables (ziggurat.ts) because
 * it is neither: a stream format of its own, defined jointly with the kernel, used only by the
 * devices and the pulse kernel. Imports both; neither imports it.
 */
import { Rng } from './rng.ts';
import { ZIGGURAT, zigExp, zigTail } from './ziggurat.ts';

/** xoshiro128**'s rotation (the same as rng.ts's, which keeps its own private). */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
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
    if (lanes.length !== 16 || ctl.length !== 2 || buf.length !== NORMAL_CAPACITY)
      throw new RangeError('NormalStream.moveTo: wrong view sizes');
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
