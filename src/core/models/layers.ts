/**
 * The building blocks of the classification networks. Every module works on a mini-batch of
 * `batch` samples laid out sample after sample (a sample's features in PyTorch's NCHW order),
 * owns its output and input-gradient buffers (sized once for the largest batch, so the hot
 * path allocates nothing) and keeps a reference to its last input for the backward pass.
 *
 * Training follows PyTorch/aihwkit: the whole backward pass runs on the weights of the forward
 * pass, then every weight layer applies its update (`update`). Weight matrices are the run's
 * TrainableMatrix objects (analog tiles or digital); biases are digital float SGD.
 *
 * Given a LayerSpace (kernels/layer-space.ts), a module keeps its buffers there and runs its
 * loops as the WebAssembly kernels of assembly/layers.ts, which give the same bits as the
 * TypeScript loops below (their reference); `spaceBytes` says how much of the space it takes.
 */
import type { TrainableMatrix } from '../algorithms/types.ts';
import type { Activation } from '../config/task-schema.ts';
import { arrayBytes, type LayerSpace } from '../kernels/layer-space.ts';
import type { Rng } from '../rng.ts';

/** A float32 array of n elements in the space (null: a plain array). */
function f32(space: LayerSpace | null, n: number): Float32Array {
  return space === null ? new Float32Array(n) : space.f32(n);
}

export interface Module {
  /** Features per sample in and out. */
  readonly inSize: number;
  readonly outSize: number;
  /** Output of the last forward (batch x outSize valid). */
  readonly out: Float32Array;
  /** Loss gradient by the input, filled by backward (null: not needed, the first module). */
  readonly gradIn: Float32Array | null;
  forward(x: Float32Array, batch: number): void;
  backward(gradOut: Float32Array, batch: number): void;
}

/** A module with a trainable weight matrix and a digital bias. */
export interface WeightModule extends Module {
  /** Unique layer name (fc0, conv1, ...): keys its random streams, prefixes its pulse counts. */
  readonly name: string;
  readonly matrix: TrainableMatrix;
  readonly bias: Float32Array;
  /** True when the matrix is digital sgd whatever the run's algorithm. */
  readonly digital: boolean;
  /** Applies the gradients of the last backward at learning rate lr. */
  update(lr: number, batch: number): void;
  /** Draws the initial weights and biases, uniform in [-bound, bound] with bound = scale / sqrt(fan_in). */
  initialise(rng: Rng, scale: number): void;
}

function uniformFill(out: Float32Array, rng: Rng, bound: number): void {
  for (let k = 0; k < out.length; k++) out[k] = bound * (2 * rng.uniform53() - 1);
}

/** Fully connected: y = W x + b with W (out x in) a TrainableMatrix. */
export class Dense implements WeightModule {
  readonly name: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly out: Float32Array;
  readonly gradIn: Float32Array | null;
  readonly matrix: TrainableMatrix;
  readonly bias: Float32Array;
  readonly digital: boolean;
  private x: Float32Array;
  private d: Float32Array;

  constructor(
    name: string,
    matrix: TrainableMatrix,
    maxBatch: number,
    needGradIn: boolean,
    digital: boolean,
    space: LayerSpace | null = null,
  ) {
    this.name = name;
    this.matrix = matrix;
    this.inSize = matrix.cols;
    this.outSize = matrix.rows;
    this.digital = digital;
    this.bias = new Float32Array(matrix.rows);
    this.out = f32(space, maxBatch * matrix.rows);
    this.gradIn = needGradIn ? f32(space, maxBatch * matrix.cols) : null;
    this.x = this.out;
    this.d = this.out;
  }

  /** Bytes of a LayerSpace the constructor takes. */
  static spaceBytes(rows: number, cols: number, maxBatch: number, needGradIn: boolean): number {
    return arrayBytes(maxBatch * rows) + (needGradIn ? arrayBytes(maxBatch * cols) : 0);
  }

