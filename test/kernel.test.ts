/**
 * The WebAssembly pulse kernel against its TypeScript reference: for the same seed both paths
 * must leave bit-identical weights, pulse counts and random-stream positions, on every device the
 * kernel covers, on shapes that are not multiples of the kernel's 4- and 16-column groups, with
 * and without BL management, for positive and negative learning rates.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { KernelMode } from '../src/core/devices/base.ts';
import { kernelModule } from '../src/core/kernels/loader.ts';
import { type Rng, streamFor } from '../src/core/rng.ts';
import { AnalogTile } from '../src/core/tile.ts';
import { type KernelChoice, KERNEL_MIN_WEIGHTS } from '../src/core/kernels/loader.ts';
import { NO_VARIATION } from './helpers.ts';
import { kernelTestsSkip } from './kernel-required.ts';

const available = kernelModule() !== null;
const skip = kernelTestsSkip();

const DEVICES: Record<string, Record<string, unknown>> = {
  'constant-step': { kind: 'constant-step', ...NO_VARIATION },
  'constant-step dtod': { kind: 'constant-step', dw_min_std: 0, asymmetry: 0.1 },
  'constant-step noise dtod': { kind: 'constant-step', dw_min_std: 0.5 },
  softbounds: { kind: 'softbounds', dw_min_std: 0 },
  'softbounds additive': { kind: 'softbounds', dw_min_std: 0.3, mult_noise: false },
  'softbounds multiplicative': { kind: 'softbounds', dw_min_std: 0.3, mult_noise: true },
  'softbounds reference': {
    kind: 'softbounds',
    dw_min_std: 0.4,
    asymmetry: 0.2,
    reference_std: 0.1,
    subtract_symmetric_point: true,
  },
  'softbounds large noise': { kind: 'softbounds', dw_min_std: 3, n_states: 20, mult_noise: true },
  'linear-step': { kind: 'linear-step', dw_min_std: 0.3, gamma_up: 0.4, gamma_down: 0.2, mult_noise: true },
  'preset ecram': { preset: 'ecram' },
  'preset softbounds-papers': { preset: 'softbounds-papers' },
};

/** Devices run with update.closed_form_pulses (the closed-form rows, slow lanes included). */
const CLOSED_FORM: Record<string, Record<string, unknown>> = {
  'closed form constant-step noise dtod': { kind: 'constant-step', dw_min_std: 0.5, n_states: 40 },
  'closed form softbounds additive': { kind: 'softbounds', dw_min_std: 0.3, mult_noise: false, n_states: 30 },
  'closed form softbounds reference': {
    kind: 'softbounds',
    dw_min_std: 0.4,
    asymmetry: 0.2,
    reference_std: 0.1,
    subtract_symmetric_point: true,
  },
  'closed form linear-step': { kind: 'linear-step', dw_min_std: 2, gamma_up: 0.4, gamma_down: 0.2, n_states: 20 },
  'closed form capacitor': { preset: 'capacitor' },
};
const closedForm = (name: string): boolean => name in CLOSED_FORM;
const ALL_DEVICES = { ...DEVICES, ...CLOSED_FORM };

function tile(
  device: Record<string, unknown>,
  rows: number,
  cols: number,
  ublm: boolean,
  kernel: KernelChoice,
  seed = 5,
  closed = false,
): AnalogTile {
  const cfg = resolveRunConfig({ device, update: { update_bl_management: ublm, closed_form_pulses: closed } });
  return new AnalogTile({
    rows,
    cols,
    device: cfg.device!,
    io: cfg.io!,
    update: cfg.update!,
    maxBatch: 4,
    seed,
    name: 'k',
    kernel,
  });
}

function data(n: number, name: string, scale = 1): Float32Array {
  const r = streamFor(3, name);
  const a = new Float32Array(n);
  for (let k = 0; k < n; k++) a[k] = scale * (2 * r.uniform() - 1);
  return a;
}

const bits = (w: Float32Array): Uint32Array => new Uint32Array(w.buffer, w.byteOffset, w.length);
const pulseRng = (t: AnalogTile): Rng => (t as unknown as { pulseRng: Rng }).pulseRng;

/** Weights, pulses, the cost counters and both random streams of two tiles agree exactly. */
function assertSame(ts: AnalogTile, wasm: AnalogTile, what: string): void {
  const a = bits(ts.weights);
  const b = bits(wasm.weights);
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) assert.fail(`${what}: weight ${k} differs: ${ts.weights[k]} (TS) vs ${wasm.weights[k]} (WASM)`);
  }
  assert.equal(wasm.pulses, ts.pulses, `${what}: pulse counts`);
  assert.deepEqual([wasm.slots, wasm.updates], [ts.slots, ts.updates], `${what}: cost counters (pulse slots, updates)`);
  assert.deepEqual(pulseRng(wasm).state(), pulseRng(ts).state(), `${what}: pulse-train generator`);
  // the noise streams stand at the same normal (the buffers may hold different amounts ahead)
  const za = Float32Array.from({ length: 8 }, () => ts.device.noise.next());
  const zb = Float32Array.from({ length: 8 }, () => wasm.device.noise.next());
  assert.deepEqual(bits(zb), bits(za), `${what}: noise stream`);
}

