/**
 * The interface every training algorithm implements. An algorithm owns the arrays of one
 * weight matrix (analog tiles, digital buffers) and decides how a gradient becomes a change of
 * the effective weights. The model around it only calls forward, backward and update.
 */
import type { LayerCounters } from '../../cost/activity.ts';
import type { RunConfig } from '../config/run-config.ts';
import type { KernelChoice } from '../kernels/loader.ts';

export interface LayerSpec {
  /** Outputs (rows of W). */
  rows: number;
  /** Inputs (columns of W). */
  cols: number;
  /** Largest batch of vectors forward and backward will see (buffer capacity; evaluation batches included). */
  maxBatch: number;
  /**
   * Vector updates per training mini-batch: batch_size, times the patches of a conv layer
   * (aihwkit m_batch). The clocks of the transfer algorithms count in these, never in maxBatch.
   */
  vectorsPerBatch: number;
  /** Unique name within the run (keys the layer's random streams). */
  name: string;
  /** Which implementation its tiles and matrices take (default 'auto'); never changes the results. */
  kernel?: KernelChoice;
}

/**
 * One transfer clock of an algorithm in one layer (Algorithm.transferClocks): what the schedule
 * diagnostics count. The clocks themselves are in transfer-schedule.ts.
 */
export interface TransferClock {
  /** the receiving array, named as in pulseCounts and transferCounts */
  array: string;
  /** vector updates between two transfers */
  period: number;
  /** columns one transfer moves: 1 (column transfers), all of them (mp's whole-matrix writes) */
  columns: number;
}

/** The layer facts a clock depends on. */
export type ClockLayer = Pick<LayerSpec, 'cols' | 'vectorsPerBatch'>;

export interface TrainableMatrix {
  readonly rows: number;
  readonly cols: number;
  /** y[b] = W_eff x[b] for b < batch (through the tiles' IO model where analog). */
  forward(x: Float32Array, y: Float32Array, batch: number): void;
  /** z[b] = W_eff^T d[b] for b < batch. */
  backward(d: Float32Array, z: Float32Array, batch: number): void;
  /** One optimisation step for the loss gradient sum_b d[b] x[b]^T at learning rate lr. */
  update(x: Float32Array, d: Float32Array, batch: number, lr: number): void;
  /** Copies the effective weights (row-major) into `out`, exactly, without read noise. */
  readWeights(out: Float32Array): void;
  /** Programs the initial effective weights. */
  setWeights(values: Float32Array): void;
  /** Pulses applied so far, per analog array (empty for digital algorithms). */
  pulseCounts(): Record<string, number>;
  /**
   * Transfers so far, per receiving array: column transfers (one column read and written) of the
   * transfer algorithms, whole-matrix writes of mp; empty where nothing is transferred.
   */
  transferCounts(): Record<string, number>;
  /**
   * The counts the cost model prices (src/cost, docs/cost.md): vector updates, pulse slots,
   * pulses, column reads and digital operations so far, the arrays a forward pass reads and the
   * digital elements the update keeps. Counting never changes a number of the training.
   */
  costCounts(): LayerCounters;
  /**
   * Called once after every epoch with that epoch's mean training loss (the same value for
   * every layer of a model), for algorithms that switch phase on a loss plateau.
   */
  onEpochEnd?(trainLoss: number): void;
}

export interface Algorithm {
  readonly name: string;
  create(config: RunConfig, layer: LayerSpec): TrainableMatrix;
  /** The transfer clocks `create` gives a layer (none for sgd and analog-sgd). */
  transferClocks(config: RunConfig, layer: ClockLayer): TransferClock[];
}
