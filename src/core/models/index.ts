/**
 * Builds the configured network (docs/science.md §9.4): an MLP or LeNet-5 (shapes from plan.ts) whose
 * weight matrices are TrainableMatrix objects of the run's algorithm
 * (`algorithmFor(config.algorithm).create`), except the layers listed in model.digital_layers,
 * which use digital sgd. Layer names (fc0, conv1, ...; the number is the weight layer's index
 * from the input) key each layer's random streams. Initial weights come from the stream
 * `<layer>/init` of the run seed.
 */
import { algorithmFor } from '../algorithms/index.ts';
import type { Algorithm, LayerSpec } from '../algorithms/types.ts';
import type { AlgorithmName, RunConfig } from '../config/run-config.ts';
import { LENET5_LAYERS } from '../config/task-schema.ts';
import { LayerSpace } from '../kernels/layer-space.ts';
import { type KernelChoice, kernelModule } from '../kernels/loader.ts';
import { streamFor } from '../rng.ts';
import { ActivationLayer, Conv2d, Dense, MaxPool2, type Module, type WeightModule } from './layers.ts';
import { Network } from './network.ts';
import { type InputShape, type ModulePlan, planNetwork, type WeightLayerPlan } from './plan.ts';

export { Network, softmaxNll } from './network.ts';
export type { Module, WeightModule } from './layers.ts';
export { type InputShape, LENET5, type ModulePlan, planNetwork, type WeightLayerPlan, weightLayers } from './plan.ts';

function algorithm(name: AlgorithmName): Algorithm {
  const a = algorithmFor(name) as Algorithm | undefined;
  if (a === undefined) throw new Error(`algorithm ${name} is not implemented yet`);
  return a;
}

/**
 * The network of `config.model` for inputs of `input` shape and `classes` outputs, with
 * buffers for batches of up to maxBatch samples (training mini-batches and evaluation batches).
 */
export function buildModel(
  config: RunConfig,
  input: InputShape,
  classes: number,
  maxBatch: number,
  kernel: KernelChoice = 'auto',
): Network {
  const model = config.model;
  if (model === undefined) throw new Error(`task ${config.task.kind} needs a model section`);
  const modules: Module[] = [];
  const matrix = (p: WeightLayerPlan) => {
    const layer: LayerSpec = {
      rows: p.rows,
      cols: p.cols,
      maxBatch: maxBatch * p.patches,
      vectorsPerBatch: config.batch_size * p.patches,
      name: p.name,
      kernel,
    };
    return algorithm(p.digital ? 'sgd' : config.algorithm).create(config, layer);
  };
  const initialise = (m: WeightModule): void =>
    m.initialise(streamFor(config.seed, `${m.name}/init`), model.init_scale);
  const plan = planNetwork(model, config.algorithm, input, classes);
  // the modules' buffers and loops in one WebAssembly space (layers.ts), when the module loads
  const wasm = kernel === 'typescript' ? null : kernelModule();
  const space = wasm === null ? null : new LayerSpace(wasm, spaceBytes(plan, maxBatch));
  for (const p of plan) {
    // input gradients are needed everywhere but in the first module
    const needGradIn = modules.length > 0;
    let m: Module;
    if (p.kind === 'dense') m = new Dense(p.layer.name, matrix(p.layer), maxBatch, needGradIn, p.layer.digital, space);
    else if (p.kind === 'conv')
      m = new Conv2d(p.layer.name, p.shape, matrix(p.layer), maxBatch, needGradIn, p.layer.digital, space);
    else if (p.kind === 'pool') m = new MaxPool2(p.channels, p.height, p.width, maxBatch, needGradIn, space);
    else m = new ActivationLayer(p.activation, p.size, maxBatch, needGradIn, space);
    if (p.kind === 'dense' || p.kind === 'conv') initialise(m as WeightModule);
    modules.push(m);
  }
  const net = new Network(modules, maxBatch);
  if (model.kind === 'lenet5') {
    const names = net.layers.map((l) => l.name).join(',');
    if (names !== LENET5_LAYERS.join(','))
      throw new Error(`lenet5 layer names ${names} differ from ${LENET5_LAYERS.join(',')}`);
  }
  return net;
}

/** Bytes of the LayerSpace the modules of `plan` take (each module's spaceBytes). */
function spaceBytes(plan: readonly ModulePlan[], maxBatch: number): number {
  let bytes = 0;
  plan.forEach((p, k) => {
    const needGradIn = k > 0;
    if (p.kind === 'dense') bytes += Dense.spaceBytes(p.layer.rows, p.layer.cols, maxBatch, needGradIn);
    else if (p.kind === 'conv') bytes += Conv2d.spaceBytes(p.shape, maxBatch, needGradIn);
    else if (p.kind === 'pool') bytes += MaxPool2.spaceBytes(p.channels, p.height, p.width, maxBatch, needGradIn);
    else bytes += ActivationLayer.spaceBytes(p.size, maxBatch, needGradIn);
  });
  return bytes;
}
