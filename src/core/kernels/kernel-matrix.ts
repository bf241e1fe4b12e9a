/**
 * A float32 matrix that lives in its own WebAssembly memory, beside the kernels that work on it:
 * the forward / backward products (assembly/matmul.ts, through `Products`) and, on request, the
 * digital updates (assembly/digital.ts): digital SGD on the weights, or mixed precision's float64
 * gradient accumulator chi; or the composite algorithms' reductions into the weights
 * (assembly/composite.ts) from arrays staged beside them. The memory is sized once and never
 * grows, so the views below (weights, chi, staging) stay valid for the matrix's life.
 *
 * Users: digital sgd (algorithms/sgd.ts), the composite algorithms' effective weights
 * (algorithms/composite.ts, residual.ts, fast-slow-transfer.ts) and mixed precision's chi
 * (algorithms/mixed-precision.ts). Without the WebAssembly module they keep their TypeScript loops
 * (the references these kernels match bit for bit, test/speed-paths.test.ts).
 */
import { layoutBase, wasmApi } from './loader.ts';
import { Products, type ProductExports, productRegionBytes } from './matmul-kernel.ts';

interface MatrixKernelExports extends ProductExports {
  sgdUpdate(
    w: number,
    rows: number,
    cols: number,
    x: number,
    d: number,
    count: number,
    lr: number,
    scratch: number,
  ): void;
  mpAccumulate(
    chi: number,
    rows: number,
    cols: number,
    x: number,
    d: number,
    count: number,
    lr: number,
    scratch: number,
  ): void;
  residualSum(out: number, n: number, arrays: number, stride: number, count: number, scales: number): void;
  fastSlowSum(out: number, n: number, slow: number, fast: number, ref: number, gamma: number): void;
}

const PAGE = 65536;
/** Bytes of staged samples per update call (x and d of as many samples as fit, at least one). */
const STAGE_BYTES = 1 << 17;

export interface KernelMatrixOptions {
  /** Largest batch of forward / backward (sizes the products' scratch); 0: no products. */
  maxBatch: number;
  /** Room for digital SGD updates (sgdUpdate). */
  sgd?: boolean;
  /** A float64 accumulator chi of the same shape, and room for mpAccumulate. */
  chi?: boolean;
  /** Float32 arrays of the matrix's shape staged beside it for the composite reductions (and their scales). */
  staging?: number;
}

export class KernelMatrix {
  readonly rows: number;
  readonly cols: number;
  /** The matrix, float32 rows x cols, row-major, in the kernel's memory. */
  readonly weights: Float32Array;
  /** Mixed precision's accumulator (float64 rows x cols), when asked for. */
  readonly chi: Float64Array | null;
  /** The products of `weights` (the contracts of matmulForward / matmulBackward); null without maxBatch. */
  readonly products: Products | null;
  /** The arrays the composite reductions read (options.staging of them, row-major like weights). */
  readonly staging: Float32Array[];
  private readonly fn: MatrixKernelExports;
  private readonly wAt: number;
  private readonly chiAt: number;
  private readonly xAt: number;
  private readonly dAt: number;
  private readonly scratchAt: number;
  private readonly stagingAt: number;
  /** Bytes from one staging array to the next. */
  private readonly stagingStride: number;
  private readonly scales: Float64Array;
  /** Samples per staged update call. */
  private readonly stageCount: number;
  private readonly xStage: Float32Array;
  private readonly dStage: Float32Array;

