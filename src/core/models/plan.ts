/**
 * The shape of a configured network, without weights: its modules in order with their sizes,
 * and for every weight layer its name, matrix shape and patches per sample. `buildModel`
 * instantiates this plan; the schedule diagnostics read it (transfer clocks count vector updates,
 * which a conv layer makes `patches` of per image), so both see one set of shapes.
 */
import type { AlgorithmName } from '../config/run-config.ts';
import { type Activation, type ModelConfig } from '../config/task-schema.ts';
import type { ConvShape } from './layers.ts';

export interface InputShape {
  channels: number;
  height: number;
  width: number;
}

/** LeNet-5 channel and width settings (aihwkit's example; the residual paper's LeNet-5). */
export const LENET5 = { conv: [16, 32], kernel: 5, fc: 128 } as const;

/** A weight layer: its matrix (rows = outputs, cols = inputs) and the vectors it sees per sample. */
export interface WeightLayerPlan {
  /** fc<k> or conv<k>, k the weight layer's index from the input: keys its random streams */
  name: string;
  index: number;
  rows: number;
  cols: number;
  /** vectors per sample: 1 for dense layers, the output positions for conv layers */
  patches: number;
  /** digital sgd whatever the run's algorithm (model.digital_layers, or algorithm sgd) */
  digital: boolean;
}

export type ModulePlan =
  | { kind: 'dense'; layer: WeightLayerPlan }
  | { kind: 'conv'; layer: WeightLayerPlan; shape: ConvShape }
  | { kind: 'pool'; channels: number; height: number; width: number }
  | { kind: 'activation'; activation: Activation; size: number };

class Planner {
  readonly modules: ModulePlan[] = [];
  private index = 0;
  private readonly model: ModelConfig;
  private readonly algorithm: AlgorithmName;

  constructor(model: ModelConfig, algorithm: AlgorithmName) {
    this.model = model;
    this.algorithm = algorithm;
  }

  private layer(prefix: string, rows: number, cols: number, patches: number): WeightLayerPlan {
    const index = this.index++;
    const digital = this.algorithm === 'sgd' || this.model.digital_layers.includes(index);
    return { name: `${prefix}${index}`, index, rows, cols, patches, digital };
  }

  dense(inSize: number, outSize: number): void {
    this.modules.push({ kind: 'dense', layer: this.layer('fc', outSize, inSize, 1) });
  }

  /** Adds a conv layer; returns its output height and width. */
  conv(
    inChannels: number,
    height: number,
    width: number,
    outChannels: number,
    kernel: number,
  ): { height: number; width: number } {
    const outHeight = height - kernel + 1;
    const outWidth = width - kernel + 1;
    if (!(outHeight >= 1 && outWidth >= 1))
      throw new Error(`conv${this.index}: a ${kernel}x${kernel} kernel does not fit a ${height}x${width} input`);
    const layer = this.layer('conv', outChannels, inChannels * kernel * kernel, outHeight * outWidth);
    this.modules.push({ kind: 'conv', layer, shape: { inChannels, height, width, outChannels, kernel } });
    return { height: outHeight, width: outWidth };
  }

  /** Adds a 2x2 max pool; returns its output height and width. */
  pool(channels: number, height: number, width: number): { height: number; width: number } {
    if (height < 2 || width < 2) throw new Error(`max-pool: a ${height}x${width} input is too small to pool 2x2`);
    this.modules.push({ kind: 'pool', channels, height, width });
    return { height: height >> 1, width: width >> 1 };
  }

  activation(size: number): void {
    this.modules.push({ kind: 'activation', activation: this.model.activation, size });
  }
}

/** The modules of `model` for inputs of `input` shape and `classes` outputs. */
export function planNetwork(
  model: ModelConfig,
  algorithm: AlgorithmName,
  input: InputShape,
  classes: number,
): ModulePlan[] {
  const p = new Planner(model, algorithm);
  if (model.kind === 'mlp') {
    let width = input.channels * input.height * input.width;
    for (const h of model.hidden ?? []) {
      p.dense(width, h);
      p.activation(h);
      width = h;
    }
    p.dense(width, classes);
    return p.modules;
  }
  // Conv(16, 5x5)-act-pool-Conv(32, 5x5)-act-pool-act-flatten-FC(-> 128)-act-FC(-> classes)
  const [c0, c1] = LENET5.conv;
  const a = p.conv(input.channels, input.height, input.width, c0, LENET5.kernel);
  p.activation(c0 * a.height * a.width);
  const b = p.pool(c0, a.height, a.width);
  const c = p.conv(c0, b.height, b.width, c1, LENET5.kernel);
  p.activation(c1 * c.height * c.width);
  const d = p.pool(c1, c.height, c.width);
  const flat = c1 * d.height * d.width;
  p.activation(flat);
  p.dense(flat, LENET5.fc);
  p.activation(LENET5.fc);
  p.dense(LENET5.fc, classes);
  return p.modules;
}

/** The weight layers of a plan, input to output. */
export function weightLayers(plan: readonly ModulePlan[]): WeightLayerPlan[] {
  return plan.flatMap((m) => (m.kind === 'dense' || m.kind === 'conv' ? [m.layer] : []));
}
