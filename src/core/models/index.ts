/**
 * Builds the configured network (science.md §4): an MLP or LeNet-5 whose weight matrices are
 * TrainableMatrix objects of the run's algorithm (`algorithmFor(config.algorithm).create`),
 * except the layers listed in model.digital_layers, which use digital sgd. Layer names (fc0,
 * conv1, ...; the number is the weight layer's index from the input) key each layer's random
 * streams. Initial weights come from the stream `<layer>/init` of the run seed.
 */
import { algorithmFor } from '../algorithms/index.ts';
import type { Algorithm, LayerSpec } from '../algorithms/types.ts';
import type { AlgorithmName, RunConfig } from '../config/run-config.ts';
import { type Activation, LENET5_LAYERS, type ModelConfig } from '../config/task-schema.ts';
import { streamFor } from '../rng.ts';
import { ActivationLayer, Conv2d, Dense, MaxPool2, type Module, type WeightModule } from './layers.ts';
import { Network } from './network.ts';

export { Network, softmaxNll } from './network.ts';
export type { Module, WeightModule } from './layers.ts';

export interface InputShape {
  channels: number;
  height: number;
  width: number;
}

/** LeNet-5 channel and width settings (aihwkit's example and papers.md §2.6). */
export const LENET5 = { conv: [16, 32], kernel: 5, fc: 128 } as const;

function algorithm(name: AlgorithmName): Algorithm {
  const a = algorithmFor(name) as Algorithm | undefined;
  if (a === undefined) throw new Error(`algorithm ${name} is not implemented yet`);
  return a;
}

class Builder {
  readonly modules: Module[] = [];
  private index = 0;
  private readonly config: RunConfig;
  private readonly model: ModelConfig;
  private readonly maxBatch: number;

  constructor(config: RunConfig, model: ModelConfig, maxBatch: number) {
    this.config = config;
    this.model = model;
    this.maxBatch = maxBatch;
  }

  /** Input gradients are needed everywhere but in the first module. */
  private get needGradIn(): boolean {
    return this.modules.length > 0;
  }

  private matrixFor(prefix: string, rows: number, cols: number, batchFactor: number): { layer: LayerSpec; algo: Algorithm; digital: boolean } {
    const digital = this.config.algorithm === 'sgd' || this.model.digital_layers.includes(this.index);
    const layer = { rows, cols, maxBatch: this.maxBatch * batchFactor, name: `${prefix}${this.index}` };
    this.index++;
    return { layer, algo: algorithm(digital ? 'sgd' : this.config.algorithm), digital };
  }

  private initialise(m: WeightModule): void {
    m.initialise(streamFor(this.config.seed, `${m.name}/init`), this.model.init_scale);
  }

  dense(inSize: number, outSize: number): void {
    const { layer, algo, digital } = this.matrixFor('fc', outSize, inSize, 1);
    const m = new Dense(layer.name, algo.create(this.config, layer), this.maxBatch, this.needGradIn, digital);
    this.initialise(m);
    this.modules.push(m);
  }

  conv(inChannels: number, height: number, width: number, outChannels: number, kernel: number): Conv2d {
    const patches = (height - kernel + 1) * (width - kernel + 1);
    if (!(patches >= 1 && height >= kernel && width >= kernel)) throw new Error(`conv${this.index}: a ${kernel}x${kernel} kernel does not fit a ${height}x${width} input`);
    const { layer, algo, digital } = this.matrixFor('conv', outChannels, inChannels * kernel * kernel, patches);
    const shape = { inChannels, height, width, outChannels, kernel };
    const m = new Conv2d(layer.name, shape, algo.create(this.config, layer), this.maxBatch, this.needGradIn, digital);
    this.initialise(m);
    this.modules.push(m);
    return m;
  }

  pool(channels: number, height: number, width: number): MaxPool2 {
    const m = new MaxPool2(channels, height, width, this.maxBatch, this.needGradIn);
    this.modules.push(m);
    return m;
  }

  activation(kind: Activation, size: number): void {
    this.modules.push(new ActivationLayer(kind, size, this.maxBatch, this.needGradIn));
  }
}

/**
 * The network of `config.model` for inputs of `input` shape and `classes` outputs, with
 * buffers for mini-batches of up to maxBatch samples.
 */
export function buildModel(config: RunConfig, input: InputShape, classes: number, maxBatch: number): Network {
  const model = config.model;
  if (model === undefined) throw new Error(`task ${config.task.kind} needs a model section`);
  const b = new Builder(config, model, maxBatch);
  const act = model.activation;
  if (model.kind === 'mlp') {
    let width = input.channels * input.height * input.width;
    for (const h of model.hidden ?? []) {
      b.dense(width, h);
      b.activation(act, h);
      width = h;
    }
    b.dense(width, classes);
  } else {
    // Conv(16, 5x5)-act-pool-Conv(32, 5x5)-act-pool-act-flatten-FC(-> 128)-act-FC(-> classes)
    const { kernel } = LENET5;
    const c1 = b.conv(input.channels, input.height, input.width, LENET5.conv[0], kernel);
    b.activation(act, c1.outSize);
    const p1 = b.pool(LENET5.conv[0], c1.outHeight, c1.outWidth);
    const c2 = b.conv(LENET5.conv[0], p1.outHeight, p1.outWidth, LENET5.conv[1], kernel);
    b.activation(act, c2.outSize);
    const p2 = b.pool(LENET5.conv[1], c2.outHeight, c2.outWidth);
    b.activation(act, p2.outSize);
    b.dense(p2.outSize, LENET5.fc);
    b.activation(act, LENET5.fc);
    b.dense(LENET5.fc, classes);
  }
  const net = new Network(b.modules, maxBatch);
  if (model.kind === 'lenet5') {
    const names = net.layers.map((l) => l.name).join(',');
    if (names !== LENET5_LAYERS.join(',')) throw new Error(`lenet5 layer names ${names} differ from ${LENET5_LAYERS.join(',')}`);
  }
  return net;
}
