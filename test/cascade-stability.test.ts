/**
 * cascadeStability against the stability facts of a continuous-time analysis of the same linear
 * cascade (gain = 2 alpha for the loss (w - b)^2, a 1x1 weight so offset_j = period_j), against
 * the exact eigenvalues of a 2x2 map, and against a brute-force step-by-step product over the
 * hyper-period (coincident events, offsets, non-dividing periods, a product that would overflow).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cascadeStability, MAX_EVENTS, type CascadeModel } from '../src/diagnostics/cascade-stability.ts';

/** The cascade with every transfer lr `beta` and T_j = 2 growth^j, offset_j = T_j. */
function cascade(gamma: number, tiles: number, gain: number, beta: number, growth: number): CascadeModel {
  const transfers = Array.from({ length: tiles - 1 }, (_, j) => ({
    lr: beta,
    period: 2 * growth ** j,
    offset: 2 * growth ** j,
  }));
  return { gamma, tiles, gain, transfers };
}

function radii(gamma: number, gain: number, beta: number, growth: number): number[] {
  return [2, 3, 4, 5, 6].map((k) => cascadeStability(cascade(gamma, k, gain, beta, growth)).radius);
}

test('K.3 literal (gamma 0.1, alpha = beta = 0.01, T_j = 2 * 2^j): stable for K = 2, unstable for K = 3..6', () => {
  const [k2, ...rest] = radii(0.1, 0.02, 0.01, 2);
  assert.ok(k2 < 1, `K = 2: ${k2}`);
  for (const [i, r] of rest.entries()) assert.ok(r > 1, `K = ${i + 3}: ${r}`);
});

test('naive (gamma 0.5, alpha = beta = 0.02, T_j = 2 * 2^j): stable for K = 2, unstable for K = 4..6', () => {
  const [k2, , ...rest] = radii(0.5, 0.04, 0.02, 2);
  assert.ok(k2 < 1, `K = 2: ${k2}`);
  for (const [i, r] of rest.entries()) assert.ok(r > 1, `K = ${i + 4}: ${r}`);
});

test('alpha 1, beta 0.01: stable for K = 2..6 with clocks x8 (gamma 0.5 and 0.7) and x2 (gamma 0.5)', () => {
  for (const [gamma, growth] of [
    [0.5, 8],
    [0.7, 8],
    [0.5, 2],
  ]) {
    for (const [i, r] of radii(gamma, 2, 0.01, growth).entries())
      assert.ok(r < 1, `gamma ${gamma}, x${growth}, K = ${i + 2}: ${r}`);
  }
});

test('K.3 literal and naive radii for K = 2..6 agree with a 50-digit step-by-step product (mpmath)', () => {
  const literal = [0.998, 1.0113034143508, 1.0237653715797, 1.0390426393711, 1.0601957903078];
  const naive = [0.98, 0.99979970806655, 1.0226405908782, 1.0574753611042, 1.1203256365779];
  for (const [computed, reference] of [
    [radii(0.1, 0.02, 0.01, 2), literal],
    [radii(0.5, 0.04, 0.02, 2), naive],
  ]) {
    computed.forEach((r, i) => assert.ok(Math.abs(r - reference[i]) < 1e-12, `K = ${i + 2}: ${r} vs ${reference[i]}`));
  }
});

test('the slowest clock of the x8 cascade at 784 vectors per batch (~5e7 steps) takes milliseconds', () => {
  const transfers = Array.from({ length: 5 }, (_, j) => ({
    lr: 0.01,
    period: 2 * 8 ** j * 784,
    offset: 2 * 8 ** j * 784,
  }));
  const start = performance.now();
  const { radius, period } = cascadeStability({ gamma: 0.5, tiles: 6, gain: 2, transfers });
  assert.equal(period, 2 * 8 ** 4 * 784);
  assert.ok(radius > 0 && radius < 1, `${radius}`);
  assert.ok(performance.now() - start < 500);
});

/** Largest eigenvalue modulus of [[p, q], [r, s]]. */
function radius2x2(p: number, q: number, r: number, s: number): number {
  const tr = p + s;
  const det = p * s - q * r;
  const disc = tr * tr - 4 * det;
  return disc < 0 ? Math.sqrt(det) : (Math.abs(tr) + Math.sqrt(disc)) / 2;
}

