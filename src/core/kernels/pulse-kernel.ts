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
import type { UpdateConfig } from '../pulse-trains.ts';
import { NORMAL_BLOCK, NORMAL_CAPACITY } from '../normal-stream.ts';
import type { Rng } from '../rng.ts';
import { ZIGGURAT, zigTail } from '../ziggurat.ts';
import { layoutBase, type WasmInstance, wasmApi } from './loader.ts';
import { type ProductExports, Products, productRegionBytes } from './matmul-kernel.ts';

export { layoutBase } from './loader.ts';

// control block fields (i32 words), as in assembly/pulse/layout.ts
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
  desired: 46,
  uflags: 47,
  umScale: 48,
  granularity: 50,
  slots: 52,
  fire: 54,
} as const;
/** Bytes of samples staged per updateBatch call (as many x and d as fit, at least one). */
const STAGE_BYTES = 1 << 16;
const CTL_WORDS = 64;
const SHUF_AT = 0;
const NBUF_AT = 1024;
const PAGE = 65536;

// the module's pulse exports; its product export is the matmul kernel's
interface KernelExports extends ProductExports {
  init(ctl: number): void;
  refill(): void;
  update(a: number, b: number, bl: number, flip: number): number;
  updateBatch(xs: number, ds: number, count: number, lr: number): number;
  setTrainsOnly(on: number): void;
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

/**
 * left-pack masks: for the lane mask m of a group of 4 i32, output lane r takes the lane of the
 * r-th set bit of m (its 4 bytes); lanes past popcount(m) take zero bytes. The kernel compacts
 * the firing lines of a group with it (assembly/pulse/layout.ts PACK_AT).
 */
function packTable(): Uint8Array {
  const t = new Uint8Array(256).fill(0x80);
  for (let m = 0; m < 16; m++) {
    let r = 0;
    for (let l = 0; l < 4; l++) {
      if (((m >> l) & 1) === 0) continue;
      for (let b = 0; b < 4; b++) t[16 * m + 4 * r + b] = 4 * l + b;
      r++;
    }
  }
  return t;
}
const PACK = packTable();
const PACK_AT = 256;

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

/** True when the device has a kernel (constant step or affine response, no write noise). */
export function kernelSupports(device: PulsedDevice): boolean {
  return device.kernelMode() !== KernelMode.none;
}

export class PulseKernel {
  /** The tile's weights (rows x cols, row-major) in the kernel's memory. */
  readonly weights: Float32Array;
  /** Forward / backward products on the weights in place (null when built without productsBatch). */
  readonly products: Products | null;
  private readonly x: Float32Array;
  private readonly d: Float32Array;
  /** The staging areas of updateBatch (stageCount samples; x and d are their first rows). */
  private readonly xs: Float32Array;
  private readonly ds: Float32Array;
  private readonly stageCount: number;
  private readonly xAt: number;
  private readonly dAt: number;
  /** The pulse slots of the last updateBatch call (written by the kernel). */
  private readonly slotsOut: Float64Array;
  private readonly rows: number;
  private readonly cols: number;
  private readonly fn: KernelExports;

  /**
   * Builds the instance of a rows x cols tile: moves the device's per-weight arrays, its normal
   * stream and the pulse-train generator `pulseRng` into the kernel's memory (they keep working,
   * on views). `device` must support a kernel (kernelSupports). With productsBatch > 0 the
   * memory also holds the scratch of forward / backward products of up to that many vectors.
   */
  constructor(
    module: object,
    rows: number,
    cols: number,
    device: PulsedDevice,
    pulseRng: Rng,
    update: UpdateConfig,
    productsBatch = 0,
  ) {
    const mode = device.kernelMode();
    if (mode === KernelMode.none)
      throw new Error(`PulseKernel: no kernel for a ${device.kind} device with these settings`);
    const api = wasmApi!;
    const size = rows * cols;
    const affine =
      mode === KernelMode.affine ||
      mode === KernelMode.affineAdditive ||
      mode === KernelMode.affineMultiplicative ||
      mode === KernelMode.affineClosedForm;

    // ---- layout (byte offsets, 16-aligned, each block padded by 64 bytes) ----
    // fixed: the swizzle table at 0 and the normal buffer at 1024 (assembly/pulse/layout.ts SHUF_AT,
    // NBUF_AT), below the module's heap base, where it keeps no data
    if (layoutBase(module) > NBUF_AT)
      throw new Error('PulseKernel: the module keeps static data where the normal buffer goes');
    let top = NBUF_AT;
    const take = (bytes: number): number => {
      const at = top;
      top = (top + bytes + 64 + 15) & ~15;
      return at;
    };
    const cols16 = (cols + 15) & ~15;
    // the staging areas hold stageCount samples; `update` reads the first
    const stageCount = Math.max(1, Math.floor(STAGE_BYTES / (4 * (rows + cols))));
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
      x: take(4 * cols * stageCount),
      d: take(4 * rows * stageCount),
      xBits: take(4 * cols16),
      xBits8: take(cols16),
      xBits16: take(2 * cols16),
      xNeg: take(4 * cols16),
      steps: take(8 * cols16),
      thr: take(4 * (rows + cols)),
      words: take(4 * 32 * (rows + cols)),
      fire: take(4 * (cols + 32)),
      dIdx: take(4 * rows),
      dBits: take(4 * rows),
      dNeg: take(4 * rows),
      w: take(4 * size),
    };
    const deviceArrays: number[] = [];
    for (let k = 0; k < (affine ? 8 : 4); k++) deviceArrays.push(take(4 * size));
    const regionAt = productsBatch > 0 ? take(productRegionBytes(rows, cols, productsBatch)) : 0;
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
    noise.moveTo(
      new Int32Array(buf, off.lanes, 16),
      new Int32Array(buf, off.tail, 4),
      new Int32Array(buf, off.nCtl, 2),
      new Float32Array(buf, off.nBuf, NORMAL_CAPACITY),
    );
    new Uint8Array(buf, off.shuf, 256).set(SHUFFLE);
    new Uint8Array(buf, PACK_AT, 256).set(PACK);
    new Uint8Array(buf, tablesAt, TABLES.length).set(TABLES);
    this.x = new Float32Array(buf, off.x, cols);
    this.d = new Float32Array(buf, off.d, rows);
    this.xs = new Float32Array(buf, off.x, cols * stageCount);
    this.ds = new Float32Array(buf, off.d, rows * stageCount);
    this.stageCount = stageCount;
    this.xAt = off.x;
    this.dAt = off.d;

