/**
 * What a run reports (RunResult, per-epoch EpochMetrics) and the hooks its caller may pass.
 * Shared by every task; re-exported by train.ts, the core's entry point.
 */
import type { RunConfig } from '../config/run-config.ts';
import { digestFloat32 } from '../hash.ts';
import { NUMERICS_VERSION } from '../version.ts';

export interface EpochMetrics {
  /** 0 = before training */
  epoch: number;
  /**
   * least squares: the loss over all samples after the epoch; classification: the mean
   * mini-batch loss while the epoch trained (epoch 0: the initial model on the training set)
   */
  train_loss: number;
  /** ||W - W*||^2 after the epoch (least squares) */
  weight_error?: number;
  /**
   * least squares, epochs >= 1: the mean over the epoch's samples of the per-sample loss
   * 0.5 ||y - b||^2 of the forward pass each mini-batch step trained on (the weights before
   * that step's update, y as the forward pass returned it, without gradient noise)
   */
  step_loss?: number;
  /**
   * least squares, epochs >= 1: the mean over the epoch's mini-batch steps of ||W - W*||^2 of
   * the effective weights each step's forward pass used (before its update). Unlike the
   * end-of-epoch weight_error it has no phase relative to a transfer or chopper period.
   */
  step_weight_error?: number;
  /** fraction of training samples classified right (same convention as train_loss) */
  train_accuracy?: number;
  /** mean negative log-likelihood on the test set (classification) */
  test_loss?: number;
  /** fraction of the test set classified right (classification) */
  test_accuracy?: number;
  /**
   * estimated update time per vector update of the slowest layer, ns, from the counts of the
   * training so far and the run's `cost` constants (src/cost, docs/cost.md); absent at epoch 0
   */
  update_ns?: number;
  /** estimated energy per training image (least squares: per sample) so far, nJ (docs/cost.md); absent at epoch 0 */
  energy_nj?: number;
  /** digital storage of the updates (vectors, buffers, accumulators, digital weights), bytes (docs/cost.md) */
  storage_bytes?: number;
  /** pulses applied so far, per analog array (classification: prefixed by the layer name, `fc0/W`) */
  pulses: Record<string, number>;
  wall_ms?: number;
}

/**
 * The per-epoch numbers of EpochMetrics besides `epoch`, `pulses` and `wall_ms`: the one list
 * the store's columns, the wire and the reports derive theirs from (in this order).
 */
export const EPOCH_METRICS = [
  'train_loss',
  'weight_error',
  'step_loss',
  'step_weight_error',
  'train_accuracy',
  'test_loss',
  'test_accuracy',
  'update_ns',
  'energy_nj',
  'storage_bytes',
] as const satisfies readonly (keyof EpochMetrics)[];
export type EpochMetric = (typeof EPOCH_METRICS)[number];

/** Every metric a table, plot or paper reference can name: the epoch metrics and the run's wall time. */
export const METRICS = [...EPOCH_METRICS, 'wall_ms'] as const;
export type Metric = (typeof METRICS)[number];

/**
 * Accuracies: best at their maximum, stored as fractions, printed (and referenced) in percent.
 * Every other metric (losses, errors, the cost estimates update_ns, energy_nj, storage_bytes) is
 * best at its minimum.
 */
export function isAccuracyMetric(metric: Metric): boolean {
  return metric === 'train_accuracy' || metric === 'test_accuracy';
}

export interface RunResult {
  numerics_version: number;
  config: RunConfig;
  history: EpochMetrics[];
  final: EpochMetrics;
  /** digest of the final effective weights (bit-identity check) */
  weights_digest: string;
  wall_ms?: number;
}

export interface TrainHooks {
  /** A monotonic clock in milliseconds (wall times are omitted without one). */
  now?: () => number;
  onEpoch?: (metrics: EpochMetrics) => void;
}

/** Collects the history of a run, stamping wall times when the hooks give a clock. */
export class RunRecorder {
  readonly history: EpochMetrics[] = [];
  private readonly config: RunConfig;
  private readonly hooks: TrainHooks;
  private readonly t0: number | undefined;

  constructor(config: RunConfig, hooks: TrainHooks) {
    this.config = config;
    this.hooks = hooks;
    this.t0 = hooks.now?.();
  }

  record(m: EpochMetrics): void {
    if (this.t0 !== undefined && this.hooks.now) m.wall_ms = this.hooks.now() - this.t0;
    this.history.push(m);
    this.hooks.onEpoch?.(m);
  }

  /** The RunResult with a digest of the final weights. */
  finish(weights: Float32Array): RunResult {
    const result: RunResult = {
      numerics_version: NUMERICS_VERSION,
      config: this.config,
      history: this.history,
      final: this.history[this.history.length - 1],
      weights_digest: digestFloat32(weights),
    };
    if (this.t0 !== undefined && this.hooks.now) result.wall_ms = this.hooks.now() - this.t0;
    return result;
  }
}
