/**
 * The throughput paths of the core against their references, bit for bit:
 *   - whole runs: the weights digests of runs of every algorithm on the MLP and LeNet-5 (ideal
 *     and noisy IO, digital layers, closed form, device families with and without a kernel),
 *     pinned at the commit before these paths (024a5e3): whatever runs the numbers, the bits are
 *     those;
 *   - the sparse forms of the products (few non-zero inputs; a non-finite weight falls back to
 *     the dense form) and the products in a tile's own memory;
 *   - a tile's range update (update management and the rank-1 updates in one kernel call) against
 *     updateVector one by one and the TypeScript tile, counters included; the sparse rows (few
 *     firing columns, normals refilled in the middle of a row);
 *   - the digital kernels (sgd, mixed precision's accumulator) against their TypeScript loops;
 *   - the composite algorithms' effective weights (residual learning's tile sum, the two-array
 *     transfer algorithms' slow + gamma fast) against their TypeScript loops;
 *   - the module kernels (layers.ts: im2col and back, the layout changes, bias gradients, pooling,
 *     tanh and relu) against the modules' TypeScript loops; tanh on float32 inputs of every
 *     exponent (bench/tanh-exhaustive.ts checks all 2^32).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastSlowSumReference } from '../src/core/algorithms/fast-slow-transfer.ts';
import { mpAccumulateReference } from '../src/core/algorithms/mixed-precision.ts';
import { residualSumReference } from '../src/core/algorithms/residual.ts';
import { sgdUpdateReference } from '../src/core/algorithms/sgd.ts';
import type { TrainableMatrix } from '../src/core/algorithms/types.ts';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { matmulBackward, matmulForward } from '../src/core/io.ts';
import { KernelMatrix } from '../src/core/kernels/kernel-matrix.ts';
import { arrayBytes, LayerSpace } from '../src/core/kernels/layer-space.ts';
import { type KernelChoice, kernelModule } from '../src/core/kernels/loader.ts';
import { MatmulKernel } from '../src/core/kernels/matmul-kernel.ts';
import { ActivationLayer, Conv2d, MaxPool2 } from '../src/core/models/layers.ts';
import { type Rng, streamFor } from '../src/core/rng.ts';
import { ClassificationTrainer } from '../src/core/tasks/classification.ts';
import { digestFloat32 } from '../src/core/hash.ts';
import { AnalogTile } from '../src/core/tile.ts';
import { train, needsDataset } from '../src/core/train.ts';
import { loadDataset } from '../src/data/index.ts';
import { kernelTestsSkip } from './kernel-required.ts';

const module = kernelModule();
const skip = kernelTestsSkip();

const bits = (a: Float32Array | Float64Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);

/**
 * Same bits, element by element; two NaNs count as equal whatever their payloads (an operation on
 * two NaNs may keep either one's, and only a diverged run has them).
 */
function assertSameBits(ref: Float32Array | Float64Array, got: Float32Array | Float64Array, what: string): void {
  const a = bits(ref);
  const b = bits(got);
  const per = ref instanceof Float64Array ? 2 : 1;
  assert.equal(b.length, a.length, `${what}: length`);
  for (let k = 0; k < a.length; k++) {
    if (a[k] === b[k]) continue;
    const e = Math.floor(k / per);
    if (Number.isNaN(ref[e]) && Number.isNaN(got[e])) continue;
    assert.fail(`${what}: element ${e}: ${ref[e]} (reference) vs ${got[e]}`);
  }
}

/** Values of mixed magnitude, with a share `zeros` of exact zeros (half of them -0). */
function sparseData(n: number, name: string, zeros: number, seed = 5): Float32Array {
  const r = streamFor(seed, name);
  const a = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const u = r.uniform();
    if (u < zeros) a[k] = u < zeros / 2 ? 0 : -0;
    else a[k] = (2 * r.uniform() - 1) * 2 ** (Math.floor(24 * r.uniform()) - 12);
  }
  return a;
}

// ---- whole runs: digests pinned before the throughput work -------------------------------------

