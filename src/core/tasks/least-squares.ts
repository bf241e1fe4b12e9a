/**
 * The least-squares task (science.md §4, papers.md §3.3 item 5).
 *   matrix: f(W) = 0.5 ||W a - b||^2 with samples a ~ N(0, I_in), targets b = W* a,
 *           W* ~ N(0, target_std^2) (out x in); metric ||W - W*||^2.
 *   scalar: f(w) = 0.5 (w - b)^2 (a 1x1 "layer" with input 1), the residual paper's toy; b has
 *           16-bit resolution when drawn from the seed.
 * Gradient noise: each per-sample error d = W a - b gets + grad_noise * xi.
 */
import type { LeastSquaresTask } from '../config/task-schema.ts';
import { streamFor } from '../rng.ts';

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
