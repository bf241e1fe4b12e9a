/**
 * A feed-forward network: a chain of modules ending in class scores, trained through a digital
 * log-softmax + negative log-likelihood loss (mean over the mini-batch, PyTorch's NLLLoss).
 */
import type { LayerActivity } from '../../cost/activity.ts';
import type { Module, WeightModule } from './layers.ts';

export class Network {
  readonly modules: readonly Module[];
  /** The modules with weights, input to output. */
  readonly layers: readonly WeightModule[];
  readonly inSize: number;
  readonly classes: number;
  /** Largest mini-batch forward/backward accept. */
  readonly maxBatch: number;

  constructor(modules: readonly Module[], maxBatch: number) {
    if (modules.length === 0) throw new Error('a network needs at least one module');
    for (let k = 1; k < modules.length; k++) {
      if (modules[k].inSize !== modules[k - 1].outSize)
        throw new Error(
          `module ${k} takes ${modules[k].inSize} features, module ${k - 1} gives ${modules[k - 1].outSize}`,
        );
    }
    this.modules = modules;
    this.layers = modules.filter((m): m is WeightModule => 'matrix' in m);
    this.inSize = modules[0].inSize;
    this.classes = modules[modules.length - 1].outSize;
    this.maxBatch = maxBatch;
  }

  /** Class scores (logits) of a batch: batch x classes values of the returned buffer. */
  forward(x: Float32Array, batch: number): Float32Array {
    let h = x;
    for (const m of this.modules) {
      m.forward(h, batch);
      h = m.out;
    }
    return h;
  }

  /** Back-propagates dLoss/dlogits through every module (weights unchanged). */
  backward(gradLogits: Float32Array, batch: number): void {
    let g = gradLogits;
    for (let k = this.modules.length - 1; k >= 0; k--) {
      const m = this.modules[k];
      m.backward(g, batch);
      if (k > 0) {
        if (m.gradIn === null) throw new Error(`module ${k} computes no input gradient`);
        g = m.gradIn;
      }
    }
  }

  /** Every weight layer applies the gradients of the last backward. */
  update(lr: number, batch: number): void {
    for (const l of this.layers) l.update(lr, batch);
  }

  /** Pulses so far of every analog array, keyed `layer/array` (digital layers add none). */
  pulseCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.layers) for (const [k, v] of Object.entries(l.matrix.pulseCounts())) out[`${l.name}/${k}`] = v;
    return out;
  }

  /** Transfers so far of every receiving array, keyed `layer/array`. */
  transferCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.layers)
      for (const [k, v] of Object.entries(l.matrix.transferCounts())) out[`${l.name}/${k}`] = v;
    return out;
  }

  /** Every weight layer's counts for the cost model (src/cost), input to output. */
  costActivity(): LayerActivity[] {
    return this.layers.map((l) => ({
      ...l.matrix.costCounts(),
      rows: l.matrix.rows,
      cols: l.matrix.cols,
      backward: l.gradIn !== null,
    }));
  }

  /** Number of weights and biases. */
  parameterCount(): number {
    let n = 0;
    for (const l of this.layers) n += l.matrix.rows * l.matrix.cols + l.bias.length;
    return n;
  }

  /** All effective weights then biases, layer by layer (for the weights digest). */
  readParameters(out = new Float32Array(this.parameterCount())): Float32Array {
    let o = 0;
    for (const l of this.layers) {
      const n = l.matrix.rows * l.matrix.cols;
      l.matrix.readWeights(out.subarray(o, o + n));
      o += n;
      out.set(l.bias, o);
      o += l.bias.length;
    }
    return out;
  }

  onEpochEnd(trainLoss: number): void {
    for (const l of this.layers) l.matrix.onEpochEnd?.(trainLoss);
  }
}

/**
 * Log-softmax + NLL of a batch: returns the summed loss (double precision) and counts the
 * samples whose largest score is their label (first maximum wins) into `stats`. With `grad`,
 * fills dLoss/dlogits of the batch-mean loss, (softmax - onehot) / batch.
 */
export function softmaxNll(
  logits: Float32Array,
  labels: Int32Array,
  batch: number,
  classes: number,
  grad: Float32Array | null,
  stats: { correct: number },
): number {
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const o = b * classes;
    let max = logits[o];
    let arg = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[o + c] > max) {
        max = logits[o + c];
        arg = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
    const logZ = max + Math.log(sum);
    const label = labels[b];
    total += logZ - logits[o + label];
    if (arg === label) stats.correct++;
    if (grad !== null) {
      for (let c = 0; c < classes; c++) grad[o + c] = (Math.exp(logits[o + c] - logZ) - (c === label ? 1 : 0)) / batch;
    }
  }
  return total;
}
