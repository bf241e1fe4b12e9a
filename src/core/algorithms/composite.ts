/**
 * Base of the algorithms whose effective weights combine several arrays (fast and slow analog
 * tiles, references, choppers): forward and backward run through the IO model on the reduced
 * matrix, which is recomputed lazily after updates (once per mini-batch, not per sample). Where
 * the WebAssembly module serves the matrix, the reduction may run there too (`kernel`, with
 * `staging` arrays beside the effective weights for the subclass to fill).
 */
import type { LayerCounters } from '../../cost/activity.ts';
import type { RunConfig } from '../config/run-config.ts';
import { IoPath } from '../io.ts';
import { KernelMatrix } from '../kernels/kernel-matrix.ts';
import { kernelFor } from '../kernels/loader.ts';
import { type Rng, streamFor } from '../rng.ts';
import type { LayerSpec, TrainableMatrix } from './types.ts';

export abstract class CompositeMatrix implements TrainableMatrix {
  readonly rows: number;
  readonly cols: number;
  private readonly visible: Float32Array;
  private stale = true;
  private readonly fwd: IoPath;
  private readonly bwd: IoPath;
  private readonly ioRng: Rng;
  /** The effective weights' WebAssembly home (null: TypeScript); `reduce` writes its `weights`. */
  protected readonly kernel: KernelMatrix | null;

  /** `staging`: arrays of the matrix's shape the subclass's kernel reduction reads (KernelMatrix). */
  constructor(config: RunConfig, layer: LayerSpec, staging = 0) {
    if (config.io === undefined) throw new Error(`algorithm ${config.algorithm} needs an io section`);
    this.rows = layer.rows;
    this.cols = layer.cols;
    // the effective weights in a WebAssembly memory with the product kernel beside them (same
    // bits as the TypeScript products, which small matrices and engines without the module use)
    const module = kernelFor(layer.kernel ?? 'auto', layer.rows * layer.cols);
    const kernel =
      module === null ? null : new KernelMatrix(module, layer.rows, layer.cols, { maxBatch: layer.maxBatch, staging });
    this.kernel = kernel;
    this.visible = kernel === null ? new Float32Array(layer.rows * layer.cols) : kernel.weights;
    const products = kernel?.products ?? undefined;
    this.fwd = new IoPath(config.io, 'forward', layer.maxBatch, layer.rows, layer.cols, products);
    this.bwd = new IoPath(config.io, 'backward', layer.maxBatch, layer.rows, layer.cols, products);
    this.ioRng = streamFor(config.seed, `${layer.name}/composite-io-noise`);
  }

  /** Writes the effective weights (row-major) into `out` (the kernel's weights where there is one). */
  protected abstract reduce(out: Float32Array): void;

  abstract update(x: Float32Array, d: Float32Array, batch: number, lr: number): void;
  abstract setWeights(values: Float32Array): void;
  abstract pulseCounts(): Record<string, number>;
  abstract transferCounts(): Record<string, number>;
  abstract costCounts(): LayerCounters;

  /** Marks the effective weights out of date (call after any change of an array). */
  protected invalidate(): void {
    this.stale = true;
  }

  private effectiveWeights(): Float32Array {
    if (this.stale) {
      this.reduce(this.visible);
      this.stale = false;
    }
    return this.visible;
  }

  forward(x: Float32Array, y: Float32Array, batch: number): void {
    this.fwd.apply(this.effectiveWeights(), x, y, batch, this.ioRng);
  }

  backward(d: Float32Array, z: Float32Array, batch: number): void {
    this.bwd.apply(this.effectiveWeights(), d, z, batch, this.ioRng);
  }

  readWeights(out: Float32Array): void {
    out.set(this.effectiveWeights());
  }
}
