/**
 * The WebAssembly matrix-product kernels (assembly/matmul.ts, in the same module as the pulse
 * kernel): forward y = W x and backward z = W^T d over a mini-batch, bit-identical to
 * matmulForward / matmulBackward of src/core/io.ts (the TypeScript reference;
 * test/matmul-kernel.test.ts compares them bit for bit). Only the exact product runs here; the
 * IO model around it (noise, quantisation, bounds) stays in IoPath.
 *
 * The kernel reads float32 weights where they are: `Products` runs on weights that live in a
 * WebAssembly memory (a tile's pulse kernel, a digital or composite matrix, kernels/space.ts),
 * with a scratch region of that memory reserved for it; the thread's `MatmulKernel`
 * (`sharedMatmulKernel`) serves weights held in JavaScript arrays by copying them into its own
 * memory first. Per call a chunk of up to MATMUL_CHUNK samples is staged (float32), the kernel
 * picks its dense or sparse form (assembly/matmul.ts `product`) and the outputs are copied back.
 * Batches larger than a chunk run chunk by chunk; each output depends only on its own sample, so
 * chunking changes no bit.
 */
import { layoutBase, wasmApi } from './loader.ts';

export interface ProductExports {
  product(
    w: number,
    rows: number,
    cols: number,
    x: number,
    count: number,
    y: number,
    back: number,
    scratch: number,
  ): number;
}

