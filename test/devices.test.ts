import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../src/core/config/schema.ts';
import { createDevice } from '../src/core/devices/index.ts';
import { DEVICE_KINDS, DEVICE_PRESETS } from '../src/core/devices/params.ts';
import { streamFor } from '../src/core/rng.ts';
import { deviceParams, mean, NO_VARIATION, variance } from './helpers.ts';

function build(device: Record<string, unknown>, size = 1, seed = 1) {
  const p = deviceParams(device);
  return { p, dev: createDevice(p, size, streamFor(seed, 'var'), streamFor(seed, 'noise')) };
}

for (const kind of ['ideal', 'constant-step'] as const) {
  test(`${kind}: a noise-free device with K states walks w_min -> w_max in K (+-1) up pulses`, () => {
    for (const K of [4, 10, 16, 80]) {
      const extra = kind === 'ideal' ? {} : NO_VARIATION;
      const { p, dev } = build({ kind, n_states: K, ...extra });
      const w = Float32Array.of(p.w_min);
      let pulses = 0;
      while (w[0] < p.w_max - 1e-6 && pulses < 10 * K) {
        dev.applyPulses(w, 0, 1);
        pulses++;
      }
      assert.ok(Math.abs(pulses - K) <= 1, `K=${K}: ${pulses} pulses`);
      dev.applyPulses(w, 0, 5);
      assert.equal(w[0], Math.fround(p.w_max), 'clipped at w_max');
    }
  });
}

test('ideal device stays exactly on its grid of n_states + 1 levels', () => {
  const { dev } = build({ kind: 'ideal', n_states: 8 }, 4);
  const w = new Float32Array(4);
  dev.program(w, [0.3, -0.9, 0.11, 2]);
  assert.deepEqual([...w], [0.25, -1, 0, 1]);
  dev.applyPulses(w, 0, 3);
  dev.applyPulses(w, 1, -2);
  assert.deepEqual([...w], [1, -1, 0, 1]);
});

test('softbounds approaches its bound but never crosses it, along b - (b - w0)(1 - dw/b)^n', () => {
  const { p, dev } = build({ kind: 'softbounds', n_states: 100, ...NO_VARIATION });
  const w = Float32Array.of(p.w_min);
  const b = p.w_max;
  const a = p.dw_min / b;
  let prev = w[0];
  for (let n = 1; n <= 2000; n++) {
    dev.applyPulses(w, 0, 1);
    assert.ok(w[0] <= b, `crossed at pulse ${n}`);
    assert.ok(w[0] >= prev, 'monotone');
    prev = w[0];
    if (n === 50 || n === 300) {
      const expected = b - (b - p.w_min) * (1 - a) ** n;
      assert.ok(Math.abs(w[0] - expected) < 1e-4, `n=${n}: ${w[0]} vs ${expected}`);
    }
  }
  assert.ok(w[0] > b - 1e-3, 'close to the bound after many pulses');
});

test('the symmetric point of random +/- pulsing matches the closed form', () => {
  const cases: Array<[Record<string, unknown>, number]> = [
    [{ kind: 'softbounds', asymmetry: 0.3 }, 0.3], // c * tau
    [{ kind: 'softbounds', asymmetry: -0.2, w_min: -0.5, w_max: 0.5 }, -0.1],
    // pow: ((1 - w)/(1 + w))^g = (1 - c)/(1 + c)
    [{ kind: 'pow', asymmetry: 0.2, gamma_res: 2 }, (1 - Math.sqrt(0.8 / 1.2)) / (1 + Math.sqrt(0.8 / 1.2))],
    [
      { kind: 'linear-step', asymmetry: 0.1, gamma_up: 0.5, gamma_down: 0.5, gamma_up_dtod: 0, gamma_down_dtod: 0 },
      (2 * 0.1) / 0.5 / 2,
    ],
  ];
  for (const [cfg, closed] of cases) {
    const { dev } = build({ ...cfg, n_states: 200, ...NO_VARIATION });
    assert.ok(
      Math.abs(dev.symmetricPoint(0) - closed) < 1e-4,
      `${JSON.stringify(cfg)}: bisection ${dev.symmetricPoint(0)} vs ${closed}`,
    );
    const w = Float32Array.of(0);
    const rng = streamFor(5, 'coin');
    const visits: number[] = [];
    for (let k = 0; k < 60_000; k++) {
      dev.applyPulses(w, 0, rng.uniform() < 0.5 ? 1 : -1);
      if (k > 20_000) visits.push(w[0]);
    }
    assert.ok(Math.abs(mean(visits) - closed) < 0.02, `${JSON.stringify(cfg)}: empirical ${mean(visits)} vs ${closed}`);
  }
});

test('zero variation gives zero spread; non-zero variation spreads as configured', () => {
  const n = 20_000;
  const flat = build({ kind: 'softbounds', ...NO_VARIATION }, n).dev;
  for (const arr of [flat.sUp, flat.sDown, flat.bMax, flat.bMin]) assert.equal(variance(arr), 0);
  const spread = build(
    { kind: 'softbounds', dw_min_dtod: 0.2, up_down_dtod: 0, w_max_dtod: 0.1, w_min_dtod: 0.1 },
    n,
  ).dev;
  const rel = Math.sqrt(variance(spread.sUp)) / mean(spread.sUp);
  assert.ok(Math.abs(rel - 0.2) < 0.01, `step spread ${rel}`);
  assert.ok(Math.abs(Math.sqrt(variance(spread.bMax)) - 0.1) < 0.005);
});

