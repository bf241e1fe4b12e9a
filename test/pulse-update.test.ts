import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { PulseSchedule, UPDATE_DEFAULTS } from '../src/core/pulse-trains.ts';
import { kernelModule } from '../src/core/kernels/loader.ts';
import { AnalogTile } from '../src/core/tile.ts';
import type { KernelChoice } from '../src/core/kernels/loader.ts';
import { deviceParams, NO_VARIATION } from './helpers.ts';

/** Both implementations of the update (bit-identical, test/kernel.test.ts), when the kernel is built. */
const KERNELS: KernelChoice[] = kernelModule() === null ? ['typescript'] : ['typescript', 'wasm'];

/**
 * A tile whose device is an exact constant step with huge bounds: its E[dW] is exactly -lr d x^T (docs/science.md §6).
 */
function linearTile(dwMin: number, seed: number, update = UPDATE_DEFAULTS, kernel: KernelChoice = 'auto'): AnalogTile {
  const cfg = resolveRunConfig({});
  return new AnalogTile({
    rows: 3,
    cols: 4,
    device: deviceParams({ kind: 'constant-step', dw_min: dwMin, w_min: -1000, w_max: 1000, ...NO_VARIATION }),
    io: cfg.io!,
    update,
    maxBatch: 1,
    seed,
    name: 'stats',
    kernel,
  });
}

const x = Float32Array.of(1, -0.5, 0.25, 0.8);
const d = Float32Array.of(0.6, -1, 0.3);
const lr = 0.01;

/** Mean and variance of dW over `reps` independent updates starting from zero. */
function dwStats(
  dwMin: number,
  reps: number,
  update = UPDATE_DEFAULTS,
  kernel: KernelChoice = 'auto',
): { mean: Float64Array; variance: Float64Array } {
  const tile = linearTile(dwMin, 99, update, kernel);
  const n = tile.weights.length;
  const s1 = new Float64Array(n);
  const s2 = new Float64Array(n);
  for (let r = 0; r < reps; r++) {
    tile.weights.fill(0);
    tile.updateVector(x, 0, d, 0, lr);
    for (let k = 0; k < n; k++) {
      s1[k] += tile.weights[k];
      s2[k] += tile.weights[k] ** 2;
    }
  }
  const mean = s1.map((v) => v / reps);
  const variance = s2.map((v, k) => Math.max(0, (v - reps * mean[k] ** 2) / (reps - 1)));
  return { mean, variance };
}

test('the mean pulsed dW matches -lr d x^T within 4 standard errors', () => {
  const reps = 40_000;
  for (const update of [UPDATE_DEFAULTS, { ...UPDATE_DEFAULTS, update_bl_management: false }]) {
    for (const kernel of KERNELS) {
      const { mean, variance } = dwStats(0.001, reps, update, kernel);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 4; j++) {
          const k = i * 4 + j;
          const expected = -lr * d[i] * x[j];
          const se = Math.sqrt(variance[k] / reps);
          assert.ok(
            Math.abs(mean[k] - expected) < 4 * se + 1e-8,
            `${kernel} (${i},${j}): ${mean[k]} vs ${expected} (se ${se})`,
          );
        }
      }
    }
  }
});

test('the variance of dW grows linearly with dw_min (about lr |d x| dw_min)', () => {
  const reps = 20_000;
  const small = dwStats(0.0005, reps).variance;
  const large = dwStats(0.002, reps).variance;
  for (let k = 0; k < small.length; k++) {
    // the largest |d_i x_j| fires in every slot with probability 1: no variance to compare
    if (k === 1 * 4 + 0) {
      assert.ok(small[k] < 1e-12 && large[k] < 1e-12);
      continue;
    }
    const ratio = large[k] / small[k];
    assert.ok(ratio > 3.2 && ratio < 4.8, `weight ${k}: variance ratio ${ratio} for 4x dw_min`);
  }
  // magnitude: Var = lr |d_i x_j| dw_min (1 - lr |d_i x_j| / (BL dw_min)) for the unsaturated case
  const i = 2;
  const j = 2;
  const v = large[i * 4 + j];
  const ideal = lr * Math.abs(d[i] * x[j]) * 0.002;
  assert.ok(v > 0.5 * ideal && v < 1.2 * ideal, `variance ${v} vs about ${ideal}`);
});

