/**
 * An analog crossbar tile: an out x in conductance matrix W (row-major, rows = outputs = the
 * error side d, columns = inputs = the activation side x) with
 *   - forward y = W x and backward z = W^T d over a mini-batch, through the IO model;
 *   - the stochastic-pulse rank-1 update, applied sample by sample as aihwkit's CPU simulator
 *     does (docs/science.md §6);
 *   - column read and column program for the transfer algorithms;
 *   - counters of pulses, pulse slots, rank-1 updates and column reads (the cost model's
 *     inputs, src/cost; they never change a number of the training).
 * Every random draw comes from the tile's own named streams of the run seed. The pulsed update
 * runs on the WebAssembly kernel (src/core/kernels/, assembly/pulse.ts and assembly/pulse/) where it applies, else on
 * its TypeScript reference (pulse-trains.ts and the devices' pulseRow), with the same results.
 */
import { createDevice, type PulsedDevice } from './devices/index.ts';
import type { DeviceParams } from './devices/params.ts';
import { IO_DEFAULTS, type IoConfig, IoPath, type TransferIoConfig } from './io.ts';
import { kernelFor, type KernelChoice } from './kernels/loader.ts';
import { sharedMatmulKernel } from './kernels/matmul-kernel.ts';
import { kernelSupports, PulseKernel } from './kernels/pulse-kernel.ts';
import { drawTrains, drawTrainsDense, PulseSchedule, type UpdateConfig } from './pulse-trains.ts';
import { type Rng, streamFor } from './rng.ts';

export interface TileSpec {
  /** Number of outputs (rows of W). */
  rows: number;
  /** Number of inputs (columns of W). */
  cols: number;
  device: DeviceParams;
  io: IoConfig;
  /** IO of column reads (default: ideal) */
  transferIo?: TransferIoConfig;
  update: UpdateConfig;
  /** Largest mini-batch forward/backward will see (scratch sizing). */
  maxBatch: number;
  seed: number;
  /** Unique name within the run (e.g. "layer0/A"): keys the tile's random streams. */
  name: string;
  /**
   * Which implementation runs the pulsed update (default 'auto'): the WebAssembly kernel when the
   * device has one, the engine runs it and the tile has at least KERNEL_MIN_WEIGHTS weights, else
   * TypeScript; 'typescript' always the reference; 'wasm' the kernel or an error. The exact
   * forward and backward products follow the same choice on any device. Both ways give
   * bit-identical results (weights, pulse counts, random streams) for the same seed.
   */
  kernel?: KernelChoice;
}

/** Transfer reads: a one-hot input, so noise and bound management are off (aihwkit transfer_forward). */
function readIo(io: TransferIoConfig): IoConfig {
  return { ...IO_DEFAULTS, ...io, noise_management: 'none', bound_management: 'none' };
}

export class AnalogTile {
  readonly rows: number;
  readonly cols: number;
  readonly name: string;
  /** The visible conductance-weights, row-major rows x cols. */
  readonly weights: Float32Array;
  readonly device: PulsedDevice;
  /** The implementation the pulsed update runs on. */
  readonly kernel: 'wasm' | 'typescript';
  /** The implementation the exact products of forward and backward run on. */
  readonly matmul: 'wasm' | 'typescript';
  /** Total pulses applied to this tile since creation. */
  pulses = 0;
  /**
   * Pulse slots spent on this tile since creation: the train length BL of every stochastic update,
   * plus what the deterministic writers (pulse-writes.ts, mixed precision) add.
   */
  slots = 0;
  /** Stochastic rank-1 updates since creation (updateVector calls, column updates included). */
  updates = 0;
  /** Of those, pulsed column writes (updateColumn: a one-hot x). */
  columnUpdates = 0;
  /** Column reads since creation (readColumn). */
  reads = 0;
  private readonly update: UpdateConfig;
  private readonly fwd: IoPath;
  private readonly bwd: IoPath;
  private readonly read: IoPath;
  private readonly pulseRng: Rng;
  private readonly ioRng: Rng;
  private readonly schedule = new PulseSchedule();
  private readonly wasm: PulseKernel | null;
  private readonly xBits: Int32Array;
  private readonly xNeg: Int32Array;
  private readonly dIdx: Int32Array;
  private readonly dBits: Int32Array;
  private readonly dNeg: Int32Array;
  private readonly oneHot: Float32Array;
  private readonly rangeCounts = { pulses: 0, slots: 0 };