    // ---- control block ----
    const c = new Int32Array(buf, ctl, CTL_WORDS);
    const cf = new Float32Array(buf, ctl, CTL_WORDS);
    c[F.rows] = rows;
    c[F.cols] = cols;
    c[F.mode] = mode;
    cf[F.std] = device.kernelStd();
    c[F.block] = NORMAL_BLOCK;
    c[F.desired] = update.desired_bl;
    c[F.uflags] = (update.update_management ? 1 : 0) | (update.update_bl_management ? 2 : 0);
    const cd = new Float64Array(buf, ctl, CTL_WORDS / 2);
    cd[F.umScale / 2] = update.um_grad_scale;
    cd[F.granularity / 2] = device.granularity;
    this.slotsOut = cd.subarray(F.slots / 2, F.slots / 2 + 1);
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
    for (const key of [
      'x',
      'd',
      'xBits',
      'xNeg',
      'dIdx',
      'dBits',
      'dNeg',
      'prng',
      'lanes',
      'tail',
      'nCtl',
      'nBuf',
      'zk',
      'zw',
      'zf',
      'shuf',
      'rej',
      'scratch',
      'xBits8',
      'xBits16',
      'steps',
      'thr',
      'words',
      'fire',
    ] as const) {
      c[F[key]] = off[key];
    }

    const instance: WasmInstance = new api.Instance(module, {
      env: { memory, zigTail: (hz: number): number => zigTail(noise.tail, hz) },
    });
    this.fn = instance.exports as unknown as KernelExports;
    this.fn.init(ctl);
    noise.refillHook = () => this.fn.refill();
    this.products =
      productsBatch > 0 ? new Products(module, this.fn, () => buf, off.w, rows, cols, regionAt, productsBatch) : null;
    this.rows = rows;
    this.cols = cols;
  }

  /**
   * One rank-1 update after update management (AnalogTile.updateVector): x = x[xOff ..], d =
   * d[dOff ..], trains of scales b (x) and a (d), BL = bl, flip = -1 for a negative learning
   * rate. Returns the number of pulses applied.
   */
  update(
    x: Float32Array,
    xOff: number,
    d: Float32Array,
    dOff: number,
    a: number,
    b: number,
    bl: number,
    flip: number,
  ): number {
    stage(this.x, x, xOff);
    stage(this.d, d, dOff);
    return this.fn.update(a, b, bl, flip);
  }

  /**
   * For the benchmark's profile only: with `on`, every update of this instance stops after its
   * trains (the weights do not move), so that the time of the trains can be told from the
   * pulsing's. Never on in a run.
   */
  profileTrainsOnly(on: boolean): void {
    this.fn.setTrainsOnly(on ? 1 : 0);
  }

  /**
   * Rank-1 updates of samples [from, to) of x ([sample][cols]) and d ([sample][rows]), one after
   * another at learning rate lr, update management included (AnalogTile.updateVector's, in the
   * kernel: the same bits). Adds the pulses and the pulse slots to `out`.
   */
  updateRange(
    x: Float32Array,
    d: Float32Array,
    from: number,
    to: number,
    lr: number,
    out: { pulses: number; slots: number },
  ): void {
    const { rows, cols, stageCount } = this;
    for (let b = from; b < to; b += stageCount) {
      const count = Math.min(stageCount, to - b);
      this.xs.set(x.subarray(b * cols, (b + count) * cols));
      this.ds.set(d.subarray(b * rows, (b + count) * rows));
      out.pulses += this.fn.updateBatch(this.xAt, this.dAt, count, lr);
      out.slots += this.slotsOut[0];
    }
  }
}

/** Copies src[off .. off + dst.length) into dst (a loop for short vectors: no subarray object). */
function stage(dst: Float32Array, src: Float32Array, off: number): void {
  const n = dst.length;
  if (n > 64) dst.set(src.subarray(off, off + n));
  else for (let k = 0; k < n; k++) dst[k] = src[off + k];
}
