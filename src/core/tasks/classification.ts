/**
 * Image classification (docs/science.md §9.3-§9.5): mnist, fashion-mnist or any IDX dataset, given to the
 * core as arrays by the caller (src/data loads them). Mini-batch training over a shuffled order
 * from the run seed (stream `data-order`), the last batch of an epoch possibly smaller (PyTorch
 * drop_last false), the learning rate of lr_schedule, a digital log-softmax + NLL loss.
 * Metrics per epoch: the mean mini-batch train loss and accuracy as the epoch trained (epoch 0:
 * the initial model on the whole training set), test loss and accuracy after the epoch, the
 * hardware cost estimates of the training so far (cost-metrics.ts), and the pulses of every
 * analog array keyed `layer/array`.
 */
import { DivergedError } from './diverged.ts';
import type { RunConfig } from '../config/run-config.ts';
import { type ClassificationTask, scheduledLr } from '../config/task-schema.ts';
import type { KernelChoice } from '../kernels/loader.ts';
import { buildModel, type Network, softmaxNll } from '../models/index.ts';
import { streamFor } from '../rng.ts';
import { costMetrics } from './cost-metrics.ts';
import { type ClassificationData, type ImageSet, imageSize, validateClassificationData } from './dataset.ts';
import { type EpochMetrics, type RunResult, RunRecorder, type TrainHooks } from './run-result.ts';

/** Mini-batch of evaluation passes (no effect on the numbers, only on speed and memory). */
export const EVAL_BATCH = 32;

export interface SetScore {
  /** mean loss per sample */
  loss: number;
  /** fraction classified right */
  accuracy: number;
}

/** A network with its input and loss buffers: one training step or evaluation at a time. */
export class ClassificationTrainer {
  readonly net: Network;
  readonly data: ClassificationData;
  private readonly size: number;
  private readonly x: Float32Array;
  private readonly labels: Int32Array;
  private readonly grad: Float32Array;
  private readonly stats = { correct: 0 };

  /** `kernel`: the implementation of the network ('auto' in every run; the same bits either way). */
  constructor(config: RunConfig, data: ClassificationData, kernel: KernelChoice = 'auto') {
    validateClassificationData(data);
    if (config.task.kind === 'least-squares') throw new Error('ClassificationTrainer: task.kind is least-squares');
    const task: ClassificationTask = config.task;
    for (const [field, set] of [
      ['train_size', data.train],
      ['test_size', data.test],
    ] as const) {
      const want = task[field];
      if (want !== null && want !== set.n)
        throw new Error(`task.${field} is ${want} but the ${data.name} data passed in hold ${set.n} images`);
    }
    const maxBatch = Math.max(config.batch_size, EVAL_BATCH);
    this.data = data;
    this.size = imageSize(data);
    this.net = buildModel(config, data, data.classes, maxBatch, kernel);
    this.x = new Float32Array(maxBatch * this.size);
    this.labels = new Int32Array(maxBatch);
    this.grad = new Float32Array(maxBatch * data.classes);
  }

  /** Copies samples order[start .. start + batch) (or start .. when order is null) into the input buffers. */
  private gather(set: ImageSet, order: Int32Array | null, start: number, batch: number): void {
    const { x, labels, size } = this;
    const { pixels, scale } = set;
    for (let b = 0; b < batch; b++) {
      const s = order === null ? start + b : order[start + b];
      labels[b] = set.labels[s];
      const src = s * size;
      const dst = b * size;
      for (let j = 0; j < size; j++) x[dst + j] = pixels[src + j] * scale;
    }
  }

  /**
   * One training step (forward, backward, update of every layer) on samples
   * order[start .. start + batch) of `set` at learning rate lr. Returns the summed loss of the
   * batch and adds its correctly classified samples to `correct`.
   */
  step(
    set: ImageSet,
    order: Int32Array,
    start: number,
    batch: number,
    lr: number,
    correct: { correct: number },
  ): number {
    this.gather(set, order, start, batch);
    const logits = this.net.forward(this.x, batch);
    const loss = softmaxNll(logits, this.labels, batch, this.net.classes, this.grad, correct);
    this.net.backward(this.grad, batch);
    this.net.update(lr, batch);
    return loss;
  }

  /** Mean loss and accuracy of the current model on a whole set (forward passes only). */
  evaluate(set: ImageSet): SetScore {
    const stats = this.stats;
    stats.correct = 0;
    let total = 0;
    for (let start = 0; start < set.n; start += EVAL_BATCH) {
      const batch = Math.min(EVAL_BATCH, set.n - start);
      this.gather(set, null, start, batch);
      total += softmaxNll(this.net.forward(this.x, batch), this.labels, batch, this.net.classes, null, stats);
    }
    return { loss: total / set.n, accuracy: stats.correct / set.n };
  }
}

export function trainClassification(config: RunConfig, hooks: TrainHooks, data: ClassificationData): RunResult {
  const recorder = new RunRecorder(config, hooks);
  const trainer = new ClassificationTrainer(config, data);
  const { net } = trainer;
  const { train, test } = data;
  const bs = config.batch_size;
  const order = Int32Array.from({ length: train.n }, (_, k) => k);
  const orderRng = streamFor(config.seed, 'data-order');
  const metrics = (epoch: number, trainLoss: number, trainAccuracy: number): EpochMetrics => {
    const t = trainer.evaluate(test);
    const m: EpochMetrics = {
      epoch,
      train_loss: trainLoss,
      train_accuracy: trainAccuracy,
      test_loss: t.loss,
      test_accuracy: t.accuracy,
      ...costMetrics(config, net.costActivity(), epoch * train.n),
      pulses: net.pulseCounts(),
    };
    if (!Number.isFinite(trainLoss) || !Number.isFinite(t.loss)) {
      throw new DivergedError(epoch, `train loss ${trainLoss}, test loss ${t.loss}`);
    }
    return m;
  };
  const initial = trainer.evaluate(train);
  recorder.record(metrics(0, initial.loss, initial.accuracy));
  const correct = { correct: 0 };
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const lr = scheduledLr(config.lr, config.lr_schedule, epoch);
    orderRng.shuffle(order);
    correct.correct = 0;
    let total = 0;
    for (let start = 0; start < train.n; start += bs)
      total += trainer.step(train, order, start, Math.min(bs, train.n - start), lr, correct);
    const m = metrics(epoch, total / train.n, correct.correct / train.n);
    net.onEpochEnd(m.train_loss);
    recorder.record(m);
  }
  return recorder.finish(net.readParameters());
}