  initialise(rng: Rng, scale: number): void {
    const bound = scale / Math.sqrt(this.inSize);
    const w = new Float32Array(this.outSize * this.inSize);
    uniformFill(w, rng, bound);
    this.matrix.setWeights(w);
    uniformFill(this.bias, rng, bound);
  }

  forward(x: Float32Array, batch: number): void {
    this.x = x;
    const { out, bias, outSize } = this;
    this.matrix.forward(x, out, batch);
    for (let b = 0, o = 0; b < batch; b++) for (let i = 0; i < outSize; i++, o++) out[o] += bias[i];
  }

  backward(gradOut: Float32Array, batch: number): void {
    this.d = gradOut;
    if (this.gradIn !== null) this.matrix.backward(gradOut, this.gradIn, batch);
  }

  update(lr: number, batch: number): void {
    this.matrix.update(this.x, this.d, batch, lr);
    const { bias, d, outSize } = this;
    for (let i = 0; i < outSize; i++) {
      let g = 0;
      for (let b = 0; b < batch; b++) g += d[b * outSize + i];
      bias[i] -= lr * g;
    }
  }
}

export interface ConvShape {
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
}

/**
 * 2-d convolution, stride 1, no padding, as one matrix W (outChannels x inChannels k k) over the
 * unfolded (im2col) input: the patches of a mini-batch form the batch of `batch x patches`
 * vectors that forward, backward and update see (aihwkit's m_batch_info). Patch columns are
 * ordered (channel, kernel row, kernel column), PyTorch's weight layout.
 */
export class Conv2d implements WeightModule {
  readonly name: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly out: Float32Array;
  readonly gradIn: Float32Array | null;
  readonly matrix: TrainableMatrix;
  readonly bias: Float32Array;
  readonly digital: boolean;
  readonly shape: ConvShape;
  readonly outHeight: number;
  readonly outWidth: number;
  /** Output positions (patches) per sample. */
  readonly patches: number;
  /** Unfolded input: (batch x patches) x (inChannels k k). */
  private readonly cols: Float32Array;
  /** Matrix output / output gradient in patch-major order: (batch x patches) x outChannels. */
  private readonly y: Float32Array;
  /** Gradient by the unfolded input. */
  private readonly gradCols: Float32Array | null;
  /** For each patch column (p, c, ki, kj): the offset of its pixel in one input sample. */
  private readonly colIndex: Int32Array;
  /** The kernels' space (null: the TypeScript loops). */
  private readonly space: LayerSpace | null;
  /** Inputs that do not live in the space are copied here first. */
  private readonly xStage: Float32Array | null;

  /** `matrix` must be outChannels x (inChannels kernel^2) with maxBatch >= maxBatch x patches. */
  constructor(
    name: string,
    shape: ConvShape,
    matrix: TrainableMatrix,
    maxBatch: number,
    needGradIn: boolean,
    digital: boolean,
    space: LayerSpace | null = null,
  ) {
    const { inChannels, height, width, outChannels, kernel } = shape;
    this.name = name;
    this.shape = shape;
    this.matrix = matrix;
    this.digital = digital;
    this.outHeight = height - kernel + 1;
    this.outWidth = width - kernel + 1;
    if (this.outHeight < 1 || this.outWidth < 1)
      throw new Error(`${name}: a ${kernel}x${kernel} kernel does not fit a ${height}x${width} input`);
    const k2 = inChannels * kernel * kernel;
    if (matrix.rows !== outChannels || matrix.cols !== k2)
      throw new Error(`${name}: matrix must be ${outChannels} x ${k2}`);
    this.patches = this.outHeight * this.outWidth;
    this.inSize = inChannels * height * width;
    this.outSize = outChannels * this.patches;
    this.bias = space === null ? new Float32Array(outChannels) : space.f32(outChannels);
    this.out = f32(space, maxBatch * this.outSize);
    this.gradIn = needGradIn ? f32(space, maxBatch * this.inSize) : null;
    this.cols = f32(space, maxBatch * this.patches * k2);
    this.y = f32(space, maxBatch * this.patches * outChannels);
    this.gradCols = needGradIn ? f32(space, maxBatch * this.patches * k2) : null;
    this.space = space;
    this.xStage = space === null ? null : space.f32(maxBatch * this.inSize);
    this.colIndex = new Int32Array(this.patches * k2);
    for (let oi = 0, q = 0; oi < this.outHeight; oi++) {
      for (let oj = 0; oj < this.outWidth; oj++) {
        for (let c = 0; c < inChannels; c++) {
          for (let ki = 0; ki < kernel; ki++) {
            for (let kj = 0; kj < kernel; kj++, q++) this.colIndex[q] = (c * height + oi + ki) * width + oj + kj;
          }
        }
      }
    }
  }

