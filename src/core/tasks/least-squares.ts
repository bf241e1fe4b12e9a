/**
 * The least-squares task (docs/science.md §9.1-§9.2; the response-function paper's least-squares
 * problem, docs/papers.md §3).
 *   matrix: f(W) = 0.5 ||W a - b||^2 with samples a ~ N(0, I_in), targets b = W* a,
 *           W* ~ N(0, target_std^2) (out x in); metric ||W - W*||^2.
 *   scalar: f(w) = 0.5 (w - b)^2 (a 1x1 "layer" with input 1), the residual paper's toy; b has
 *           16-bit resolution when drawn from the seed.
 * Gradient noise: each per-sample error d = W a - b gets + grad_noise * xi.
 * Metrics per epoch: the loss over all samples and ||W - W*||^2 after the epoch (snapshots), and
 * for epochs >= 1 their means over the epoch's steps as trained (step_loss, step_weight_error);
 * the hardware cost estimates of the training so far (cost-metrics.ts).
 */
import { DivergedError } from './diverged.ts';
import { algorithmFor } from '../algorithms/index.ts';
import type { TrainableMatrix } from '../algorithms/types.ts';
import type { RunConfig } from '../config/run-config.ts';
import { type LeastSquaresTask, scheduledLr } from '../config/task-schema.ts';
import { type Rng, streamFor } from '../rng.ts';
import { costMetrics } from './cost-metrics.ts';
import { type EpochMetrics, type RunResult, RunRecorder, type TrainHooks } from './run-result.ts';

export interface LeastSquaresData {
  inSize: number;
  outSize: number;
  nSamples: number;
  /** nSamples x inSize, row-major */
  inputs: Float32Array;
  /** nSamples x outSize, row-major */
  targets: Float32Array;
  /** the optimum W*, outSize x inSize */
  optimum: Float32Array;
}

export function makeLeastSquares(task: LeastSquaresTask, seed: number): LeastSquaresData {
  const rng = streamFor(seed, 'task/least-squares');
  const n = task.n_samples;
  if (task.form === 'scalar') {
    let b = task.target ?? null;
    if (b === null) b = Math.round((rng.uniform53() * 1.6 - 0.8) * 32768) / 32768;
    return {
      inSize: 1,
      outSize: 1,
      nSamples: n,
      inputs: new Float32Array(n).fill(1),
      targets: new Float32Array(n).fill(b),
      optimum: Float32Array.of(b),
    };
  }
  const inSize = task.in_size ?? 1;
  const outSize = task.out_size ?? 1;
  const optimum = new Float32Array(outSize * inSize);
  for (let k = 0; k < optimum.length; k++) optimum[k] = (task.target_std ?? 0) * rng.normal();
  const inputs = new Float32Array(n * inSize);
  rng.fillNormal(inputs);
  const targets = new Float32Array(n * outSize);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < outSize; i++) {
      let acc = 0;
      for (let j = 0; j < inSize; j++) acc += optimum[i * inSize + j] * inputs[s * inSize + j];
      targets[s * outSize + i] = acc;
    }
  }
  return { inSize, outSize, nSamples: n, inputs, targets, optimum };
}

/** Mean over samples of 0.5 ||W a - b||^2, computed exactly (double accumulation). */
export function leastSquaresLoss(w: Float32Array, data: LeastSquaresData): number {
  const { inSize, outSize, nSamples, inputs, targets } = data;
  let total = 0;
  for (let s = 0; s < nSamples; s++) {
    for (let i = 0; i < outSize; i++) {
      let acc = -targets[s * outSize + i];
      for (let j = 0; j < inSize; j++) acc += w[i * inSize + j] * inputs[s * inSize + j];
      total += 0.5 * acc * acc;
    }
  }
  return total / nSamples;
}

/** ||W - W*||^2 (sum over entries). */
export function weightError(w: Float32Array, data: LeastSquaresData): number {
  let total = 0;
  for (let k = 0; k < w.length; k++) {
    const e = w[k] - data.optimum[k];
    total += e * e;
  }
  return total;
}

function initialWeights(config: RunConfig, size: number): Float32Array {
  const w = new Float32Array(size);
  if (config.init === undefined) throw new Error('least-squares needs the init section');
  const { kind, scale } = config.init;
  if (kind === 'zero') return w;
  const rng = streamFor(config.seed, 'init');
  for (let k = 0; k < size; k++) w[k] = kind === 'uniform' ? scale * (2 * rng.uniform53() - 1) : scale * rng.normal();
  return w;
}

/** The means over one epoch's steps (EpochMetrics step_loss, step_weight_error). */
interface StepMeans {
  step_loss: number;
  step_weight_error: number;
}