type Raw = Record<string, unknown>;
const NOISY = { kind: 'noisy' };
const mlpNoisy = (algorithm: string): Raw => ({
  algorithm,
  seed: 6,
  task: { kind: 'mnist', train_size: 150, test_size: 50, downsample: true },
  model: { kind: 'mlp', hidden: [32], activation: 'tanh' },
  batch_size: 7,
  epochs: 2,
  lr: 0.1,
  io: NOISY,
});
const lenet = (algorithm: string): Raw => ({
  algorithm,
  seed: 7,
  task: { kind: 'mnist', train_size: 48, test_size: 40 },
  model: { kind: 'lenet5' },
  batch_size: 8,
  epochs: 1,
  lr: 0.05,
  device: { preset: 'softbounds-papers', n_states: 10 },
});
const lenetNoisy = (algorithm: string): Raw => ({
  algorithm,
  seed: 8,
  task: { kind: 'mnist', train_size: 25, test_size: 20 },
  model: { kind: 'lenet5' },
  batch_size: 5,
  epochs: 1,
  lr: 0.05,
  io: NOISY,
});
const mlpDevice = (device: Raw, update?: Raw): Raw => ({
  algorithm: 'analog-sgd',
  seed: update ? 13 : 12,
  task: { kind: 'mnist', train_size: 100, test_size: 50, downsample: true },
  model: { kind: 'mlp', hidden: [32] },
  batch_size: 10,
  epochs: 1,
  lr: 0.1,
  device,
  ...(update ? { update } : {}),
});

/** weights_digest of each run at 024a5e3 (before the kernels of this file existed). */
const PINNED: Array<[string, Raw, string]> = [
  ['mlp sgd noisy', mlpNoisy('sgd'), 'e6b060d8e7e2fd6b'],
  ['mlp analog-sgd noisy', mlpNoisy('analog-sgd'), 'bd5dd26f88a15547'],
  ['mlp tiki-taka noisy', mlpNoisy('tiki-taka'), '7ee2dcbaca875df5'],
  ['mlp ttv2 noisy', mlpNoisy('ttv2'), 'd111b232021b03e7'],
  ['mlp c-ttv2 noisy', mlpNoisy('c-ttv2'), 'e7472633ce9560a5'],
  ['mlp agad noisy', mlpNoisy('agad'), '42797bf73afdbb18'],
  ['mlp mp noisy', mlpNoisy('mp'), '4580124195ed56ea'],
  ['mlp rlv2 noisy', mlpNoisy('rlv2'), 'b8964516da440c7a'],
  ['mlp residual noisy', mlpNoisy('residual'), 'c6732558ac6c69a3'],
  ['lenet analog-sgd', lenet('analog-sgd'), '600950dc67ff324c'],
  ['lenet residual', lenet('residual'), '1c8e65a387215b33'],
  ['lenet sgd', lenet('sgd'), '322c4ebac3329300'],
  ['lenet tiki-taka', lenet('tiki-taka'), '22a8c621c6181500'],
  ['lenet analog-sgd noisy', lenetNoisy('analog-sgd'), 'c9bea5ec1a1e8a07'],
  ['lenet residual noisy', lenetNoisy('residual'), 'a2525f6dec0551c3'],
  ['lenet sgd noisy', lenetNoisy('sgd'), 'f7dc4e86a6cec330'],
  [
    'lenet digital layers 0 and 3',
    {
      algorithm: 'analog-sgd',
      seed: 9,
      task: { kind: 'mnist', train_size: 32, test_size: 20 },
      model: { kind: 'lenet5', digital_layers: [0, 3] },
      batch_size: 8,
      epochs: 1,
      lr: 0.05,
    },
    'e2b03593e0296c4e',
  ],
  [
    'lenet closed form',
    {
      algorithm: 'analog-sgd',
      seed: 15,
      task: { kind: 'mnist', train_size: 24, test_size: 20 },
      model: { kind: 'lenet5' },
      batch_size: 8,
      epochs: 1,
      lr: 0.05,
      update: { closed_form_pulses: true },
    },
    '88573cf2b64b3f40',
  ],
  [
    'mlp sgd step schedule',
    {
      algorithm: 'sgd',
      seed: 9,
      task: { kind: 'mnist', train_size: 200, test_size: 50 },
      model: { kind: 'mlp' },
      batch_size: 13,
      epochs: 2,
      lr: 0.05,
      lr_schedule: { kind: 'step', step_every: 1, gamma: 0.5 },
    },
    '8509d2965043c90f',
  ],
  ['mlp softbounds', mlpDevice({ kind: 'softbounds' }), '7837d1c82ce29271'],
  ['mlp softbounds closed form', mlpDevice({ kind: 'softbounds' }, { closed_form_pulses: true }), '61af7b7c7dd0bd9b'],
  ['mlp linear-step (capacitor)', mlpDevice({ preset: 'capacitor' }), '0e3e528c1a50ee0b'],
  ['mlp exp-step (pcm, no kernel)', mlpDevice({ preset: 'pcm' }), '0390686fd31d1c95'],
];

