/**
 * update.closed_form_pulses against the exact per-pulse path: for the same seed both see the same
 * pulse trains (so the same coincidence counts) and differ only in how the cycle-to-cycle noise
 * is drawn, so over many repetitions of one update from the same weights every weight's final
 * value must have the same mean and variance. Interior weights take the closed form; weights
 * near a bound (the constant-step case) must pulse one by one, where the closed form followed by
 * one clip would give a visibly different mean.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { CLOSED_FORM_MIN } from '../src/core/devices/closed-form.ts';
import { NORMAL_BLOCK } from '../src/core/normal-stream.ts';
import { AnalogTile } from '../src/core/tile.ts';

const ROWS = 4;
const COLS = 8;

function tile(device: Record<string, unknown>, closed: boolean, update: Record<string, unknown> = {}): AnalogTile {
  const cfg = resolveRunConfig({ device, update: { ...update, closed_form_pulses: closed } });
  // TypeScript path: the kernel is bit-identical to it (test/kernel.test.ts)
  return new AnalogTile({
    rows: ROWS,
    cols: COLS,
    device: cfg.device!,
    io: cfg.io!,
    update: cfg.update!,
    maxBatch: 1,
    seed: 11,
    name: 'cf',
    kernel: 'typescript',
  });
}

interface Moments {
  mean: Float64Array;
  variance: Float64Array;
  /** Estimated variance of `variance` itself ((m4 - s^4) / reps: the data are far from normal near a bound). */
  varianceVar: Float64Array;
  /** Fraction of the repetitions that end exactly at the weight's upper bound. */
  atUpper: Float64Array;
  /** The final weights of the first repetition (bits compared between the paths). */
  first: Float32Array;
}

/** Counts the normals the tile's device takes from its noise stream from now on. */
function countNormals(t: AnalogTile): () => number {
  const noise = t.device.noise;
  let refills = 0;
  const unread0 = noise.ctl[1] - noise.ctl[0];
  noise.refillHook = () => {
    refills++;
    noise.refillReference();
  };
  return () => unread0 + refills * NORMAL_BLOCK - (noise.ctl[1] - noise.ctl[0]);
}

/** Moments of every weight after one update from `start`, over `reps` repetitions. */
function moments(
  t: AnalogTile,
  start: Float32Array,
  x: Float32Array,
  d: Float32Array,
  lr: number,
  reps: number,
): Moments {
  const n = start.length;
  const samples = new Float64Array(reps * n);
  for (let r = 0; r < reps; r++) {
    t.weights.set(start);
    t.updateVector(x, 0, d, 0, lr);
    samples.set(t.weights, r * n);
  }
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  const varianceVar = new Float64Array(n);
  const atUpper = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let r = 0; r < reps; r++) {
      s += samples[r * n + k];
      if (samples[r * n + k] === t.device.bMax[k]) atUpper[k] += 1 / reps;
    }
    const m = s / reps;
    let m2 = 0;
    let m4 = 0;
    for (let r = 0; r < reps; r++) {
      const e = (samples[r * n + k] - m) ** 2;
      m2 += e;
      m4 += e * e;
    }
    mean[k] = m;
    variance[k] = m2 / (reps - 1);
    varianceVar[k] = Math.max(0, m4 / reps - (m2 / reps) ** 2) / reps;
  }
  return {
    mean,
    variance,
    varianceVar,
    atUpper,
    first: samples.slice(0, n).map(Math.fround) as unknown as Float32Array,
  };
}

/** Asserts equal means and variances weight by weight (each within 4.5 standard errors). */
function assertSameDistribution(cf: Moments, pp: Moments, reps: number, what: string): void {
  let moved = 0;
  for (let k = 0; k < cf.mean.length; k++) {
    if (pp.variance[k] === 0) continue;
    moved++;
    const z = (cf.mean[k] - pp.mean[k]) / Math.sqrt((cf.variance[k] + pp.variance[k]) / reps);
    assert.ok(
      Math.abs(z) < 4.5,
      `${what}: weight ${k} mean ${cf.mean[k]} (closed form) vs ${pp.mean[k]} (per pulse), ${z.toFixed(1)} ` +
        `standard errors`,
    );
    const zv = (cf.variance[k] - pp.variance[k]) / Math.sqrt(cf.varianceVar[k] + pp.varianceVar[k]);
    assert.ok(
      Math.abs(zv) < 4.5,
      `${what}: weight ${k} variance ${cf.variance[k]} (closed form) vs ${pp.variance[k]} (per pulse), ` +
        `${zv.toFixed(1)} standard errors`,
    );
  }
  assert.ok(moved >= cf.mean.length / 2, `${what}: only ${moved} weights moved`);
}

const x = Float32Array.from({ length: COLS }, (_, j) => (j % 2 ? -1 : 1) * (0.4 + 0.08 * j));
const d = Float32Array.from({ length: ROWS }, (_, i) => (i % 2 ? 1 : -1) * (0.5 + 0.15 * i));

