/**
 * RunConfig -> RunResult: the only entry point the rest of the system uses.
 * Pure and deterministic: every random draw comes from the run seed's named streams; the
 * optional clock only fills wall times and never influences a number of the result.
 */
import { algorithmFor } from './algorithms/index.ts';
import type { TrainableMatrix } from './algorithms/types.ts';
import type { RunConfig } from './config/run-config.ts';
import { digestFloat32 } from './hash.ts';
import { type Rng, streamFor } from './rng.ts';
import { type LeastSquaresData, leastSquaresLoss, makeLeastSquares, weightError } from './tasks/least-squares.ts';
import { NUMERICS_VERSION } from './version.ts';

export interface EpochMetrics {
  /** 0 = before training */
  epoch: number;
  train_loss: number;
  /** ||W - W*||^2 (least squares) */
  weight_error?: number;
  /** pulses applied so far, per analog array */
  pulses: Record<string, number>;
  wall_ms?: number;
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

function initialWeights(config: RunConfig, size: number): Float32Array {
  const w = new Float32Array(size);
  const { kind, scale } = config.init;
  if (kind === 'zero') return w;
  const rng = streamFor(config.seed, 'init');
  for (let k = 0; k < size; k++) w[k] = kind === 'uniform' ? scale * (2 * rng.uniform53() - 1) : scale * rng.normal();
  return w;
}

function evaluate(layer: TrainableMatrix, data: LeastSquaresData, scratch: Float32Array, epoch: number): EpochMetrics {
  layer.readWeights(scratch);
  return {
    epoch,
    train_loss: leastSquaresLoss(scratch, data),
    weight_error: weightError(scratch, data),
    pulses: layer.pulseCounts(),
  };
}

/** One epoch of mini-batch training on the least-squares samples, in a shuffled order. */
function leastSquaresEpoch(
  layer: TrainableMatrix,
  data: LeastSquaresData,
  config: RunConfig,
  order: Int32Array,
  orderRng: Rng,
  noiseRng: Rng,
  buf: { x: Float32Array; y: Float32Array },
): void {
  const { inSize, outSize, nSamples, inputs, targets } = data;
  const bs = config.batch_size;
  const sigma = config.task.grad_noise;
  orderRng.shuffle(order);
  for (let start = 0; start < nSamples; start += bs) {
    const batch = Math.min(bs, nSamples - start);
    for (let b = 0; b < batch; b++) buf.x.set(inputs.subarray(order[start + b] * inSize, (order[start + b] + 1) * inSize), b * inSize);
    layer.forward(buf.x, buf.y, batch);
    // d = dLoss/dy of the batch-mean loss, with optional per-sample gradient noise
    for (let b = 0; b < batch; b++) {
      const t = order[start + b] * outSize;
      for (let i = 0; i < outSize; i++) {
        const e = buf.y[b * outSize + i] - targets[t + i] + (sigma > 0 ? sigma * noiseRng.normal() : 0);
        buf.y[b * outSize + i] = e / batch;
      }
    }
    layer.update(buf.x, buf.y, batch, config.lr);
  }
}

export function train(config: RunConfig, hooks: TrainHooks = {}): RunResult {
  const t0 = hooks.now?.();
  const data = makeLeastSquares(config.task, config.seed);
  const layer = algorithmFor(config.algorithm).create(config, {
    rows: data.outSize,
    cols: data.inSize,
    maxBatch: config.batch_size,
    name: 'layer0',
  });
  layer.setWeights(initialWeights(config, data.outSize * data.inSize));
  const scratch = new Float32Array(data.outSize * data.inSize);
  const order = Int32Array.from({ length: data.nSamples }, (_, k) => k);
  const orderRng = streamFor(config.seed, 'data-order');
  const noiseRng = streamFor(config.seed, 'gradient-noise');
  const buf = { x: new Float32Array(config.batch_size * data.inSize), y: new Float32Array(config.batch_size * data.outSize) };
  const history: EpochMetrics[] = [];
  const record = (m: EpochMetrics): void => {
    if (t0 !== undefined && hooks.now) m.wall_ms = hooks.now() - t0;
    history.push(m);
    hooks.onEpoch?.(m);
  };
  record(evaluate(layer, data, scratch, 0));
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    leastSquaresEpoch(layer, data, config, order, orderRng, noiseRng, buf);
    const m = evaluate(layer, data, scratch, epoch);
    if (!Number.isFinite(m.train_loss)) throw new Error(`training diverged at epoch ${epoch}: loss is ${m.train_loss}`);
    record(m);
  }
  layer.readWeights(scratch);
  const result: RunResult = {
    numerics_version: NUMERICS_VERSION,
    config,
    history,
    final: history[history.length - 1],
    weights_digest: digestFloat32(scratch),
  };
  if (t0 !== undefined && hooks.now) result.wall_ms = hooks.now() - t0;
  return result;
}