test('runs of every algorithm end with the weights digests they had before the throughput paths', () => {
  const cache = new Map<string, ReturnType<typeof loadDataset>>();
  for (const [what, raw, digest] of PINNED) {
    const config = resolveRunConfig(raw);
    let data;
    if (needsDataset(config)) {
      const key = JSON.stringify(config.task);
      if (!cache.has(key)) cache.set(key, loadDataset(config.task));
      data = cache.get(key);
    }
    assert.equal(train(config, {}, data).weights_digest, digest, what);
  }
});

test(
  "a network built with kernel 'typescript' trains to the bits of one forced onto the kernels ('wasm')",
  { skip },
  () => {
    // the benchmark's "same bits" column rests on this choice reaching every tile, matrix and module
    const cases: Array<[string, Raw]> = [
      ['lenet residual', lenet('residual')],
      ['lenet sgd noisy', lenetNoisy('sgd')],
      ['mlp mp noisy', mlpNoisy('mp')],
      ['mlp ttv2 noisy', mlpNoisy('ttv2')],
      ['mlp residual noisy', mlpNoisy('residual')],
      ['mlp tiki-taka gamma 0.4', { ...mlpNoisy('tiki-taka'), gamma: 0.4 }],
      ['mlp rlv2', mlpNoisy('rlv2')],
      ['mlp c-ttv2 gamma 0.2 (its own fast reading)', { ...mlpNoisy('c-ttv2'), gamma: 0.2 }],
    ];
    for (const [what, raw] of cases) {
      const config = resolveRunConfig(raw);
      const data = loadDataset(config.task);
      const state = (kernel: KernelChoice): string => {
        const t = new ClassificationTrainer(config, data, kernel);
        const order = Int32Array.from({ length: data.train.n }, (_, k) => k);
        const correct = { correct: 0 };
        for (let at = 0; at + config.batch_size <= order.length; at += config.batch_size) {
          t.step(data.train, order, at, config.batch_size, config.lr, correct);
        }
        return `${digestFloat32(t.net.readParameters())} ${JSON.stringify(t.net.pulseCounts())}`;
      };
      assert.equal(state('typescript'), state('wasm'), what);
    }
  },
);

// ---- products ----------------------------------------------------------------------------------

test(
  'sparse products: few non-zero inputs give the reference bits; a non-finite weight takes the dense form',
  { skip },
  () => {
    for (const [rows, cols] of [
      [16, 25],
      [32, 400],
      [7, 13],
      [256, 78],
    ] as Array<[number, number]>) {
      for (const batch of [1, 5, 40]) {
        for (const zeros of [0.75, 0.97]) {
          const k = new MatmulKernel(module!);
          const W = sparseData(rows * cols, `W${rows}`, 0.02);
          const x = sparseData(batch * cols, 'x', zeros);
          const d = sparseData(batch * rows, 'd', zeros);
          if (batch > 1) x[3] = Number.NaN; // NaN is an input like any other
          const yRef = new Float32Array(batch * rows);
          const y = new Float32Array(batch * rows);
          matmulForward(W, rows, cols, x, yRef, batch);
          k.forward(W, rows, cols, x, y, batch);
          assertSameBits(yRef, y, `forward ${rows}x${cols} batch ${batch} zeros ${zeros}`);
          const zRef = new Float32Array(batch * cols);
          const z = new Float32Array(batch * cols);
          matmulBackward(W, rows, cols, d, zRef, batch);
          k.backward(W, rows, cols, d, z, batch);
          assertSameBits(zRef, z, `backward ${rows}x${cols} batch ${batch} zeros ${zeros}`);
          // an infinite weight times a zero input is NaN: the sparse form would miss it
          W[rows * cols - 1] = Number.POSITIVE_INFINITY;
          matmulForward(W, rows, cols, x, yRef, batch);
          k.forward(W, rows, cols, x, y, batch);
          assertSameBits(yRef, y, `forward with Inf ${rows}x${cols}`);
          matmulBackward(W, rows, cols, d, zRef, batch);
          k.backward(W, rows, cols, d, z, batch);
          assertSameBits(zRef, z, `backward with Inf ${rows}x${cols}`);
        }
      }
    }
  },
);