  /** Bytes of a LayerSpace the constructor takes. */
  static spaceBytes(shape: ConvShape, maxBatch: number, needGradIn: boolean): number {
    const { inChannels, height, width, outChannels, kernel } = shape;
    const patches = (height - kernel + 1) * (width - kernel + 1);
    const k2 = inChannels * kernel * kernel;
    const inSize = inChannels * height * width;
    return (
      arrayBytes(outChannels) +
      arrayBytes(maxBatch * outChannels * patches) +
      (needGradIn ? arrayBytes(maxBatch * inSize) : 0) +
      arrayBytes(maxBatch * patches * k2) +
      arrayBytes(maxBatch * patches * outChannels) +
      (needGradIn ? arrayBytes(maxBatch * patches * k2) : 0) +
      arrayBytes(maxBatch * inSize)
    );
  }

  initialise(rng: Rng, scale: number): void {
    const bound = scale / Math.sqrt(this.matrix.cols);
    const w = new Float32Array(this.matrix.rows * this.matrix.cols);
    uniformFill(w, rng, bound);
    this.matrix.setWeights(w);
    uniformFill(this.bias, rng, bound);
  }

  forward(x: Float32Array, batch: number): void {
    const { cols, colIndex, y, out, bias, inSize, outSize, patches, space } = this;
    const per = colIndex.length;
    const oc = this.shape.outChannels;
    if (space !== null) {
      let xAt = space.at(x);
      if (xAt < 0) {
        this.xStage!.set(x.subarray(0, batch * inSize));
        xAt = this.xStage!.byteOffset;
      }
      const { inChannels, height, width, kernel } = this.shape;
      space.fn.im2col(xAt, inSize, batch, cols.byteOffset, inChannels, height, width, kernel);
      this.matrix.forward(cols, y, batch * patches);
      space.fn.convOut(y.byteOffset, out.byteOffset, bias.byteOffset, batch, patches, oc);
      return;
    }
    for (let b = 0; b < batch; b++) {
      const xo = b * inSize;
      const co = b * per;
      for (let q = 0; q < per; q++) cols[co + q] = x[xo + colIndex[q]];
    }
    this.matrix.forward(cols, y, batch * patches);
    for (let b = 0; b < batch; b++) {
      const yo = b * patches * oc;
      const oo = b * outSize;
      for (let c = 0; c < oc; c++) {
        const bc = bias[c];
        const o = oo + c * patches;
        for (let p = 0; p < patches; p++) out[o + p] = y[yo + p * oc + c] + bc;
      }
    }
  }