test(
  'closed-form pulses have the per-pulse distribution on softbounds (n pulses exactly, strong curvature, ' +
    'additive noise)',
  () => {
    // 20 states: each pulse moves 1/10 of the way to the bound (a = 1 - K = 0.9); |x| = |d| = 1 and
    // lr far above BL dw_min saturate every line: each weight gets exactly BL pulses (5 = binary
    // 101, 6 = 110), so the spread is the noise's alone. Bounds at +-1 keep the weights, from
    // [-0.3, 0.3], far enough away for the closed form (8 sd of the noise of 6 pulses is 0.15).
    const device = {
      kind: 'softbounds',
      n_states: 20,
      dw_min_std: 0.1,
      mult_noise: false,
      dw_min_dtod: 0,
      w_max_dtod: 0,
      w_min_dtod: 0,
    };
    const start = Float32Array.from({ length: ROWS * COLS }, (_, k) => -0.3 + (0.6 * k) / (ROWS * COLS));
    const xs = x.map(Math.sign);
    const ds = d.map(Math.sign);
    const reps = 4000;
    for (const bl of [5, 6]) {
      assert.ok(bl >= CLOSED_FORM_MIN, 'the blocks take the closed form');
      const update = { desired_bl: bl, update_bl_management: false };
      const cfTile = tile(device, true, update);
      const taken = countNormals(cfTile);
      const cf = moments(cfTile, start, xs, ds, 1, reps);
      assert.equal(cfTile.pulses, reps * bl * ROWS * COLS, 'every weight got BL pulses');
      // one normal per weight and update: every weight took the closed form
      assert.equal(taken(), reps * ROWS * COLS, 'normals taken');
      const pp = moments(tile(device, false, update), start, xs, ds, 1, reps);
      assertSameDistribution(cf, pp, reps, `softbounds, ${bl} pulses`);
      // the same trains, other noise draws: the closed form really ran
      assert.notDeepEqual(cf.first, pp.first);
    }
  },
);

test('closed-form pulses near a bound fall back to pulsing one by one (constant step, large noise)', () => {
  // exactly 4 up pulses per weight (saturated lines as above) of 0.05 +- 0.075: the per-pulse path
  // clips after every pulse, the closed form alone would clip once at the end. Even weights start
  // a third of a step below the upper bound (the mean path crosses it), odd ones where the mean
  // path ends 0.1 (0.7 sd) below it (only the noise reaches it).
  const device = {
    kind: 'constant-step',
    dw_min: 0.05,
    dw_min_std: 1.5,
    dw_min_dtod: 0,
    up_down_dtod: 0,
    w_max_dtod: 0,
    w_min_dtod: 0,
  };
  const update = { desired_bl: 4, update_bl_management: false };
  assert.ok(4 >= CLOSED_FORM_MIN, 'the blocks take the closed form');
  const cfTile = tile(device, true, update);
  const start = Float32Array.from(cfTile.device.bMax, (hi, k) => (k % 2 ? hi - 4 * 0.05 - 0.1 : hi - 0.3 * 0.05));
  // signs such that every weight moves up: dW = -lr d x^T > 0
  const xs = x.map(() => 1);
  const ds = d.map(() => -1);
  const reps = 4000;
  const cf = moments(cfTile, start, xs, ds, 1, reps);
  assert.equal(cfTile.pulses, reps * 4 * ROWS * COLS, 'every weight got 4 pulses');
  const pp = moments(tile(device, false, update), start, xs, ds, 1, reps);
  assertSameDistribution(cf, pp, reps, 'constant-step at the bound');
  // the sharpest difference: how often a weight ends at the bound (pooled per starting point)
  for (const parity of [0, 1]) {
    const ks = [...start.keys()].filter((k) => k % 2 === parity);
    const pc = ks.reduce((acc, k) => acc + cf.atUpper[k], 0) / ks.length;
    const pq = ks.reduce((acc, k) => acc + pp.atUpper[k], 0) / ks.length;
    const se = Math.sqrt((pc * (1 - pc) + pq * (1 - pq)) / (reps * ks.length));
    assert.ok(
      Math.abs(pc - pq) < 4.5 * se,
      `${parity ? 'odd' : 'even'} weights end at the bound in ${pc.toFixed(4)} (closed form) vs ` +
        `${pq.toFixed(4)} (per pulse) of the updates`,
    );
  }
});

test(
  'update.closed_form_pulses: rejected where no closed form exists, left out of the canonical config ' + 'when off',
  () => {
    assert.equal('closed_form_pulses' in resolveRunConfig({}).update!, false);
    assert.equal(resolveRunConfig({ update: { closed_form_pulses: false } }).update!.closed_form_pulses, undefined);
    assert.equal(resolveRunConfig({ update: { closed_form_pulses: true } }).update!.closed_form_pulses, true);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ kind: 'softbounds', mult_noise: true }, /update\.closed_form_pulses: .*multiplicative/],
      [{ kind: 'pow' }, /update\.closed_form_pulses: .*pow device/],
      [{ preset: 'reram-es' }, /update\.closed_form_pulses: .*exp-step device/],
      [{ kind: 'softbounds', write_noise_std: 1 }, /update\.closed_form_pulses: .*write noise/],
    ];
    for (const [device, message] of cases) {
      assert.throws(() => resolveRunConfig({ device, update: { closed_form_pulses: true } }), message);
    }
  },
);