test(
  'K = 2, period 1: the radius of the 2x2 step map [[a, -gain], [beta a, 1 - beta gain]], real and complex ' +
    'eigenvalues',
  () => {
    // gamma 0.5: g = [0.5, 1], a = 1 - gain / 2
    for (const [gain, beta] of [
      [1.8, 0.01],
      [0.4, 0.3],
      [3.5, 0.2],
    ]) {
      const a = 1 - gain / 2;
      const exact = radius2x2(a, -gain, beta * a, 1 - beta * gain);
      const { radius, period } = cascadeStability({
        gamma: 0.5,
        tiles: 2,
        gain,
        transfers: [{ lr: beta, period: 1, offset: 1 }],
      });
      assert.equal(period, 1);
      assert.ok(Math.abs(radius - exact) < 1e-12 * exact, `gain ${gain}, beta ${beta}: ${radius} vs ${exact}`);
    }
  },
);

test('a nilpotent map (a = 0, beta gain = 1) has radius 0; one tile has |1 - gain| per step', () => {
  assert.equal(
    cascadeStability({ gamma: 0.5, tiles: 2, gain: 2, transfers: [{ lr: 0.5, period: 1, offset: 1 }] }).radius,
    0,
  );
  assert.deepEqual(cascadeStability({ gamma: 0.3, tiles: 1, gain: 2.5, transfers: [] }), { radius: 1.5, period: 1 });
});

function multiply(x: Float64Array, y: Float64Array, k: number): Float64Array {
  const r = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let l = 0; l < k; l++) for (let c = 0; c < k; c++) r[i * k + c] += x[i * k + l] * y[l * k + c];
  return r;
}

function identity(k: number): Float64Array {
  const r = new Float64Array(k * k);
  for (let i = 0; i < k; i++) r[i * k + i] = 1;
  return r;
}

/** ln spectral radius by ||m^(2^s)||_F^(1/2^s). */
function logRadius(m: Float64Array, k: number): number {
  let q = m;
  let log = 0;
  for (let s = 0; s < 50; s++) {
    const norm = Math.hypot(...q);
    if (norm === 0) return -Infinity;
    q = multiply(
      q.map((v) => v / norm),
      q.map((v) => v / norm),
      k,
    );
    log += Math.log(norm) / 2 ** s;
  }
  return log;
}

/** The radius by multiplying the dense map of every single step over the hyper-period, rescaling as it goes. */
function bruteForce(m: CascadeModel): number {
  const k = m.tiles;
  const step = identity(k);
  for (let i = 0; i < k; i++) step[i] -= m.gain * m.gamma ** (k - 1 - i);
  const transfers = m.transfers.map(({ lr }, j) => {
    const t = identity(k);
    t[(j + 1) * k + j] = lr;
    return t;
  });
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const periods = m.transfers.map((t) => t.period);
  const hyper = periods.reduce((l, p) => (l / gcd(l, p)) * p, 1);
  let product = identity(k);
  let log = 0;
  for (let t = 1; t <= hyper; t++) {
    product = multiply(step, product, k);
    m.transfers.forEach(({ period, offset }, j) => {
      if (t >= offset && (t - offset) % period === 0) product = multiply(transfers[j], product, k);
    });
    const norm = Math.hypot(...product);
    product = product.map((v) => v / norm);
    log += Math.log(norm);
  }
  return Math.exp(((log + logRadius(product, k)) * Math.max(...periods)) / hyper);
}

function assertBruteForce(m: CascadeModel, expectedPeriod: number): void {
  const { radius, period } = cascadeStability(m);
  const brute = bruteForce(m);
  assert.equal(period, expectedPeriod);
  assert.ok(
    Math.abs(Math.log(radius / brute)) < 1e-9,
    `${JSON.stringify(m.transfers)}: ${radius} vs brute force ${brute}`,
  );
}

const transfer = (lr: number, period: number, offset: number) => ({ lr, period, offset });

test('event-driven product = step-by-step product: several levels, coincident events, offsets', () => {
  const base = { gamma: 0.6, tiles: 4, gain: 0.7 };
  assertBruteForce({ ...base, transfers: [transfer(0.3, 2, 2), transfer(0.5, 4, 4), transfer(0.8, 8, 8)] }, 8);
  assertBruteForce({ ...base, transfers: [transfer(0.3, 2, 1), transfer(0.5, 4, 3), transfer(0.8, 8, 5)] }, 8);
  assertBruteForce({ ...base, transfers: [transfer(0.9, 3, 3), transfer(0.5, 3, 3), transfer(0.8, 12, 6)] }, 12);
  assertBruteForce({ ...base, gain: 4, transfers: [transfer(0.3, 4, 2), transfer(0.5, 8, 3), transfer(0.8, 8, 7)] }, 8);
});