test('BL management: BL = min(ceil(k), desired_bl) and balanced probabilities', () => {
  const s = new PulseSchedule();
  // k = lr xmax dmax / g = 0.01 * 1 * 0.5 / 0.001 = 5
  s.plan(0.01, 0.001, 1, 0.5, UPDATE_DEFAULTS);
  assert.equal(s.bl, 5);
  // with update management p_x(xmax) = p_d(dmax) = sqrt(k / BL) = 1
  assert.ok(Math.abs(s.b * 1 - 1) < 1e-12 && Math.abs(s.a * 0.5 - 1) < 1e-12);
  // expected coincidences of the largest element = BL p_x p_d = k
  s.plan(0.002, 0.001, 2, 0.3, UPDATE_DEFAULTS); // k = 1.2 -> BL 2
  assert.equal(s.bl, 2);
  assert.ok(Math.abs(s.bl * (s.b * 2) * (s.a * 0.3) - 1.2) < 1e-12);
  // k above desired_bl: BL = desired and d saturates (gradient clipping on the d side)
  s.plan(1, 0.001, 1, 1, UPDATE_DEFAULTS);
  assert.equal(s.bl, 31);
  assert.ok(Math.abs(s.b - 1) < 1e-12, 'x side at probability 1');
  // without BL management BL is always desired_bl
  s.plan(0.01, 0.001, 1, 0.5, { ...UPDATE_DEFAULTS, update_bl_management: false });
  assert.equal(s.bl, 31);
  // without any management A = B = sqrt(lr / (g BL))
  s.plan(0.01, 0.001, 1, 0.5, {
    ...UPDATE_DEFAULTS,
    update_bl_management: false,
    update_management: false,
    desired_bl: 10,
  });
  assert.ok(Math.abs(s.a - 1) < 1e-12 && Math.abs(s.b - 1) < 1e-12);
  // nothing to do: zero lr or zero vectors
  s.plan(0, 0.001, 1, 1, UPDATE_DEFAULTS);
  assert.equal(s.bl, 0);
  s.plan(0.1, 0.001, 0, 1, UPDATE_DEFAULTS);
  assert.equal(s.bl, 0);
});

test('BL management caps the coincidences of one weight at BL pulses', () => {
  const tile = linearTile(0.001, 5);
  tile.updateVector(x, 0, d, 0, 0.01); // k = 0.01 * 1 * 1 / 0.001 = 10 -> BL = 10
  for (const v of tile.weights) assert.ok(Math.abs(v) <= 10 * 0.001 + 1e-9);
  assert.ok(tile.pulses > 0 && tile.pulses <= 10 * 12);
});

test('a negative learning rate reverses the update direction', () => {
  const reps = 5000;
  const tile = linearTile(0.001, 8);
  let sum = 0;
  for (let r = 0; r < reps; r++) {
    tile.weights.fill(0);
    tile.updateVector(x, 0, d, 0, -lr);
    sum += tile.weights[0];
  }
  assert.ok(Math.abs(sum / reps - lr * d[0] * x[0]) < 3e-4);
});

test('column update touches only its column; column read returns W e_k', () => {
  const tile = linearTile(0.001, 6);
  tile.setWeights(Float32Array.from({ length: 12 }, (_, k) => k / 10));
  const col = new Float32Array(3);
  tile.readColumn(2, col);
  assert.deepEqual([...col], [0.2, 0.6, 1].map(Math.fround));
  const before = Float32Array.from(tile.weights);
  tile.updateColumn(1, Float32Array.of(-1, 1, 0.5), 0.01);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 4; j++) if (j !== 1) assert.equal(tile.weights[i * 4 + j], before[i * 4 + j]);
  }
  assert.ok(tile.weights[1] > before[1] && tile.weights[5] < before[5]);
});
