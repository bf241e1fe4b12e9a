import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { Conv2d, Dense, MaxPool2 } from '../src/core/models/layers.ts';
import { buildModel, type Network, softmaxNll } from '../src/core/models/index.ts';
import { streamFor } from '../src/core/rng.ts';

/** A resolved config of a classification run (no data is read to resolve it). */
function config(model: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return resolveRunConfig({ task: { kind: 'mnist', train_size: 100, test_size: 10 }, model, ...extra });
}

function randomInputs(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  streamFor(seed, 'test-inputs').fillUniform(x);
  return x;
}

/** Mean NLL of the batch, in double precision from the network's float32 logits. */
function meanLoss(net: Network, x: Float32Array, labels: Int32Array, batch: number): number {
  return softmaxNll(net.forward(x, batch), labels, batch, net.classes, null, { correct: 0 }) / batch;
}

/**
 * Analytic gradients of every layer (read off one update at lr = 1, then undone) against
 * central finite differences of the loss on a sample of weights and biases per layer.
 */
function gradientCheck(
  net: Network,
  x: Float32Array,
  labels: Int32Array,
  batch: number,
  perLayer: number,
): { worst: number; checked: number } {
  const grad = new Float32Array(batch * net.classes);
  const before = net.layers.map((l) => {
    const w = new Float32Array(l.matrix.rows * l.matrix.cols);
    l.matrix.readWeights(w);
    return { w, b: Float32Array.from(l.bias) };
  });
  softmaxNll(net.forward(x, batch), labels, batch, net.classes, grad, { correct: 0 });
  net.backward(grad, batch);
  net.update(1, batch);
  const analytic = net.layers.map((l, k) => {
    const w = new Float32Array(l.matrix.rows * l.matrix.cols);
    l.matrix.readWeights(w);
    const gw = w.map((v, i) => before[k].w[i] - v);
    const gb = l.bias.map((v, i) => before[k].b[i] - v);
    l.matrix.setWeights(before[k].w);
    l.bias.set(before[k].b);
    return { gw, gb };
  });
  // Max pooling makes the loss piecewise smooth: a difference quotient is only compared where
  // no pooling window changes its winner between w - h and w + h (else h shrinks; a parameter
  // that never gets a smooth step is skipped, and the skips are counted).
  const pools = net.modules.filter((m): m is MaxPool2 => m instanceof MaxPool2);
  const pattern = (): string => pools.map((m) => m.argmax.subarray(0, batch * m.outSize).join(',')).join('|');
  meanLoss(net, x, labels, batch);
  const base = pattern();
  const rng = streamFor(1, 'gradient-check');
  let worst = 0;
  let checked = 0;
  let skipped = 0;
  /** Central difference of the loss in one parameter, set through `set` (which returns the value stored). */
  const difference = (set: (v: number) => number, v0: number): number | null => {
    for (const h of [1e-3, 4e-4]) {
      const up = set(v0 + h);
      const lp = meanLoss(net, x, labels, batch);
      const pUp = pattern();
      const down = set(v0 - h);
      const lm = meanLoss(net, x, labels, batch);
      const pDown = pattern();
      set(v0);
      if (pUp === base && pDown === base) return (lp - lm) / (up - down);
    }
    skipped++;
    return null;
  };
  const compare = (an: number, fd: number | null, what: string): void => {
    if (fd === null) return;
    const err = Math.abs(an - fd) / (1e-4 + 1e-2 * Math.abs(fd));
    assert.ok(err <= 1, `${what}: analytic ${an} vs finite difference ${fd}`);
    worst = Math.max(worst, err);
    checked++;
  };
  net.layers.forEach((l, k) => {
    const w = Float32Array.from(before[k].w);
    const setWeight =
      (i: number) =>
      (v: number): number => {
        w[i] = v;
        l.matrix.setWeights(w);
        return w[i];
      };
    const setBias =
      (i: number) =>
      (v: number): number => {
        l.bias[i] = v;
        return l.bias[i];
      };
    for (let t = 0; t < perLayer; t++) {
      const i = rng.int(w.length);
      compare(analytic[k].gw[i], difference(setWeight(i), w[i]), `${l.name} weight ${i}`);
    }
    for (let t = 0; t < Math.min(3, l.bias.length); t++) {
      const i = rng.int(l.bias.length);
      compare(analytic[k].gb[i], difference(setBias(i), l.bias[i]), `${l.name} bias ${i}`);
    }
  });
  assert.ok(skipped <= checked / 5, `${skipped} parameters without a smooth step, ${checked} checked`);
  return { worst, checked };
}