test('non-dividing periods 3 and 5 (and 4, 6, 7): the map over the lcm, reported per slowest period', () => {
  assertBruteForce({ gamma: 0.5, tiles: 3, gain: 0.3, transfers: [transfer(0.4, 3, 2), transfer(0.6, 5, 5)] }, 5);
  assertBruteForce(
    { gamma: 0.8, tiles: 4, gain: 1.1, transfers: [transfer(0.2, 4, 1), transfer(0.7, 6, 6), transfer(0.5, 7, 3)] },
    7,
  );
});

test('maps growing or decaying far past float64 range over the hyper-period: brute force, 50-digit reference', () => {
  assertBruteForce({ gamma: 0.5, tiles: 3, gain: 1, transfers: [transfer(4, 211, 211), transfer(4, 223, 223)] }, 223);
  // a = 1 - gain g_0 = -1.5: the gradient tile alone diverges between transfers
  assertBruteForce({ gamma: 0.5, tiles: 3, gain: 10, transfers: [transfer(0.1, 41, 41), transfer(0.2, 43, 43)] }, 43);
  // decays by ~1e-604 over the 47053 steps: so stiff a map keeps only ~1e-9 of the radius in float64
  const { radius } = cascadeStability({
    gamma: 0.5,
    tiles: 3,
    gain: 0.5,
    transfers: [transfer(0.5, 211, 211), transfer(0.5, 223, 223)],
  });
  assert.ok(Math.abs(radius / 0.0013764453132733146 - 1) < 1e-8, `${radius}`);
});

test('a gradient tile whose stretch overflows (a^600 for a = -5) gives an infinite radius, not NaN', () => {
  const { radius } = cascadeStability({ gamma: 0.5, tiles: 2, gain: 12, transfers: [transfer(0.1, 600, 600)] });
  assert.equal(radius, Infinity);
});

test('refuses hyper-periods with more than MAX_EVENTS events, or beyond safe integers, with a RangeError', () => {
  const model = (p: number, q: number): CascadeModel => ({
    gamma: 0.5,
    tiles: 3,
    gain: 1,
    transfers: [transfer(0.1, p, p), transfer(0.1, q, q)],
  });
  assert.throws(() => cascadeStability(model(1, MAX_EVENTS + 3)), RangeError);
  assert.throws(() => cascadeStability(model(2 ** 31 - 1, 2 ** 31)), RangeError);
  assert.ok(cascadeStability(model(2, MAX_EVENTS)).radius > 0);
});

test('invalid models are rejected with a message naming the field', () => {
  const ok: CascadeModel = { gamma: 0.5, tiles: 2, gain: 1, transfers: [transfer(0.1, 4, 4)] };
  const cases: Array<[Partial<CascadeModel>, RegExp]> = [
    [{ tiles: 0, transfers: [] }, /tiles must be an integer >= 1/],
    [{ tiles: 1.5 }, /tiles must be an integer >= 1/],
    [{ gamma: Number.NaN }, /gamma must be a finite number > 0/],
    [{ gamma: 0 }, /gamma must be a finite number > 0/],
    [{ gain: -1 }, /gain must be a finite number >= 0/],
    [{ gain: Infinity }, /gain must be a finite number >= 0/],
    [{ tiles: 3 }, /3 tiles need 2 transfers, got 1/],
    [{ transfers: [transfer(Infinity, 4, 4)] }, /transfer 0: lr must be a finite number/],
    [{ transfers: [transfer(0.1, 0, 1)] }, /transfer 0: period must be an integer >= 1/],
    [{ transfers: [transfer(0.1, 2.5, 1)] }, /transfer 0: period must be an integer >= 1/],
    [{ transfers: [transfer(0.1, 4, 0)] }, /transfer 0: offset must be an integer in \[1, period = 4\]/],
    [{ transfers: [transfer(0.1, 4, 5)] }, /transfer 0: offset must be an integer in \[1, period = 4\]/],
  ];
  for (const [change, message] of cases) assert.throws(() => cascadeStability({ ...ok, ...change }), message);
  assert.doesNotThrow(() => cascadeStability(ok));
});