interface GrowableMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** Samples per kernel call: a multiple of 6 (the kernel's 3 pairs), bounded for memory. */
export const MATMUL_CHUNK = 120;
const PAGE = 65536;

const align = (bytes: number): number => (bytes + 64 + 63) & ~63;

/** Offsets (from the region's start) of one product region for `chunk` vectors of a rows x cols matrix. */
function regionLayout(
  rows: number,
  cols: number,
  chunk: number,
): { inAt: number; workAt: number; outAt: number; bytes: number } {
  const n = Math.max(rows, cols);
  const inAt = 0;
  const workAt = inAt + align(4 * chunk * n);
  // the dense kernel's interleaved pairs, or the sparse kernels' list (+ one block of outputs)
  const work = Math.max(16 * ((chunk + 1) >> 1) * n, 12 * n + 16 + 64);
  const outAt = workAt + align(work);
  return { inAt, workAt, outAt, bytes: outAt + align(4 * (chunk + 1) * n) };
}

/** Bytes of the scratch region `Products` needs for batches of `maxBatch` on a rows x cols matrix. */
export function productRegionBytes(rows: number, cols: number, maxBatch: number): number {
  return regionLayout(rows, cols, Math.min(MATMUL_CHUNK, maxBatch)).bytes;
}

/**
 * Runs the products of the weights at byte `wAt` of a WebAssembly memory (float32 rows x cols,
 * followed by 64 readable bytes) through the kernel of `fn`, with the scratch region at `regionAt`
 * (productRegionBytes(rows, cols, maxBatch) bytes). `forward` / `backward` have the contracts of
 * matmulForward / matmulBackward; a W other than those weights goes through the shared kernel.
 */
export class Products {
  private readonly fn: ProductExports;
  private readonly buffer: () => ArrayBuffer;
  private readonly wAt: number;
  private readonly rows: number;
  private readonly cols: number;
  private readonly chunk: number;
  private readonly inAt: number;
  private readonly workAt: number;
  private readonly outAt: number;
  private readonly module: object;
  /** Chunks that ran on the sparse kernel, for tests and the benchmark. */
  sparseChunks = 0;

  constructor(
    module: object,
    fn: ProductExports,
    buffer: () => ArrayBuffer,
    wAt: number,
    rows: number,
    cols: number,
    regionAt: number,
    maxBatch: number,
  ) {
    this.module = module;
    this.fn = fn;
    this.buffer = buffer;
    this.wAt = wAt;
    this.rows = rows;
    this.cols = cols;
    this.chunk = Math.min(MATMUL_CHUNK, maxBatch);
    const l = regionLayout(rows, cols, this.chunk);
    this.inAt = regionAt + l.inAt;
    this.workAt = regionAt + l.workAt;
    this.outAt = regionAt + l.outAt;
  }

  forward(W: Float32Array, rows: number, cols: number, x: Float32Array, y: Float32Array, batch: number): void {
    if (!this.mine(W, rows, cols)) sharedMatmulKernel(this.module).forward(W, rows, cols, x, y, batch);
    else this.run(x, y, batch, false);
  }

  backward(W: Float32Array, rows: number, cols: number, d: Float32Array, z: Float32Array, batch: number): void {
    if (!this.mine(W, rows, cols)) sharedMatmulKernel(this.module).backward(W, rows, cols, d, z, batch);
    else this.run(d, z, batch, true);
  }

  private mine(W: Float32Array, rows: number, cols: number): boolean {
    return W.buffer === this.buffer() && W.byteOffset === this.wAt && rows === this.rows && cols === this.cols;
  }

  /** The product of the weights with `batch` inputs (in chunks). */
  run(input: Float32Array, output: Float32Array, batch: number, back: boolean): void {
    const { rows, cols, fn } = this;
    const n = back ? rows : cols;
    const m = back ? cols : rows;
    const buf = this.buffer();
    const chunk = Math.min(this.chunk, batch);
    const stage = new Float32Array(buf, this.inAt, chunk * n);
    const result = new Float32Array(buf, this.outAt, chunk * m);
    for (let b = 0; b < batch; b += chunk) {
      const count = Math.min(chunk, batch - b);
      stage.set(input.subarray(b * n, (b + count) * n));
      this.sparseChunks += fn.product(this.wAt, rows, cols, this.inAt, count, this.outAt, back ? 1 : 0, this.workAt);
      output.set(count === chunk ? result : result.subarray(0, count * m), b * m);
    }
  }
}

/**
 * The thread's kernel for weights held in JavaScript arrays: copies W (float32) into its own
 * memory, which grows to the largest call seen, then runs the product there.
 */
export class MatmulKernel {
  private readonly module: object;
  private readonly fn: ProductExports;
  private readonly memory: GrowableMemory;
  private readonly base: number;
  private buf: ArrayBuffer;

  constructor(module: object) {
    const api = wasmApi!;
    this.module = module;
    this.base = (layoutBase(module) + 63) & ~63;
    this.memory = new api.Memory({ initial: Math.ceil((this.base + 1) / PAGE) }) as unknown as GrowableMemory;
    this.buf = this.memory.buffer;
    const instance = new api.Instance(module, { env: { memory: this.memory, zigTail: (): number => 0 } });
    this.fn = instance.exports as unknown as ProductExports;
  }

  /** matmulForward's contract: y[b*rows + i] = sum_j W[i*cols + j] x[b*cols + j], b < batch. */
  forward(W: Float32Array, rows: number, cols: number, x: Float32Array, y: Float32Array, batch: number): void {
    this.run(W, rows, cols, x, y, batch, false);
  }

  /** matmulBackward's contract: z[b*cols + j] = sum_i W[i*cols + j] d[b*rows + i], b < batch. */
  backward(W: Float32Array, rows: number, cols: number, d: Float32Array, z: Float32Array, batch: number): void {
    this.run(W, rows, cols, d, z, batch, true);
  }

  private run(
    W: Float32Array,
    rows: number,
    cols: number,
    input: Float32Array,
    output: Float32Array,
    batch: number,
    back: boolean,
  ): void {
    if (batch <= 0) return;
    const size = rows * cols;
    const wAt = this.base;
    const regionAt = wAt + align(4 * size);
    const end = regionAt + productRegionBytes(rows, cols, batch);
    if (end > this.buf.byteLength) {
      this.memory.grow(Math.ceil((end - this.buf.byteLength) / PAGE));
      this.buf = this.memory.buffer;
    }
    const buf = this.buf;
    new Float32Array(buf, wAt, size).set(W.length === size ? W : W.subarray(0, size));
    new Products(this.module, this.fn, () => buf, wAt, rows, cols, regionAt, batch).run(input, output, batch, back);
  }
}

let shared: MatmulKernel | null = null;

/** This thread's instance of the kernel on `module` (the loaded kernel module). */
export function sharedMatmulKernel(module: object): MatmulKernel {
  shared ??= new MatmulKernel(module);
  return shared;
}
