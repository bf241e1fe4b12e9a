/**
 * One tile's instance of the WebAssembly pulse kernel (assembly/pulse.ts).
 *
 * Memory: each tile gets its own instance on its own memory, sized once for everything the
 * kernel touches and never grown (so the views below never detach): the weights, the device's
 * per-weight arrays (moved there from the device, which keeps Float32Array views of them), the
 * pulse-train generator's state, the device's normal stream (lanes, tail generator, buffer), the
 * ziggurat tables, the staged x and d of one sample and the trains. The kernel works in place;
 * per update only x and d are copied in. Every array is padded by 16 floats (the x trains up to
 * a multiple of 16 columns), so the kernel's 16-column blocks stay inside the memory; lanes past
 * a row's end have no pulses and are written back unchanged.
 *
 * The same state is visible to the TypeScript objects (tile.weights, device.bMin, ..., the
 * Rng and NormalStream objects work on views of it), so TypeScript code that pulses single
 * weights (applyPulses) continues exactly the same streams.
 */
import { KernelMode, type PulsedDevice } from '../devices/base.ts';
import type { AffineResponseDevice } from '../devices/affine-response.ts';
import { NORMAL_BLOCK, NORMAL_CAPACITY, type Rng, ZIGGURAT, zigTail } from '../rng.ts';
import { type WasmInstance, wasmApi } from './loader.ts';

// control block fields (i32 words), as in assembly/pulse.ts
const F = {
  rows: 0,
  cols: 1,
  mode: 2,
  std: 3,
  w: 4,
  bMin: 5,
  bMax: 6,
  sUp: 7,
  sDown: 8,
  cUp: 9,
  kUp: 10,
  cDown: 11,
  kDown: 12,
  x: 13,
  d: 14,
  xBits: 15,
  xNeg: 16,
  dIdx: 17,
  dBits: 18,
  dNeg: 19,
  lanes: 21,
  tail: 22,
  nCtl: 23,
  nBuf: 24,
  zk: 25,
  zw: 27,
  zf: 28,
  shuf: 29,
  block: 35,
  rej: 36,
  scratch: 37,
  xBits8: 38,
  xBits16: 39,
  steps: 40,
  thr: 44,
  words: 45,
  prng: 20,
} as const;
const CTL_WORDS = 64;
const SHUF_AT = 0;
const NBUF_AT = 1024;
const PAGE = 65536;

interface KernelExports {
  heapBase(): number;
  init(ctl: number): void;
  refill(): void;
  update(a: number, b: number, bl: number, flip: number): number;
}

/**
 * swizzle masks of the normals: for the active-lane mask m of a group of 4, active lane l takes
 * the next normal after those of the active lanes below it (bytes of float popcount(m & (2^l-1)));
 * inactive lanes get zero bytes (index 0x80).
 */
function shuffleTable(): Uint8Array {
  const t = new Uint8Array(256);
  for (let m = 0; m < 16; m++) {
    let next = 0;
    for (let l = 0; l < 4; l++) {
      for (let b = 0; b < 4; b++) t[16 * m + 4 * l + b] = (m >> l) & 1 ? 4 * next + b : 0x80;
      if ((m >> l) & 1) next++;
    }
  }
  return t;
}
const SHUFFLE = shuffleTable();

/** The ziggurat tables as the kernel reads them: (k, w32) pairs, then w, then f (float64). */
const TABLES = (() => {
  const nz = ZIGGURAT.k.length;
  const bytes = new Uint8Array(24 * nz);
  const pairsI = new Int32Array(bytes.buffer, 0, 2 * nz);
  const pairsF = new Float32Array(bytes.buffer, 0, 2 * nz);
  for (let i = 0; i < nz; i++) {
    pairsI[2 * i] = ZIGGURAT.k[i];
    pairsF[2 * i + 1] = ZIGGURAT.w32[i];
  }
  new Float64Array(bytes.buffer, 8 * nz, nz).set(ZIGGURAT.w);
  new Float64Array(bytes.buffer, 16 * nz, nz).set(ZIGGURAT.f);
  return bytes;
})();

let heapBase = -1;

/** Where a tile's layout may start: the module's own static data ends before (probed once). */
export function layoutBase(module: object): number {
  if (heapBase < 0) {
    const api = wasmApi!;
    const probe = new api.Instance(module, { env: { memory: new api.Memory({ initial: 1 }), zigTail: () => 0 } });
    heapBase = (probe.exports as unknown as KernelExports).heapBase();
  }
  return heapBase;
}

/** True when the device has a kernel (constant step or affine response, no write noise). */
export function kernelSupports(device: PulsedDevice): boolean {
  return device.kernelMode() !== KernelMode.none;
}

export class PulseKernel {
  /** The tile's weights (rows x cols, row-major) in the kernel's memory. */
  readonly weights: Float32Array;
  private readonly x: Float32Array;
  private readonly d: Float32Array;
  private readonly rows: number;
  private readonly cols: number;
  private readonly fn: KernelExports;

