/**
 * The WebAssembly matrix-product kernels (assembly/matmul.ts, in the same module as the pulse
 * kernel): forward y = W x and backward z = W^T d over a mini-batch, bit-identical to
 * matmulForward / matmulBackward of src/core/io.ts (the TypeScript reference;
 * test/matmul-kernel.test.ts compares them bit for bit). Only the exact product runs here; the
 * IO model around it (noise, quantisation, bounds) stays in IoPath.
 *
 * The kernel keeps no state between calls, so one instance serves every tile of a thread
 * (`sharedMatmulKernel`): one more WebAssembly memory per thread, not per tile. Its memory holds,
 * per call, the weights as float32 (copied in: a tile's weights may live in its pulse kernel's
 * memory, which another instance cannot read) and as float64 (promoted in the kernel), and a
 * chunk of up to MATMUL_CHUNK samples: their float32 inputs, the same interleaved as float64
 * pairs, and their float32 outputs (plus one row for the unused lane of an odd last sample). It
 * grows to the largest call seen. Batches larger than a chunk run chunk by chunk; each output
 * depends only on its own sample, so chunking changes no bit.
 */
import { wasmApi } from './loader.ts';
import { layoutBase } from './pulse-kernel.ts';

interface MatmulExports {
  promote(src: number, dst: number, n: number): void;
  interleave(x: number, n: number, count: number, dst: number): void;
  matmul(w: number, inner: number, outer: number, n: number, m: number, xp: number, count: number, y: number): void;
}

interface GrowableMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** Samples per kernel call: a multiple of 6 (the kernel's 3 pairs), bounded for memory. */
export const MATMUL_CHUNK = 120;
const PAGE = 65536;

export class MatmulKernel {
  private readonly fn: MatmulExports;
  private readonly memory: GrowableMemory;
  private readonly base: number;
  private buf: ArrayBuffer;

  constructor(module: object) {
    const api = wasmApi!;
    this.base = (layoutBase(module) + 63) & ~63;
    this.memory = new api.Memory({ initial: Math.ceil((this.base + 1) / PAGE) }) as unknown as GrowableMemory;
    this.buf = this.memory.buffer;
    const instance = new api.Instance(module, { env: { memory: this.memory, zigTail: (): number => 0 } });
    this.fn = instance.exports as unknown as MatmulExports;
  }

  /** matmulForward's contract: y[b*rows + i] = sum_j W[i*cols + j] x[b*cols + j], b < batch. */
  forward(W: Float32Array, rows: number, cols: number, x: Float32Array, y: Float32Array, batch: number): void {
    this.run(W, rows, cols, x, y, batch, false);
  }

  /** matmulBackward's contract: z[b*cols + j] = sum_i W[i*cols + j] d[b*rows + i], b < batch. */
  backward(W: Float32Array, rows: number, cols: number, d: Float32Array, z: Float32Array, batch: number): void {
    this.run(W, rows, cols, d, z, batch, true);
  }

  private run(W: Float32Array, rows: number, cols: number, input: Float32Array, output: Float32Array, batch: number, back: boolean): void {
    if (batch <= 0) return;
    const size = rows * cols;
    const n = back ? rows : cols;
    const m = back ? cols : rows;
    const chunk = Math.min(MATMUL_CHUNK, batch);
    // layout of this call (byte offsets, 64-aligned)
    const w32At = this.base;
    const w64At = w32At + align(4 * size);
    const inAt = w64At + align(8 * size);
    const pairsAt = inAt + align(4 * chunk * n);
    const outAt = pairsAt + align(16 * ((chunk + 1) >> 1) * n);
    const end = outAt + align(4 * (chunk + 1) * m);
    if (end > this.buf.byteLength) {
      this.memory.grow(Math.ceil((end - this.buf.byteLength) / PAGE));
      this.buf = this.memory.buffer;
    }
    const buf = this.buf;
    const fn = this.fn;
    new Float32Array(buf, w32At, size).set(W.length === size ? W : W.subarray(0, size));
    fn.promote(w32At, w64At, size);
    const inner = back ? 8 * cols : 8;
    const outer = back ? 8 : 8 * cols;
    const stage = new Float32Array(buf, inAt, chunk * n);
    const result = new Float32Array(buf, outAt, chunk * m);
    for (let b = 0; b < batch; b += chunk) {
      const count = Math.min(chunk, batch - b);
      stage.set(input.subarray(b * n, (b + count) * n));
      fn.interleave(inAt, n, count, pairsAt);
      fn.matmul(w64At, inner, outer, n, m, pairsAt, count, outAt);
      output.set(count === chunk ? result : result.subarray(0, count * m), b * m);
    }
  }
}

const align = (bytes: number): number => (bytes + 64 + 63) & ~63;

let shared: MatmulKernel | null = null;

/** This thread's instance of the kernel on `module` (the loaded kernel module). */
export function sharedMatmulKernel(module: object): MatmulKernel {
  shared ??= new MatmulKernel(module);
  return shared;
}