test('cycle-to-cycle noise: single-step std is dw_min_std * dw_min (additive) and zero when off', () => {
  const { dev } = build({ kind: 'constant-step', dw_min: 0.01, ...NO_VARIATION, dw_min_std: 0.5 }, 1);
  const steps: number[] = [];
  const w = new Float32Array(1);
  for (let k = 0; k < 20_000; k++) {
    w[0] = 0;
    dev.applyPulses(w, 0, 1);
    steps.push(w[0]);
  }
  assert.ok(Math.abs(mean(steps) - 0.01) < 2e-4);
  assert.ok(Math.abs(Math.sqrt(variance(steps)) - 0.005) < 2e-4);
});

test('every device family clips to its bounds, with noise and variation', () => {
  for (const kind of DEVICE_KINDS) {
    const extra = kind === 'ideal' ? {} : { dw_min_std: 1, write_noise_std: 0 };
    const { dev } = build({ kind, n_states: 8, ...extra }, 64, 3);
    const w = new Float32Array(64);
    for (let k = 0; k < 64; k++) {
      dev.applyPulses(w, k, 40);
      assert.ok(
        w[k] <= dev.bMax[k] && w[k] >= dev.bMin[k],
        `${kind} up: ${w[k]} not in [${dev.bMin[k]}, ${dev.bMax[k]}]`,
      );
      dev.applyPulses(w, k, -80);
      assert.ok(w[k] <= dev.bMax[k] && w[k] >= dev.bMin[k], `${kind} down: ${w[k]}`);
    }
  }
});

test('write noise perturbs the visible weight around the hidden one', () => {
  const { dev } = build({ kind: 'softbounds', dw_min: 0.01, ...NO_VARIATION, write_noise_std: 2 }, 5000);
  const w = new Float32Array(5000);
  for (let k = 0; k < 5000; k++) dev.applyPulses(w, k, 1);
  assert.ok(dev.hidden !== null);
  const diff = Array.from(w, (v, k) => v - (dev.hidden as Float32Array)[k]);
  assert.ok(Math.abs(Math.sqrt(variance(diff)) - 0.02) < 0.002);
});

test('softbounds reference with subtract_symmetric_point puts each symmetric point at w = 0', () => {
  const { dev } = build(
    {
      kind: 'softbounds',
      asymmetry: 0.2,
      dw_min_dtod: 0.2,
      up_down_dtod: 0.05,
      reference_std: 0,
      subtract_symmetric_point: true,
    },
    50,
  );
  for (let k = 0; k < 50; k++) assert.ok(Math.abs(dev.symmetricPoint(k)) < 1e-5);
});

test('presets resolve, and their fields can be overridden one by one', () => {
  for (const name of Object.keys(DEVICE_PRESETS)) {
    const p = deviceParams({ preset: name });
    assert.equal(p.kind, DEVICE_PRESETS[name].kind);
    const dev = createDevice(p, 16, streamFor(1, 'v'), streamFor(1, 'n'));
    assert.ok(dev.granularity > 0, `${name} granularity`);
  }
  const gv = deviceParams({ preset: 'gokmen-vlasov', dw_min_std: 0 });
  assert.equal(gv.dw_min_std, 0);
  assert.equal(gv.dw_min, 0.0016);
  assert.equal(deviceParams({ preset: 'gokmen-vlasov', n_states: 4 }).dw_min, 0.5);
});

test('invalid device values throw errors naming the field and the allowed range', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ n_states: 1 }, /device\.n_states: expected a number >= 2, got 1/],
    [{ w_min: 0, w_max: 0 }, /device\.w_min: w_min must be < w_max/],
    [{ dw_min_std: -0.1 }, /device\.dw_min_std: expected a number >= 0/],
    [{ w_max_dtod: -1 }, /device\.w_max_dtod/],
    [{ kind: 'memristor' }, /device\.kind: expected one of ideal, constant-step/],
    [{ preset: 'nope' }, /device\.preset: expected one of softbounds-papers/],
    [{ n_states: 4, dw_min: 0.1 }, /device\.n_states: give n_states or dw_min, not both/],
    [{ kind: 'ideal', dw_min_std: 0.1 }, /device\.dw_min_std: does not apply.*other than ideal/],
    [{ kind: 'softbounds', gamma_res: 2 }, /device\.gamma_res: does not apply.*pow \| exp/],
    [{ colour: 'red' }, /device\.colour: unknown field/],
    [
      { kind: 'piecewise', piecewise_up: [1, 0.5], piecewise_down: [1] },
      /device\.piecewise_down: must have as many nodes/,
    ],
  ];
  for (const [cfg, re] of bad) {
    assert.throws(
      () => deviceParams(cfg),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(cfg),
    );
  }
});