  constructor(spec: TileSpec) {
    const { rows, cols } = spec;
    this.rows = rows;
    this.cols = cols;
    this.name = spec.name;
    this.update = spec.update;
    this.device = createDevice(
      spec.device,
      rows * cols,
      streamFor(spec.seed, `${spec.name}/device-variation`),
      streamFor(spec.seed, `${spec.name}/device-noise`),
    );
    this.device.closedForm = spec.update.closed_form_pulses === true;
    this.pulseRng = streamFor(spec.seed, `${spec.name}/pulse-trains`);
    this.ioRng = streamFor(spec.seed, `${spec.name}/io-noise`);
    const choice = spec.kernel ?? 'auto';
    const module = kernelFor(choice, rows * cols);
    const usable = module !== null && kernelSupports(this.device);
    if (choice === 'wasm' && !usable) {
      throw new Error(
        module === null
          ? 'tile: the WebAssembly kernel is not available'
          : `tile: no kernel for this ${this.device.kind} device`,
      );
    }
    this.wasm = usable
      ? new PulseKernel(module, rows, cols, this.device, this.pulseRng, spec.update, spec.maxBatch)
      : null;
    this.kernel = this.wasm === null ? 'typescript' : 'wasm';
    this.weights = this.wasm === null ? new Float32Array(rows * cols) : this.wasm.weights;
    // products in place on the kernel's memory, else on the thread's shared kernel (a copy of W)
    const products = module === null ? undefined : (this.wasm?.products ?? sharedMatmulKernel(module));
    this.matmul = products === undefined ? 'typescript' : 'wasm';
    this.fwd = new IoPath(spec.io, 'forward', spec.maxBatch, rows, cols, products);
    this.bwd = new IoPath(spec.io, 'backward', spec.maxBatch, rows, cols, products);
    // column reads too: a one-hot input takes the sparse product (rows reads, not rows x cols)
    this.read = new IoPath(readIo(spec.transferIo ?? IO_DEFAULTS), 'forward', 1, rows, cols, products);
    this.xBits = new Int32Array(cols);
    this.xNeg = new Int32Array(cols);
    this.dIdx = new Int32Array(rows);
    this.dBits = new Int32Array(rows);
    this.dNeg = new Int32Array(rows);
    this.oneHot = new Float32Array(cols);
    this.device.program(this.weights, this.weights); // clip the zero start into every range
  }

  /** y[b] = W x[b] through the forward IO model, b < batch. */
  forward(x: Float32Array, y: Float32Array, batch: number): void {
    this.fwd.apply(this.weights, x, y, batch, this.ioRng);
  }

  /** z[b] = W^T d[b] through the backward IO model, b < batch. */
  backward(d: Float32Array, z: Float32Array, batch: number): void {
    this.bwd.apply(this.weights, d, z, batch, this.ioRng);
  }

  /** Pulsed update for dW = -lr sum_b d[b] x[b]^T, applied one sample after another. */
  updateBatch(x: Float32Array, d: Float32Array, batch: number, lr: number): void {
    this.updateRange(x, d, 0, batch, lr);
  }

  /**
   * updateVector for samples b in [from, to) of x (rows of cols) and d (rows of rows), one after
   * another: on the kernel in one call per chunk of samples (the same bits as one call each).
   */
  updateRange(x: Float32Array, d: Float32Array, from: number, to: number, lr: number): void {
    if (this.wasm === null) {
      for (let b = from; b < to; b++) this.updateVector(x, b * this.cols, d, b * this.rows, lr);
      return;
    }
    if (to <= from) return;
    const counts = this.rangeCounts;
    counts.pulses = 0;
    counts.slots = 0;
    this.wasm.updateRange(x, d, from, to, lr, counts);
    this.updates += to - from;
    this.slots += counts.slots;
    this.pulses += counts.pulses;
  }

  /** One stochastic-pulse rank-1 update for dW = -lr d x^T (x at xOff, d at dOff). */
  updateVector(x: Float32Array, xOff: number, d: Float32Array, dOff: number, lr: number): void {
    const { rows, cols } = this;
    this.updates++;
    let xmax = 0;
    for (let j = 0; j < cols; j++) {
      const a = Math.abs(x[xOff + j]);
      if (a > xmax) xmax = a;
    }
    let dmax = 0;
    for (let i = 0; i < rows; i++) {
      const a = Math.abs(d[dOff + i]);
      if (a > dmax) dmax = a;
    }
    const s = this.schedule;
    s.plan(lr, this.device.granularity, xmax, dmax, this.update);
    if (s.bl === 0) return;
    this.slots += s.bl;
    const flip = lr < 0 ? -1 : 0;
    if (this.wasm !== null) {
      this.pulses += this.wasm.update(x, xOff, d, dOff, s.a, s.b, s.bl, flip);
      return;
    }
    // the TypeScript reference of the kernel: x trains (dense), d trains (active rows), pulses
    const rng = this.pulseRng;
    const nx = drawTrainsDense(x, xOff, cols, s.b, s.bl, rng, this.xBits, this.xNeg);
    const nd = drawTrains(d, dOff, rows, s.a, s.bl, rng, this.dIdx, this.dBits, this.dNeg);
    if (nx === 0 || nd === 0) return;
    const { device, weights, dIdx, dBits, dNeg, xBits, xNeg } = this;
    let pulses = 0;
    for (let t = 0; t < nd; t++) {
      pulses += device.pulseRow(weights, dIdx[t] * cols, dBits[t], dNeg[t] ^ flip, xBits, xNeg, cols);
    }
    this.pulses += pulses;
  }

  /** Reads column k (W e_k) through the transfer IO (noise and bound management off). */
  readColumn(k: number, out: Float32Array): void {
    this.reads++;
    this.oneHot[k] = 1;
    this.read.apply(this.weights, this.oneHot, out, 1, this.ioRng);
    this.oneHot[k] = 0;
  }

  /** Pulsed update of column k only: dW[:, k] = -lr * d (a one-hot x). */
  updateColumn(k: number, d: Float32Array, lr: number): void {
    this.columnUpdates++;
    this.oneHot[k] = 1;
    this.updateVector(this.oneHot, 0, d, 0, lr);
    this.oneHot[k] = 0;
  }

  /** Programs all weights (clipped to each device's range; quantised for ideal devices). */
  setWeights(values: ArrayLike<number>): void {
    this.device.program(this.weights, values);
  }
}