test('the kernel gives bit-identical weights, pulses and streams to the TypeScript reference', { skip }, () => {
  const shapes: Array<[number, number]> = [
    [8, 8],
    [13, 7],
    [37, 50],
    [20, 33],
  ];
  for (const [name, device] of Object.entries(ALL_DEVICES)) {
    for (const [rows, cols] of shapes) {
      for (const ublm of [true, false]) {
        const ts = tile(device, rows, cols, ublm, 'typescript', 5, closedForm(name));
        const wasm = tile(device, rows, cols, ublm, 'wasm', 5, closedForm(name));
        assert.equal(wasm.kernel, 'wasm');
        assert.equal(ts.kernel, 'typescript');
        const before = Float32Array.from(ts.weights);
        const x = data(4 * cols, 'x');
        const d = data(4 * rows, 'd', 0.7);
        for (const lr of [0.01, 0.05, -0.02, 0.001, 0.3]) {
          for (const t of [ts, wasm]) {
            t.updateBatch(x, d, 4, lr);
            t.updateVector(x, cols, d, 2 * rows, lr / 3);
          }
          assertSame(ts, wasm, `${name} ${rows}x${cols} BL mgmt ${ublm ? 'on' : 'off'} lr ${lr}`);
        }
        assert.ok(ts.pulses > 0 && ts.weights.some((v, k) => v !== before[k]), `${name}: the updates moved weights`);
      }
    }
  }
});

test('kernel and reference stay identical across column updates, programming and single pulses', { skip }, () => {
  for (const name of [
    'softbounds multiplicative',
    'constant-step noise dtod',
    'linear-step',
    'closed form softbounds additive',
    'closed form constant-step noise dtod',
  ]) {
    const [rows, cols] = [11, 19];
    const ts = tile(ALL_DEVICES[name], rows, cols, true, 'typescript', 9, closedForm(name));
    const wasm = tile(ALL_DEVICES[name], rows, cols, true, 'wasm', 9, closedForm(name));
    const w0 = data(rows * cols, 'w0', 0.5);
    const x = data(cols, 'x1');
    const d = data(rows, 'd1');
    for (const t of [ts, wasm]) {
      t.setWeights(w0);
      for (let r = 0; r < 30; r++) {
        t.updateVector(x, 0, d, 0, 0.02);
        t.updateColumn(r % cols, d, -0.05);
        // a TypeScript consumer of the same noise stream in between (as the transfer writes do)
        t.device.applyPulses(t.weights, (7 * r) % (rows * cols), r % 2 ? 3 : -2);
      }
    }
    assertSame(ts, wasm, name);
  }
});

test('the kernel-side refill of the normal stream, rare tail included, matches the reference', { skip }, () => {
  // 600k normals: the ziggurat's base-strip tail (|z| > 4.04, through the JavaScript import)
  // and thousands of wedge rejections run on both sides
  const ts = tile(DEVICES['softbounds additive'], 8, 8, true, 'typescript', 21);
  const wasm = tile(DEVICES['softbounds additive'], 8, 8, true, 'wasm', 21);
  let tails = 0;
  for (let k = 0; k < 600_000; k++) {
    const a = ts.device.noise.next();
    const b = wasm.device.noise.next();
    if (Math.fround(a) !== Math.fround(b) || Object.is(a, -0) !== Object.is(b, -0))
      assert.fail(`normal ${k}: ${a} vs ${b}`);
    if (Math.abs(a) > 4.04) tails++;
  }
  assert.ok(tails > 5, `only ${tails} tail normals`);
});

test(
  'auto dispatch: the kernel where it applies, the TypeScript path elsewhere; typescript forces the ' + 'reference',
  () => {
    const big = 16;
    const expect = available ? 'wasm' : 'typescript';
    assert.equal(tile(DEVICES['softbounds additive'], big, big, true, 'auto').kernel, expect);
    assert.equal(tile(DEVICES['constant-step'], big, big, true, 'auto').kernel, expect);
    assert.equal(tile(DEVICES['softbounds additive'], big, big, true, 'typescript').kernel, 'typescript');
    // small tiles, other families and write noise stay in TypeScript
    assert.ok(3 * 4 < KERNEL_MIN_WEIGHTS);
    assert.equal(tile(DEVICES['softbounds additive'], 3, 4, true, 'auto').kernel, 'typescript');
    for (const device of [
      { kind: 'exp-step' },
      { kind: 'pow' },
      { kind: 'ideal' },
      { kind: 'softbounds', write_noise_std: 1 },
    ]) {
      const t = tile(device, big, big, true, 'auto');
      assert.equal(t.kernel, 'typescript', JSON.stringify(device));
      assert.equal(t.device.kernelMode(), KernelMode.none);
      if (available) assert.throws(() => tile(device, big, big, true, 'wasm'), /no kernel/);
    }
    if (!available) assert.throws(() => tile(DEVICES['softbounds additive'], big, big, true, 'wasm'), /not available/);
  },
);

test('a kernel tile keeps its public arrays in place: weights and device arrays are live views', { skip }, () => {
  const t = tile(DEVICES['softbounds additive'], 9, 10, true, 'wasm');
  const { weights } = t;
  const bMax = t.device.bMax;
  t.setWeights(new Float32Array(90).fill(0.25));
  assert.equal(t.weights, weights);
  assert.ok(weights.every((v, k) => v === Math.min(Math.fround(0.25), bMax[k])));
  t.weights.fill(0);
  t.updateBatch(data(4 * 10, 'x2'), data(4 * 9, 'd2'), 4, 0.05);
  assert.ok(
    t.weights.some((v) => v !== 0),
    'the kernel pulsed the same array the caller sees',
  );
  for (let k = 0; k < 90; k++) assert.ok(weights[k] <= bMax[k] && weights[k] >= t.device.bMin[k]);
});