test('a kernel tile runs its products in its own memory (sparse and dense), with the reference bits', { skip }, () => {
  const cfg = resolveRunConfig({ device: { kind: 'softbounds' }, io: { kind: 'noisy' } });
  for (const io of [resolveRunConfig({}).io!, cfg.io!]) {
    const mk = (kernel: KernelChoice): AnalogTile =>
      new AnalogTile({
        rows: 24,
        cols: 50,
        device: cfg.device!,
        io,
        update: cfg.update!,
        maxBatch: 130,
        seed: 3,
        name: 'p',
        kernel,
      });
    const a = mk('typescript');
    const b = mk('wasm');
    const w = sparseData(24 * 50, 'w', 0.1);
    a.setWeights(w);
    b.setWeights(w);
    const products = (b as unknown as { wasm: { products: { sparseChunks: number } } }).wasm.products;
    for (const [batch, zeros] of [
      [130, 0.9],
      [9, 0],
    ] as Array<[number, number]>) {
      const x = sparseData(batch * 50, 'xp', zeros);
      const d = sparseData(batch * 24, 'dp', zeros);
      const ya = new Float32Array(batch * 24);
      const yb = new Float32Array(batch * 24);
      a.forward(x, ya, batch);
      b.forward(x, yb, batch);
      assertSameBits(ya, yb, `forward ${io.kind} batch ${batch}`);
      const za = new Float32Array(batch * 50);
      const zb = new Float32Array(batch * 50);
      a.backward(d, za, batch);
      b.backward(d, zb, batch);
      assertSameBits(za, zb, `backward ${io.kind} batch ${batch}`);
    }
    if (io.kind === 'ideal') assert.ok(products.sparseChunks > 0, 'the sparse form ran');
  }
});

// ---- the range update of a tile ------------------------------------------------------------------

const pulseRng = (t: AnalogTile): Rng => (t as unknown as { pulseRng: Rng }).pulseRng;

/** Weights, counters and both random streams of the tiles agree exactly (reads 8 normals of each). */
function assertSameTiles(tiles: AnalogTile[], what: string): void {
  const [ref, ...others] = tiles;
  const normals = tiles.map((t) => Float32Array.from({ length: 8 }, () => t.device.noise.next()));
  others.forEach((got, k) => {
    const w = `${what} (tile ${k + 1})`;
    assertSameBits(ref.weights, got.weights, `${w}: weights`);
    assert.deepEqual(
      [got.pulses, got.slots, got.updates, got.columnUpdates, got.reads],
      [ref.pulses, ref.slots, ref.updates, ref.columnUpdates, ref.reads],
      `${w}: counters`,
    );
    assert.deepEqual(pulseRng(got).state(), pulseRng(ref).state(), `${w}: pulse-train generator`);
    assertSameBits(normals[0], normals[k + 1], `${w}: noise stream`);
  });
}

const RANGE_DEVICES: Record<string, Raw> = {
  'softbounds additive': { kind: 'softbounds', dw_min_std: 0.3 },
  'softbounds multiplicative': { kind: 'softbounds', dw_min_std: 0.3, mult_noise: true },
  'softbounds no noise': { kind: 'softbounds', dw_min_std: 0 },
  'constant-step noise': { kind: 'constant-step', dw_min_std: 0.5 },
  'constant-step': { kind: 'constant-step', dw_min_std: 0 },
  'linear-step closed form': { kind: 'linear-step', dw_min_std: 0.3, gamma_up: 0.4, gamma_down: 0.2 },
};