const act = (kind: string, v: number): number =>
  kind === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : kind === 'tanh' ? Math.tanh(v) : Math.max(v, 0);

function weightsOf(net: Network): Float64Array[] {
  return net.layers.map((l) => {
    const w = new Float32Array(l.matrix.rows * l.matrix.cols);
    l.matrix.readWeights(w);
    return Float64Array.from(w);
  });
}

/** Plain double-precision MLP forward of one sample. */
function referenceMlp(net: Network, x: Float32Array, activation: string): number[] {
  const ws = weightsOf(net);
  let h = Array.from(x);
  net.layers.forEach((l, k) => {
    const out: number[] = [];
    for (let i = 0; i < l.matrix.rows; i++) {
      let s = l.bias[i];
      for (let j = 0; j < l.matrix.cols; j++) s += ws[k][i * l.matrix.cols + j] * h[j];
      out.push(k < net.layers.length - 1 ? act(activation, s) : s);
    }
    h = out;
  });
  return h;
}

/** Plain LeNet-5 forward of one 1-channel image (direct convolution, PyTorch layouts). */
function referenceLenet(net: Network, x: Float32Array, size: number, activation: string): number[] {
  const ws = weightsOf(net);
  const conv = (input: number[][][], k: number): number[][][] => {
    const l = net.layers[k];
    const inC = input.length;
    const oh = input[0].length - 4;
    const ow = input[0][0].length - 4;
    const out: number[][][] = [];
    for (let o = 0; o < l.matrix.rows; o++) {
      const plane: number[][] = [];
      for (let i = 0; i < oh; i++) {
        const row: number[] = [];
        for (let j = 0; j < ow; j++) {
          let s = l.bias[o];
          for (let c = 0; c < inC; c++)
            for (let a = 0; a < 5; a++)
              for (let b = 0; b < 5; b++) s += ws[k][o * l.matrix.cols + (c * 5 + a) * 5 + b] * input[c][i + a][j + b];
          row.push(act(activation, s));
        }
        plane.push(row);
      }
      out.push(plane);
    }
    return out;
  };
  const pool = (input: number[][][]): number[][][] =>
    input.map((p) =>
      Array.from({ length: p.length >> 1 }, (_, i) =>
        Array.from({ length: p[0].length >> 1 }, (_, j) =>
          Math.max(p[2 * i][2 * j], p[2 * i][2 * j + 1], p[2 * i + 1][2 * j], p[2 * i + 1][2 * j + 1]),
        ),
      ),
    );
  const img = [Array.from({ length: size }, (_, i) => Array.from(x.subarray(i * size, (i + 1) * size)))];
  const feat = pool(conv(pool(conv(img, 0)), 1))
    .flat(2)
    .map((v) => act(activation, v));
  const dense = (h: number[], k: number, last: boolean): number[] => {
    const l = net.layers[k];
    return Array.from({ length: l.matrix.rows }, (_, i) => {
      let s = l.bias[i];
      for (let j = 0; j < l.matrix.cols; j++) s += ws[k][i * l.matrix.cols + j] * h[j];
      return last ? s : act(activation, s);
    });
  };
  return dense(dense(feat, 2, false), 3, true);
}

for (const activation of ['sigmoid', 'tanh', 'relu'] as const) {
  test(`MLP (${activation}): forward matches a double-precision reference, gradients match finite differences`, () => {
    const cfg = config({ kind: 'mlp', hidden: [7, 5], activation, init_scale: 2 }, { algorithm: 'sgd' });
    const batch = 3;
    const net = buildModel(cfg, { channels: 1, height: 3, width: 4 }, 4, batch);
    assert.deepEqual(
      net.layers.map((l) => [l.name, l.matrix.rows, l.matrix.cols]),
      [
        ['fc0', 7, 12],
        ['fc1', 5, 7],
        ['fc2', 4, 5],
      ],
    );
    const x = randomInputs(batch * 12, 3);
    const logits = net.forward(x, batch);
    for (let b = 0; b < batch; b++) {
      const ref = referenceMlp(net, x.subarray(b * 12, (b + 1) * 12), activation);
      ref.forEach((v, c) =>
        assert.ok(Math.abs(v - logits[b * 4 + c]) < 1e-5, `sample ${b} class ${c}: ${logits[b * 4 + c]} vs ${v}`),
      );
    }
    const { checked } = gradientCheck(net, x, Int32Array.of(0, 3, 1), batch, 12);
    assert.ok(checked >= 40);
  });
}

