/**
 * Digital SGD: exact floating-point weights updated by W -= lr d x^T, sample by sample like the
 * analog algorithms. The upper baseline: no device, no bounds, no IO.
 *
 * The weights live in a WebAssembly memory beside the product and update kernels
 * (kernels/kernel-matrix.ts) when the module is loaded and the matrix has at least
 * KERNEL_MIN_WEIGHTS weights; the TypeScript loops below are their reference (same bits).
 */
import type { LayerCounters } from '../../cost/activity.ts';
import { outerProductOps } from '../../cost/digital-ops.ts';
import { updateVectorElements } from '../../cost/storage.ts';
import { matmulBackward, matmulForward } from '../io.ts';
import { KernelMatrix } from '../kernels/kernel-matrix.ts';
import { kernelFor } from '../kernels/loader.ts';
import type { Algorithm, LayerSpec, TrainableMatrix } from './types.ts';

class DigitalMatrix implements TrainableMatrix {
  readonly rows: number;
  readonly cols: number;
  private readonly w: Float32Array;
  private readonly active: Int32Array;
  /** The weights' WebAssembly home with its kernels (null: the TypeScript loops). */
  private readonly kernel: KernelMatrix | null;
  private samples = 0;

  constructor(layer: LayerSpec) {
    this.rows = layer.rows;
    this.cols = layer.cols;
    const module = kernelFor(layer.kernel ?? 'auto', layer.rows * layer.cols);
    this.kernel =
      module === null
        ? null
        : new KernelMatrix(module, layer.rows, layer.cols, { maxBatch: layer.maxBatch, sgd: true });
    this.w = this.kernel === null ? new Float32Array(layer.rows * layer.cols) : this.kernel.weights;
    this.active = new Int32Array(layer.cols);
  }

  forward(x: Float32Array, y: Float32Array, batch: number): void {
    const { w, rows, cols } = this;
    if (this.kernel !== null) this.kernel.products!.forward(w, rows, cols, x, y, batch);
    else matmulForward(w, rows, cols, x, y, batch);
  }

  backward(d: Float32Array, z: Float32Array, batch: number): void {
    const { w, rows, cols } = this;
    if (this.kernel !== null) this.kernel.products!.backward(w, rows, cols, d, z, batch);
    else matmulBackward(w, rows, cols, d, z, batch);
  }

  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    const { rows, cols, w, active } = this;
    this.samples += batch;
    if (this.kernel !== null) this.kernel.sgdUpdate(x, d, batch, lr);
    else sgdUpdateReference(w, rows, cols, x, d, batch, lr, active);
  }

  readWeights(out: Float32Array): void {
    out.set(this.w);
  }

  setWeights(values: Float32Array): void {
    this.w.set(values);
  }

  pulseCounts(): Record<string, number> {
    return {};
  }

  transferCounts(): Record<string, number> {
    return {};
  }

  /** Digital: every update is a dense outer product on the weights, which are stored digitally. */
  costCounts(): LayerCounters {
    const { rows, cols, samples } = this;
    return {
      samples,
      arraysRead: 0,
      slots: 0,
      pulses: 0,
      reads: 0,
      flops: samples * outerProductOps(rows, cols),
      storedElements: this.w.length + updateVectorElements(rows, cols),
    };
  }
}

/**
 * W -= lr d[b] x[b]^T sample after sample (float64 products, float32 weights), touching only the
 * columns with x != 0 and the rows with lr d != 0: the reference of the kernel's sgdUpdate.
 * `active`: scratch of cols entries.
 */
export function sgdUpdateReference(
  w: Float32Array,
  rows: number,
  cols: number,
  x: Float32Array,
  d: Float32Array,
  batch: number,
  lr: number,
  active: Int32Array,
): void {
  for (let b = 0; b < batch; b++) {
    const xo = b * cols;
    // inputs are often sparse (MNIST pixels are ~80 % zeros): touch only non-zero columns
    let n = 0;
    for (let j = 0; j < cols; j++) if (x[xo + j] !== 0) active[n++] = j;
    for (let i = 0; i < rows; i++) {
      const g = lr * d[b * rows + i];
      if (g === 0) continue;
      const wo = i * cols;
      for (let t = 0; t < n; t++) {
        const j = active[t];
        w[wo + j] -= g * x[xo + j];
      }
    }
  }
}

export const sgd: Algorithm = {
  name: 'sgd',
  create: (_config, layer) => new DigitalMatrix(layer),
  transferClocks: () => [],
};