test(
  'range updates: one kernel call per range gives the bits of updateVector one by one and of the TypeScript tile',
  { skip },
  () => {
    for (const [name, device] of Object.entries(RANGE_DEVICES)) {
      for (const [rows, cols] of [
        [16, 25],
        [32, 400],
        [9, 70],
      ] as Array<[number, number]>) {
        const cfg = resolveRunConfig({ device, update: { closed_form_pulses: name.includes('closed') } });
        const mk = (kernel: KernelChoice): AnalogTile =>
          new AnalogTile({
            rows,
            cols,
            device: cfg.device!,
            io: cfg.io!,
            update: cfg.update!,
            maxBatch: 4,
            seed: 11,
            name: 'r',
            kernel,
          });
        const ts = mk('typescript');
        const one = mk('wasm');
        const range = mk('wasm');
        const r = streamFor(2, `${name}${rows}`);
        for (let step = 0; step < 12; step++) {
          // few firing lines (small x, d: sparse rows) and many (BL up to 31); zeros; both signs of lr
          const batch = 1 + (step % 5) * 20;
          const scale = step % 3 === 0 ? 0.02 : 1;
          const x = sparseData(batch * cols, `x${step}`, step % 2 ? 0.7 : 0.1, step).map((v) => v * scale);
          const d = sparseData(batch * rows, `d${step}`, 0.5, step);
          const lr = (step % 4 === 3 ? -1 : 1) * (0.002 + 0.2 * r.uniform());
          for (let b = 0; b < batch; b++) ts.updateVector(x, b * cols, d, b * rows, lr);
          for (let b = 0; b < batch; b++) one.updateVector(x, b * cols, d, b * rows, lr);
          const cut = Math.floor(batch / 3);
          range.updateRange(x, d, 0, cut, lr);
          range.updateRange(x, d, cut, batch, lr);
          if (step % 4 === 1) {
            for (const t of [ts, one, range]) t.updateColumn(step % cols, d, -lr);
          }
        }
        assertSameTiles([ts, one, range], `${name} ${rows}x${cols}: TypeScript, updateVector, updateRange`);
      }
    }
  },
);

// ---- digital kernels -----------------------------------------------------------------------------

test('digital sgd and the mixed-precision accumulator: the kernels give the TypeScript loops bits', { skip }, () => {
  for (const [rows, cols] of [
    [16, 25],
    [10, 128],
    [7, 13],
    [33, 66],
  ] as Array<[number, number]>) {
    for (const zeros of [0, 0.8]) {
      const batch = 23;
      const x = sparseData(batch * cols, 'sx', zeros);
      const d = sparseData(batch * rows, 'sd', 0.3);
      const w0 = sparseData(rows * cols, 'sw', 0.05);
      const k = new KernelMatrix(module!, rows, cols, { maxBatch: batch, sgd: true, chi: true });
      k.weights.set(w0);
      const ref = Float32Array.from(w0);
      sgdUpdateReference(ref, rows, cols, x, d, batch, 0.37, new Int32Array(cols));
      k.sgdUpdate(x, d, batch, 0.37);
      assertSameBits(ref, k.weights, `sgd ${rows}x${cols} zeros ${zeros}`);
      const chiRef = new Float64Array(rows * cols);
      mpAccumulateReference(chiRef, rows, cols, x, d, 0, 9, 0.37);
      mpAccumulateReference(chiRef, rows, cols, x, d, 9, batch, -0.1);
      k.mpAccumulate(x, d, 0, 9, 0.37);
      k.mpAccumulate(x, d, 9, batch, -0.1);
      assertSameBits(chiRef, k.chi!, `mp ${rows}x${cols} zeros ${zeros}`);
    }
  }
});

// ---- composite reductions ------------------------------------------------------------------------