  constructor(module: object, rows: number, cols: number, options: KernelMatrixOptions) {
    const api = wasmApi!;
    this.rows = rows;
    this.cols = cols;
    let top = (layoutBase(module) + 63) & ~63;
    const take = (bytes: number): number => {
      const at = top;
      top = (top + bytes + 64 + 63) & ~63;
      return at;
    };
    const updates = options.sgd === true || options.chi === true;
    this.stageCount = updates ? Math.max(1, Math.floor(STAGE_BYTES / (4 * (rows + cols)))) : 0;
    this.wAt = take(4 * rows * cols);
    this.chiAt = options.chi === true ? take(8 * rows * cols) : 0;
    this.xAt = take(4 * this.stageCount * cols);
    this.dAt = take(4 * this.stageCount * rows);
    // sgd: 64 bytes per group of 4 columns, then 4 per row; mp: the promoted inputs, 8 per column
    this.scratchAt = take(updates ? 16 * (cols + 4) + 4 * rows : 0);
    const staging = options.staging ?? 0;
    this.stagingStride = (4 * rows * cols + 63) & ~63;
    this.stagingAt = take(staging * this.stagingStride);
    const scalesAt = take(8 * staging);
    const regionAt = options.maxBatch > 0 ? take(productRegionBytes(rows, cols, options.maxBatch)) : 0;
    const pages = Math.ceil(top / PAGE);
    const memory = new api.Memory({ initial: pages, maximum: pages });
    const buf = memory.buffer;
    const instance = new api.Instance(module, { env: { memory, zigTail: (): number => 0 } });
    this.fn = instance.exports as unknown as MatrixKernelExports;
    this.weights = new Float32Array(buf, this.wAt, rows * cols);
    this.chi = options.chi === true ? new Float64Array(buf, this.chiAt, rows * cols) : null;
    this.xStage = new Float32Array(buf, this.xAt, this.stageCount * cols);
    this.dStage = new Float32Array(buf, this.dAt, this.stageCount * rows);
    this.staging = Array.from(
      { length: staging },
      (_, i) => new Float32Array(buf, this.stagingAt + i * this.stagingStride, rows * cols),
    );
    this.scales = new Float64Array(buf, scalesAt, staging);
    this.products =
      options.maxBatch > 0
        ? new Products(module, this.fn, () => buf, this.wAt, rows, cols, regionAt, options.maxBatch)
        : null;
  }

  /** Digital SGD, sample after sample: w -= lr d[b] x[b]^T (sgd.ts's loop, bit for bit). */
  sgdUpdate(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    this.staged(x, d, 0, batch, (count) =>
      this.fn.sgdUpdate(this.wAt, this.rows, this.cols, this.xAt, this.dAt, count, lr, this.scratchAt),
    );
  }

  /** chi += lr d[b] x[b]^T for samples b in [from, to), one after another (float64). */
  mpAccumulate(x: Float32Array, d: Float32Array, from: number, to: number, lr: number): void {
    this.staged(x, d, from, to, (count) =>
      this.fn.mpAccumulate(this.chiAt, this.rows, this.cols, this.xAt, this.dAt, count, lr, this.scratchAt),
    );
  }

  /**
   * Multi-tile residual learning's effective weights into `weights`: tile i's weights staged in
   * staging[2i], its reference in staging[2i + 1], weighted by scales[i] (residual.ts's reduce).
   */
  residualSum(scales: Float64Array): void {
    this.scales.set(scales);
    this.fn.residualSum(
      this.wAt,
      this.rows * this.cols,
      this.stagingAt,
      this.stagingStride,
      scales.length,
      this.scales.byteOffset,
    );
  }

  /**
   * slow + gamma (fast - ref) into `weights`, from staging[0], [1] and [2] (fast-slow-transfer.ts's
   * reduce); with gamma 0 only staging[0] is read (slow + 0), and only it needs to exist.
   */
  fastSlowSum(gamma: number): void {
    const at = (i: number): number => this.stagingAt + i * this.stagingStride;
    this.fn.fastSlowSum(this.wAt, this.rows * this.cols, at(0), at(1), at(2), gamma);
  }

  /** Stages samples [from, to) of x and d chunk by chunk and runs `kernel(count)` on each chunk. */
  private staged(x: Float32Array, d: Float32Array, from: number, to: number, kernel: (count: number) => void): void {
    const { rows, cols, stageCount } = this;
    for (let b = from; b < to; b += stageCount) {
      const count = Math.min(stageCount, to - b);
      this.xStage.set(x.subarray(b * cols, (b + count) * cols));
      this.dStage.set(d.subarray(b * rows, (b + count) * rows));
      kernel(count);
    }
  }
}