test(
  'LeNet-5: layer shapes, forward matches a direct convolution (28x28), gradients match finite differences ' +
    '(16x16)',
  () => {
    const cfg = config({ kind: 'lenet5' }, { algorithm: 'sgd' });
    assert.equal(cfg.model?.activation, 'tanh');
    const batch = 2;
    const net = buildModel(cfg, { channels: 1, height: 28, width: 28 }, 10, batch);
    assert.deepEqual(
      net.layers.map((l) => [l.name, l.matrix.rows, l.matrix.cols]),
      [
        ['conv0', 16, 25],
        ['conv1', 32, 400],
        ['fc2', 128, 512],
        ['fc3', 10, 128],
      ],
    );
    assert.equal((net.layers[0] as Conv2d).patches, 576);
    assert.equal((net.layers[1] as Conv2d).patches, 64);
    const x = randomInputs(batch * 784, 5);
    const logits = Float32Array.from(net.forward(x, batch));
    for (let b = 0; b < batch; b++) {
      const ref = referenceLenet(net, x.subarray(b * 784, (b + 1) * 784), 28, 'tanh');
      ref.forEach((v, c) =>
        assert.ok(Math.abs(v - logits[b * 10 + c]) < 1e-5, `image ${b} class ${c}: ${logits[b * 10 + c]} vs ${v}`),
      );
    }
    // gradients on the smallest input LeNet-5 takes (16x16: conv 12x12, pool 6x6, conv 2x2, pool
    // 1x1), where few max-pool windows sit near a tie within the finite-difference step
    const small = buildModel(cfg, { channels: 1, height: 16, width: 16 }, 10, batch);
    assert.deepEqual(
      small.layers.map((l) => [l.name, l.matrix.rows, l.matrix.cols]),
      [
        ['conv0', 16, 25],
        ['conv1', 32, 400],
        ['fc2', 128, 32],
        ['fc3', 10, 128],
      ],
    );
    const { checked } = gradientCheck(small, randomInputs(batch * 256, 6), Int32Array.of(7, 2), batch, 12);
    assert.ok(checked >= 50);
  },
);

test("weight layers use the run's algorithm except digital_layers; pulses are keyed by layer", () => {
  const cfg = config(
    { kind: 'mlp', hidden: [6], digital_layers: [1] },
    { device: { kind: 'constant-step', n_states: 100 }, lr: 0.5 },
  );
  const net = buildModel(cfg, { channels: 1, height: 2, width: 5 }, 3, 4);
  assert.deepEqual(
    net.layers.map((l) => l.digital),
    [false, true],
  );
  const x = randomInputs(4 * 10, 9);
  const grad = new Float32Array(4 * 3);
  softmaxNll(net.forward(x, 4), Int32Array.of(0, 1, 2, 0), 4, 3, grad, { correct: 0 });
  net.backward(grad, 4);
  net.update(0.5, 4);
  const pulses = net.pulseCounts();
  assert.deepEqual(Object.keys(pulses), ['fc0/W']);
  assert.ok(pulses['fc0/W'] > 0);
  assert.ok(net.layers[1] instanceof Dense);
});

test("initial weights: uniform within init_scale / sqrt(fan_in), from the layer's own stream", () => {
  const cfg = config({ kind: 'mlp', hidden: [50], init_scale: 0.5 }, { algorithm: 'sgd' });
  const a = buildModel(cfg, { channels: 1, height: 10, width: 10 }, 10, 1);
  const b = buildModel(
    config({ kind: 'mlp', hidden: [50, 20], init_scale: 0.5 }, { algorithm: 'sgd' }),
    { channels: 1, height: 10, width: 10 },
    10,
    1,
  );
  const wa = a.readParameters();
  const bound = 0.5 / Math.sqrt(100);
  const fc0 = wa.subarray(0, 50 * 100);
  assert.ok(fc0.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...fc0) > 0.95 * bound && Math.min(...fc0) < -0.95 * bound);
  // fc0 does not depend on what comes after it
  assert.deepEqual(b.readParameters().subarray(0, 50 * 100 + 50), wa.subarray(0, 50 * 100 + 50));
});

test('softmaxNll: loss, gradient and accuracy of a known batch', () => {
  const logits = Float32Array.of(0, 0, Math.log(2), 1, 1, 1);
  const grad = new Float32Array(6);
  const stats = { correct: 0 };
  const loss = softmaxNll(logits, Int32Array.of(2, 0), 2, 3, grad, stats);
  assert.ok(Math.abs(loss - (Math.log(4) - Math.log(2) + Math.log(3))) < 1e-6);
  assert.equal(stats.correct, 2); // ties: the first maximum wins
  const expect = [0.25 / 2, 0.25 / 2, (0.5 - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6];
  expect.forEach((v, k) => assert.ok(Math.abs(grad[k] - v) < 1e-7));
});