test(
  "the composite reductions: the kernels give the TypeScript loops' bits, -0, NaN and Inf included",
  { skip },
  () => {
    for (const [rows, cols] of [
      [16, 25],
      [7, 13],
      [33, 66],
    ] as Array<[number, number]>) {
      const n = rows * cols;
      // signed zeros, tiny and large values; then a NaN and an Inf among them
      const arrays = Array.from({ length: 8 }, (_, i) => sparseData(n, `c${i}`, 0.3, 11));
      arrays[1][3] = Number.NaN;
      arrays[4][n - 1] = Number.POSITIVE_INFINITY;
      arrays[2][5] = -0;
      arrays[3][5] = 0;
      for (const tiles of [1, 2, 4]) {
        const k = new KernelMatrix(module!, rows, cols, { maxBatch: 0, staging: 2 * tiles });
        const scales = Float64Array.from({ length: tiles }, (_, i) => 0.3 ** (tiles - 1 - i));
        const weights = arrays.slice(0, tiles);
        const refs = arrays.slice(4, 4 + tiles);
        weights.forEach((w, i) => k.staging[2 * i].set(w));
        refs.forEach((r, i) => k.staging[2 * i + 1].set(r));
        const ref = new Float32Array(n);
        residualSumReference(ref, weights, refs, scales);
        k.residualSum(scales);
        assertSameBits(ref, k.weights, `residual ${rows}x${cols}, ${tiles} tiles`);
      }
      for (const gamma of [0, 0.4, -1e-30]) {
        const k = new KernelMatrix(module!, rows, cols, { maxBatch: 0, staging: 3 });
        [0, 1, 2].forEach((i) => k.staging[i].set(arrays[i + 2]));
        const ref = new Float32Array(n);
        fastSlowSumReference(ref, arrays[2], arrays[3], arrays[4], gamma);
        k.fastSlowSum(gamma);
        assertSameBits(ref, k.weights, `fast-slow ${rows}x${cols}, gamma ${gamma}`);
      }
    }
  },
);

// ---- module kernels ------------------------------------------------------------------------------

/** A matrix that records nothing and returns fixed outputs (the module's own loops are under test). */
function fixedMatrix(rows: number, cols: number): TrainableMatrix {
  return {
    rows,
    cols,
    forward: (x, y, batch) => {
      for (let k = 0; k < batch * rows; k++) y[k] = x[k % (batch * cols)] * 0.5 - 0.125 * (k % 7);
    },
    backward: (d, z, batch) => {
      for (let k = 0; k < batch * cols; k++) z[k] = d[k % (batch * rows)] * 0.25 + 0.0625 * (k % 5);
    },
    update: () => {},
    readWeights: () => {},
    setWeights: () => {},
    pulseCounts: () => ({}),
    transferCounts: () => ({}),
    costCounts: () => ({ samples: 0, arraysRead: 0, slots: 0, pulses: 0, reads: 0, flops: 0, storedElements: 0 }),
  };
}