  backward(gradOut: Float32Array, batch: number): void {
    const { y, outSize, patches, gradIn, gradCols, colIndex, inSize, space } = this;
    const oc = this.shape.outChannels;
    const gAt = space === null ? -1 : space.at(gradOut);
    if (space !== null && gAt >= 0) {
      space.fn.convGrad(gAt, y.byteOffset, batch, patches, oc);
      if (gradIn === null || gradCols === null) return;
      this.matrix.backward(y, gradCols, batch * patches);
      const { inChannels, height, width, kernel } = this.shape;
      space.fn.col2im(gradCols.byteOffset, gradIn.byteOffset, inSize, batch, inChannels, height, width, kernel);
      return;
    }
    // y now holds dLoss/dy in patch-major order (the matrix's batch layout)
    for (let b = 0; b < batch; b++) {
      const yo = b * patches * oc;
      const go = b * outSize;
      for (let c = 0; c < oc; c++) {
        const g = go + c * patches;
        for (let p = 0; p < patches; p++) y[yo + p * oc + c] = gradOut[g + p];
      }
    }
    if (gradIn === null || gradCols === null) return;
    this.matrix.backward(y, gradCols, batch * patches);
    gradIn.fill(0, 0, batch * inSize);
    const per = colIndex.length;
    for (let b = 0; b < batch; b++) {
      const xo = b * inSize;
      const co = b * per;
      for (let q = 0; q < per; q++) gradIn[xo + colIndex[q]] += gradCols[co + q];
    }
  }

  update(lr: number, batch: number): void {
    const n = batch * this.patches;
    this.matrix.update(this.cols, this.y, n, lr);
    const { bias, y, space } = this;
    const oc = this.shape.outChannels;
    if (space !== null) {
      space.fn.convBias(y.byteOffset, n, oc, lr, bias.byteOffset);
      return;
    }
    for (let c = 0; c < oc; c++) {
      let g = 0;
      for (let r = 0; r < n; r++) g += y[r * oc + c];
      bias[c] -= lr * g;
    }
  }
}

/** 2x2 max pooling, stride 2, floor mode (PyTorch MaxPool2d(2)); the first maximum wins ties. */
export class MaxPool2 implements Module {
  readonly inSize: number;
  readonly outSize: number;
  readonly out: Float32Array;
  readonly gradIn: Float32Array | null;
  readonly channels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  private readonly height: number;
  private readonly width: number;
  /** Input offset (within the sample) of each output's maximum in the last forward. */
  readonly argmax: Int32Array;
  private readonly space: LayerSpace | null;

  constructor(
    channels: number,
    height: number,
    width: number,
    maxBatch: number,
    needGradIn: boolean,
    space: LayerSpace | null = null,
  ) {
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.outHeight = height >> 1;
    this.outWidth = width >> 1;
    if (this.outHeight < 1 || this.outWidth < 1)
      throw new Error(`max-pool: a ${height}x${width} input is too small to pool 2x2`);
    this.inSize = channels * height * width;
    this.outSize = channels * this.outHeight * this.outWidth;
    this.out = f32(space, maxBatch * this.outSize);
    this.gradIn = needGradIn ? f32(space, maxBatch * this.inSize) : null;
    this.argmax = space === null ? new Int32Array(maxBatch * this.outSize) : space.i32(maxBatch * this.outSize);
    this.space = space;
  }

  /** Bytes of a LayerSpace the constructor takes. */
  static spaceBytes(channels: number, height: number, width: number, maxBatch: number, needGradIn: boolean): number {
    const outSize = channels * (height >> 1) * (width >> 1);
    return 2 * arrayBytes(maxBatch * outSize) + (needGradIn ? arrayBytes(maxBatch * channels * height * width) : 0);
  }

  forward(x: Float32Array, batch: number): void {
    const { out, argmax, channels, height, width, outHeight, outWidth, inSize, outSize, space } = this;
    const xAt = space === null ? -1 : space.at(x);
    if (space !== null && xAt >= 0) {
      space.fn.poolForward(xAt, out.byteOffset, argmax.byteOffset, batch, channels, height, width);
      return;
    }
    for (let b = 0; b < batch; b++) {
      const xo = b * inSize;
      let o = b * outSize;
      for (let c = 0; c < channels; c++) {
        for (let i = 0; i < outHeight; i++) {
          for (let j = 0; j < outWidth; j++, o++) {
            const p = (c * height + 2 * i) * width + 2 * j;
            let best = p;
            let v = x[xo + p];
            if (x[xo + p + 1] > v) {
              best = p + 1;
              v = x[xo + best];
            }
            if (x[xo + p + width] > v) {
              best = p + width;
              v = x[xo + best];
            }
            if (x[xo + p + width + 1] > v) {
              best = p + width + 1;
              v = x[xo + best];
            }
            out[o] = v;
            argmax[o] = best;
          }
        }
      }
    }
  }