  /**
   * Builds the instance of a rows x cols tile: moves the device's per-weight arrays, its normal
   * stream and the pulse-train generator `pulseRng` into the kernel's memory (they keep working,
   * on views). `device` must support a kernel (kernelSupports).
   */
  constructor(module: object, rows: number, cols: number, device: PulsedDevice, pulseRng: Rng) {
    const mode = device.kernelMode();
    if (mode === KernelMode.none) throw new Error(`PulseKernel: no kernel for a ${device.kind} device with these settings`);
    const api = wasmApi!;
    const size = rows * cols;
    const affine = mode === KernelMode.affine || mode === KernelMode.affineAdditive || mode === KernelMode.affineMultiplicative || mode === KernelMode.affineClosedForm;

    // ---- layout (byte offsets, 16-aligned, each block padded by 64 bytes) ----
    // fixed: the swizzle table at 0 and the normal buffer at 1024 (assembly/pulse.ts SHUF_AT,
    // NBUF_AT), below the module's heap base, where it keeps no data
    if (layoutBase(module) > NBUF_AT) throw new Error('PulseKernel: the module keeps static data where the normal buffer goes');
    let top = NBUF_AT;
    const take = (bytes: number): number => {
      const at = top;
      top = (top + bytes + 64 + 15) & ~15;
      return at;
    };
    const cols16 = (cols + 15) & ~15;
    const nBufAt = take(4 * NORMAL_CAPACITY);
    const ctl = take(4 * CTL_WORDS);
    const tablesAt = take(TABLES.length);
    const nz = ZIGGURAT.k.length;
    const off = {
      shuf: SHUF_AT,
      zk: tablesAt,
      zw: tablesAt + 8 * nz,
      zf: tablesAt + 16 * nz,
      prng: take(16),
      lanes: take(64),
      tail: take(16),
      nCtl: take(8),
      nBuf: nBufAt,
      rej: take(8 * NORMAL_BLOCK),
      scratch: take(528),
      x: take(4 * cols),
      d: take(4 * rows),
      xBits: take(4 * cols16),
      xBits8: take(cols16),
      xBits16: take(2 * cols16),
      xNeg: take(4 * cols16),
      steps: take(8 * cols16),
      thr: take(4 * (rows + cols)),
      words: take(4 * 32 * (rows + cols)),
      dIdx: take(4 * rows),
      dBits: take(4 * rows),
      dNeg: take(4 * rows),
      w: take(4 * size),
    };
    const deviceArrays: number[] = [];
    for (let k = 0; k < (affine ? 8 : 4); k++) deviceArrays.push(take(4 * size));
    const memory = new api.Memory({ initial: Math.ceil(top / PAGE), maximum: Math.ceil(top / PAGE) });
    const buf = memory.buffer;

    // ---- move the state in ----
    this.weights = new Float32Array(buf, off.w, size);
    let next = 0;
    device.moveArrays((a) => {
      if (a.length !== size || next === deviceArrays.length) throw new Error('PulseKernel: unexpected device arrays');
      const v = new Float32Array(buf, deviceArrays[next++], size);
      v.set(a);
      return v;
    });
    pulseRng.moveState(new Int32Array(buf, off.prng, 4));
    const noise = device.noise;
    noise.moveTo(new Int32Array(buf, off.lanes, 16), new Int32Array(buf, off.tail, 4), new Int32Array(buf, off.nCtl, 2), new Float32Array(buf, off.nBuf, NORMAL_CAPACITY));
    new Uint8Array(buf, off.shuf, 256).set(SHUFFLE);
    new Uint8Array(buf, tablesAt, TABLES.length).set(TABLES);
    this.x = new Float32Array(buf, off.x, cols);
    this.d = new Float32Array(buf, off.d, rows);

    // ---- control block ----
    const c = new Int32Array(buf, ctl, CTL_WORDS);
    const cf = new Float32Array(buf, ctl, CTL_WORDS);
    c[F.rows] = rows;
    c[F.cols] = cols;
    c[F.mode] = mode;
    cf[F.std] = device.kernelStd();
    c[F.block] = NORMAL_BLOCK;
    c[F.w] = off.w;
    c[F.bMin] = device.bMin.byteOffset;
    c[F.bMax] = device.bMax.byteOffset;
    c[F.sUp] = device.sUp.byteOffset;
    c[F.sDown] = device.sDown.byteOffset;
    if (affine) {
      const a = device as AffineResponseDevice;
      c[F.cUp] = a.cUp.byteOffset;
      c[F.kUp] = a.kUp.byteOffset;
      c[F.cDown] = a.cDown.byteOffset;
      c[F.kDown] = a.kDown.byteOffset;
    }
    for (const key of ['x', 'd', 'xBits', 'xNeg', 'dIdx', 'dBits', 'dNeg', 'prng', 'lanes', 'tail', 'nCtl', 'nBuf', 'zk', 'zw', 'zf', 'shuf', 'rej', 'scratch', 'xBits8', 'xBits16', 'steps', 'thr', 'words'] as const) {
      c[F[key]] = off[key];
    }

    const instance: WasmInstance = new api.Instance(module, {
      env: { memory, zigTail: (hz: number): number => zigTail(noise.tail, hz) },
    });
    this.fn = instance.exports as unknown as KernelExports;
    this.fn.init(ctl);
    noise.refillHook = () => this.fn.refill();
    this.rows = rows;
    this.cols = cols;
  }

  /**
   * One rank-1 update after update management (AnalogTile.updateVector): x = x[xOff ..], d =
   * d[dOff ..], trains of scales b (x) and a (d), BL = bl, flip = -1 for a negative learning
   * rate. Returns the number of pulses applied.
   */
  update(x: Float32Array, xOff: number, d: Float32Array, dOff: number, a: number, b: number, bl: number, flip: number): number {
    stage(this.x, x, xOff);
    stage(this.d, d, dOff);
    return this.fn.update(a, b, bl, flip);
  }
}

/** Copies src[off .. off + dst.length) into dst (a loop for short vectors: no subarray object). */
function stage(dst: Float32Array, src: Float32Array, off: number): void {
  const n = dst.length;
  if (n > 64) dst.set(src.subarray(off, off + n));
  else for (let k = 0; k < n; k++) dst[k] = src[off + k];
}