/**
 * The end-of-epoch snapshot metrics, with the epoch's step means when it trained and the cost
 * estimates of the epoch * n_samples samples so far (one layer, no backward pass).
 */
function evaluate(
  config: RunConfig,
  layer: TrainableMatrix,
  data: LeastSquaresData,
  scratch: Float32Array,
  epoch: number,
  steps?: StepMeans,
): EpochMetrics {
  layer.readWeights(scratch);
  const activity = { ...layer.costCounts(), rows: data.outSize, cols: data.inSize, backward: false };
  return {
    epoch,
    train_loss: leastSquaresLoss(scratch, data),
    weight_error: weightError(scratch, data),
    ...steps,
    ...costMetrics(config, [activity], epoch * data.nSamples),
    pulses: layer.pulseCounts(),
  };
}

/**
 * One epoch of mini-batch training on the least-squares samples, in a shuffled order. Returns
 * the means over its steps of the loss as trained and of the weight error the steps' forward
 * passes saw (`scratch` holds the weights read before each step).
 */
function leastSquaresEpoch(
  layer: TrainableMatrix,
  data: LeastSquaresData,
  config: RunConfig,
  lr: number,
  order: Int32Array,
  orderRng: Rng,
  noiseRng: Rng,
  buf: { x: Float32Array; y: Float32Array },
  scratch: Float32Array,
): StepMeans {
  const { inSize, outSize, nSamples, inputs, targets } = data;
  const bs = config.batch_size;
  const sigma = (config.task as LeastSquaresTask).grad_noise;
  let lossSum = 0;
  let errorSum = 0;
  let steps = 0;
  orderRng.shuffle(order);
  for (let start = 0; start < nSamples; start += bs) {
    const batch = Math.min(bs, nSamples - start);
    for (let b = 0; b < batch; b++)
      buf.x.set(inputs.subarray(order[start + b] * inSize, (order[start + b] + 1) * inSize), b * inSize);
    layer.readWeights(scratch);
    errorSum += weightError(scratch, data);
    steps++;
    layer.forward(buf.x, buf.y, batch);
    // d = dLoss/dy of the batch-mean loss, with optional per-sample gradient noise
    for (let b = 0; b < batch; b++) {
      const t = order[start + b] * outSize;
      for (let i = 0; i < outSize; i++) {
        const r = buf.y[b * outSize + i] - targets[t + i];
        lossSum += 0.5 * r * r;
        buf.y[b * outSize + i] = (r + (sigma > 0 ? sigma * noiseRng.normal() : 0)) / batch;
      }
    }
    layer.update(buf.x, buf.y, batch, lr);
  }
  return { step_loss: lossSum / nSamples, step_weight_error: errorSum / steps };
}

/** Trains one matrix (named layer0; its pulses are reported unprefixed) on the least-squares task. */
export function trainLeastSquares(config: RunConfig, hooks: TrainHooks): RunResult {
  if (config.task.kind !== 'least-squares') throw new Error(`trainLeastSquares: task.kind is ${config.task.kind}`);
  const recorder = new RunRecorder(config, hooks);
  const data = makeLeastSquares(config.task, config.seed);
  const layer = algorithmFor(config.algorithm).create(config, {
    rows: data.outSize,
    cols: data.inSize,
    maxBatch: config.batch_size,
    vectorsPerBatch: config.batch_size,
    name: 'layer0',
  });
  layer.setWeights(initialWeights(config, data.outSize * data.inSize));
  const scratch = new Float32Array(data.outSize * data.inSize);
  const order = Int32Array.from({ length: data.nSamples }, (_, k) => k);
  const orderRng = streamFor(config.seed, 'data-order');
  const noiseRng = streamFor(config.seed, 'gradient-noise');
  const buf = {
    x: new Float32Array(config.batch_size * data.inSize),
    y: new Float32Array(config.batch_size * data.outSize),
  };
  recorder.record(evaluate(config, layer, data, scratch, 0));
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const steps = leastSquaresEpoch(
      layer,
      data,
      config,
      scheduledLr(config.lr, config.lr_schedule, epoch),
      order,
      orderRng,
      noiseRng,
      buf,
      scratch,
    );
    const m = evaluate(config, layer, data, scratch, epoch, steps);
    if (!Number.isFinite(m.train_loss)) throw new DivergedError(epoch, `loss is ${m.train_loss}`);
    layer.onEpochEnd?.(m.train_loss);
    recorder.record(m);
  }
  layer.readWeights(scratch);
  return recorder.finish(scratch);
}