test('module kernels: conv, pooling and activations in a LayerSpace give the TypeScript loops bits', { skip }, () => {
  const maxBatch = 3;
  for (const shape of [
    { inChannels: 1, height: 28, width: 28, outChannels: 16, kernel: 5 },
    { inChannels: 3, height: 9, width: 7, outChannels: 5, kernel: 3 },
  ]) {
    const { inChannels, height, width, outChannels, kernel } = shape;
    const k2 = inChannels * kernel * kernel;
    const oh = height - kernel + 1;
    const ow = width - kernel + 1;
    const mapSize = outChannels * oh * ow;
    const pooled = outChannels * (oh >> 1) * (ow >> 1);
    const bytes =
      Conv2d.spaceBytes(shape, maxBatch, true) +
      MaxPool2.spaceBytes(outChannels, oh, ow, maxBatch, true) +
      2 * ActivationLayer.spaceBytes(mapSize, maxBatch, true) +
      arrayBytes(maxBatch * mapSize) +
      arrayBytes(maxBatch * pooled);
    const space = new LayerSpace(module!, bytes);
    // gradients that live in the space (the modules take the kernel path only for those)
    const gAct = space.f32(maxBatch * mapSize);
    const gPool = space.f32(maxBatch * pooled);
    const convRef = new Conv2d('c', shape, fixedMatrix(outChannels, k2), maxBatch, true, false);
    const conv = new Conv2d('c', shape, fixedMatrix(outChannels, k2), maxBatch, true, false, space);
    const acts = (['tanh', 'relu'] as const).map((kind) => ({
      kind,
      ref: new ActivationLayer(kind, mapSize, maxBatch, true),
      act: new ActivationLayer(kind, mapSize, maxBatch, true, space),
    }));
    const poolRef = new MaxPool2(outChannels, oh, ow, maxBatch, true);
    const pool = new MaxPool2(outChannels, oh, ow, maxBatch, true, space);
    for (const batch of [1, maxBatch]) {
      const x = sparseData(batch * inChannels * height * width, 'img', 0.3);
      conv.bias.set(sparseData(outChannels, 'bias', 0));
      convRef.bias.set(conv.bias);
      convRef.forward(x, batch);
      conv.forward(x, batch);
      assertSameBits(
        convRef.out.subarray(0, batch * conv.outSize),
        conv.out.subarray(0, batch * conv.outSize),
        `conv forward ${height}x${width} batch ${batch}`,
      );
      for (const { kind, ref: actRef, act } of acts) {
        actRef.forward(convRef.out, batch);
        act.forward(conv.out, batch);
        assertSameBits(
          actRef.out.subarray(0, batch * conv.outSize),
          act.out.subarray(0, batch * conv.outSize),
          `${kind} forward`,
        );
        const g = sparseData(batch * conv.outSize, 'g', 0.2);
        gAct.set(g);
        act.backward(gAct, batch);
        actRef.backward(g, batch);
        assertSameBits(actRef.gradIn!.subarray(0, g.length), act.gradIn!.subarray(0, g.length), `${kind} backward`);
      }
      poolRef.forward(convRef.out, batch);
      pool.forward(conv.out, batch);
      assertSameBits(
        poolRef.out.subarray(0, batch * pool.outSize),
        pool.out.subarray(0, batch * pool.outSize),
        'pool forward',
      );
      assert.deepEqual(
        Array.from(pool.argmax.subarray(0, batch * pool.outSize)),
        Array.from(poolRef.argmax.subarray(0, batch * pool.outSize)),
        'pool argmax',
      );
      const gp = sparseData(batch * pool.outSize, 'gp', 0.1);
      poolRef.backward(gp, batch);
      gPool.set(gp);
      pool.backward(gPool, batch);
      assertSameBits(
        poolRef.gradIn!.subarray(0, batch * pool.inSize),
        pool.gradIn!.subarray(0, batch * pool.inSize),
        'pool backward',
      );
      // conv backward from a gradient in the space, then the bias step
      convRef.backward(poolRef.gradIn!, batch);
      conv.backward(pool.gradIn!, batch);
      assertSameBits(
        convRef.gradIn!.subarray(0, batch * conv.inSize),
        conv.gradIn!.subarray(0, batch * conv.inSize),
        'conv backward',
      );
      convRef.update(0.3, batch);
      conv.update(0.3, batch);
      assertSameBits(convRef.bias, conv.bias, 'conv bias step');
    }
  }
});

test('tanh: the kernel gives float32(Math.tanh(x)) for float32 x of every exponent and both signs', { skip }, () => {
  const n = 1 << 20;
  const space = new LayerSpace(module!, 3 * (4 * n + 128));
  const x = space.f32(n);
  const y = space.f32(n);
  const xb = new Uint32Array(x.buffer, x.byteOffset, n);
  const r = streamFor(4, 'tanh');
  for (let k = 0; k < n; k++) xb[k] = r.nextU32();
  // edges: zeros, the thresholds of every path, 9.1, 22, huge, infinities, NaN, subnormals
  const edges = [
    0,
    -0,
    2 ** -28,
    3.725290298461914e-9,
    0.3465735902799727,
    0.5,
    0.5198603,
    1,
    1.0397208,
    9.0109,
    9.1,
    9.099999,
    22,
    1e30,
    Infinity,
    1e-45,
    Number.NaN,
  ];
  edges.forEach((v, k) => {
    x[2 * k] = v;
    x[2 * k + 1] = -v;
  });
  for (let k = 0; k < 4096; k++) x[64 + k] = Math.fround((k - 2048) / 256); // a dense grid over [-8, 8)
  space.fn.tanhForward(x.byteOffset, y.byteOffset, n, space.scratch);
  for (let k = 0; k < n; k++) {
    const ref = Math.fround(Math.tanh(x[k]));
    if (!Object.is(ref, y[k]) && !(Number.isNaN(ref) && Number.isNaN(y[k])))
      assert.fail(`tanh(${x[k]}): ${ref} vs ${y[k]}`);
  }
});