  backward(gradOut: Float32Array, batch: number): void {
    const { gradIn, argmax, inSize, outSize, space } = this;
    if (gradIn === null) return;
    const gAt = space === null ? -1 : space.at(gradOut);
    if (space !== null && gAt >= 0) {
      space.fn.poolBackward(gAt, argmax.byteOffset, gradIn.byteOffset, batch, inSize, outSize);
      return;
    }
    gradIn.fill(0, 0, batch * inSize);
    for (let b = 0; b < batch; b++) {
      const xo = b * inSize;
      for (let o = b * outSize, end = o + outSize; o < end; o++) gradIn[xo + argmax[o]] += gradOut[o];
    }
  }
}

/** Elementwise activation; its derivative is taken from the stored output. */
export class ActivationLayer implements Module {
  readonly inSize: number;
  readonly outSize: number;
  readonly out: Float32Array;
  readonly gradIn: Float32Array | null;
  readonly kind: Activation;
  private readonly space: LayerSpace | null;

  constructor(kind: Activation, size: number, maxBatch: number, needGradIn: boolean, space: LayerSpace | null = null) {
    this.kind = kind;
    this.inSize = size;
    this.outSize = size;
    this.out = f32(space, maxBatch * size);
    this.gradIn = needGradIn ? f32(space, maxBatch * size) : null;
    // sigmoid keeps its TypeScript loop (Math.exp has no kernel twin)
    this.space = kind === 'sigmoid' ? null : space;
  }

  /** Bytes of a LayerSpace the constructor takes. */
  static spaceBytes(size: number, maxBatch: number, needGradIn: boolean): number {
    return arrayBytes(maxBatch * size) + (needGradIn ? arrayBytes(maxBatch * size) : 0);
  }

  forward(x: Float32Array, batch: number): void {
    const { out, space } = this;
    const n = batch * this.outSize;
    const xAt = space === null ? -1 : space.at(x);
    if (space !== null && xAt >= 0) {
      if (this.kind === 'tanh') space.fn.tanhForward(xAt, out.byteOffset, n, space.scratch);
      else space.fn.reluForward(xAt, out.byteOffset, n);
      return;
    }
    switch (this.kind) {
      case 'sigmoid':
        for (let k = 0; k < n; k++) out[k] = 1 / (1 + Math.exp(-x[k]));
        break;
      case 'tanh':
        for (let k = 0; k < n; k++) out[k] = Math.tanh(x[k]);
        break;
      case 'relu':
        for (let k = 0; k < n; k++) out[k] = x[k] > 0 ? x[k] : 0;
        break;
    }
  }

  backward(gradOut: Float32Array, batch: number): void {
    const { gradIn, out, space } = this;
    if (gradIn === null) return;
    const n = batch * this.outSize;
    const gAt = space === null ? -1 : space.at(gradOut);
    if (space !== null && gAt >= 0) {
      if (this.kind === 'tanh') space.fn.tanhBackward(gAt, out.byteOffset, gradIn.byteOffset, n);
      else space.fn.reluBackward(gAt, out.byteOffset, gradIn.byteOffset, n);
      return;
    }
    switch (this.kind) {
      case 'sigmoid':
        for (let k = 0; k < n; k++) gradIn[k] = gradOut[k] * out[k] * (1 - out[k]);
        break;
      case 'tanh':
        for (let k = 0; k < n; k++) gradIn[k] = gradOut[k] * (1 - out[k] * out[k]);
        break;
      case 'relu':
        for (let k = 0; k < n; k++) gradIn[k] = out[k] > 0 ? gradOut[k] : 0;
        break;
    }
  }
}
