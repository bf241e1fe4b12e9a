import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IO_DEFAULTS, type IoConfig, IoPath, matmulBackward, matmulForward, validateIo } from '../src/core/io.ts';
import { Rng } from '../src/core/rng.ts';

function noisy(overrides: Partial<IoConfig> = {}): IoConfig {
  return { ...IO_DEFAULTS, kind: 'noisy', ...overrides };
}

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (2 * rng.uniform() - 1);
  return a;
}

/** Naive double-precision W x for each batch vector, rounded to float32 like the kernels' output. */
function naiveForward(W: Float32Array, rows: number, cols: number, x: Float32Array, batch: number): Float32Array {
  const y = new Float32Array(batch * rows);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += W[i * cols + j] * x[b * cols + j];
      y[b * rows + i] = s;
    }
  }
  return y;
}

function naiveBackward(W: Float32Array, rows: number, cols: number, d: Float32Array, batch: number): Float32Array {
  const z = new Float32Array(batch * cols);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += W[i * cols + j] * d[b * rows + i];
      z[b * cols + j] = s;
    }
  }
  return z;
}

function identity(n: number): Float32Array {
  const W = new Float32Array(n * n);
  for (let i = 0; i < n; i++) W[i * n + i] = 1;
  return W;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 5],
  [3, 1],
  [4, 4],
  [5, 7],
  [8, 3],
  [13, 17],
  [32, 9],
  [10, 6],
  [6, 10],
];

test('matmulForward and matmulBackward equal a naive double loop bit for bit', () => {
  const rng = new Rng(1);
  for (const [rows, cols] of SHAPES) {
    for (let batch = 1; batch <= 7; batch++) {
      const W = randomArray(rng, rows * cols);
      const x = randomArray(rng, batch * cols);
      const d = randomArray(rng, batch * rows);
      // Sentinels past the batch must survive: the kernels write only batch vectors.
      const y = new Float32Array(batch * rows + 1).fill(7);
      const z = new Float32Array(batch * cols + 1).fill(7);
      matmulForward(W, rows, cols, x, y, batch);
      matmulBackward(W, rows, cols, d, z, batch);
      const shape = `${rows}x${cols} batch ${batch}`;
      assert.deepEqual(y.subarray(0, batch * rows), naiveForward(W, rows, cols, x, batch), `forward ${shape}`);
      assert.deepEqual(z.subarray(0, batch * cols), naiveBackward(W, rows, cols, d, batch), `backward ${shape}`);
      assert.equal(y[batch * rows], 7);
      assert.equal(z[batch * cols], 7);
    }
  }
});

test('ideal IoPath is exactly W x forward and W^T d backward', () => {
  const rng = new Rng(2);
  const [rows, cols, batch] = [11, 6, 5];
  const W = randomArray(rng, rows * cols);
  const x = randomArray(rng, batch * cols, 30);
  const d = randomArray(rng, batch * rows, 30);
  const y = new Float32Array(batch * rows);
  const z = new Float32Array(batch * cols);
  const noise = new Rng(3);
  new IoPath(IO_DEFAULTS, 'forward', batch, rows, cols).apply(W, x, y, batch, noise);
  new IoPath(IO_DEFAULTS, 'backward', batch, rows, cols).apply(W, d, z, batch, noise);
  assert.deepEqual(y, naiveForward(W, rows, cols, x, batch));
  assert.deepEqual(z, naiveBackward(W, rows, cols, d, batch));
  assert.deepEqual(noise.state(), new Rng(3).state(), 'the ideal IO draws no random numbers');
});

test('noisy IoPath without noise, quantisation or bound hits equals W x', () => {
  const rng = new Rng(4);
  const [rows, cols, batch] = [9, 14, 6];
  const W = randomArray(rng, rows * cols, 0.5);
  const x = randomArray(rng, batch * cols, 3);
  const d = randomArray(rng, batch * rows, 3);
  for (const nm of ['abs-max', 'none'] as const) {
    const cfg = noisy({ out_noise: 0, inp_res: 0, out_res: -1, out_bound: 100, inp_bound: 10, noise_management: nm });
    const y = new Float32Array(batch * rows);
    const z = new Float32Array(batch * cols);
    new IoPath(cfg, 'forward', batch, rows, cols).apply(W, x, y, batch, rng);
    new IoPath(cfg, 'backward', batch, rows, cols).apply(W, d, z, batch, rng);
    assert.ok(maxAbsDiff(y, naiveForward(W, rows, cols, x, batch)) < 1e-5, `forward, nm ${nm}`);
    assert.ok(maxAbsDiff(z, naiveBackward(W, rows, cols, d, batch)) < 1e-5, `backward, nm ${nm}`);
  }
});

test('an all-zero input gives an all-zero output under noise management', () => {
  const [rows, cols] = [4, 3];
  const W = randomArray(new Rng(5), rows * cols);
  const x = new Float32Array(2 * cols);
  x.set([0.5, -1, 0.25], cols); // vector 0 is zero, vector 1 is not
  const y = new Float32Array(2 * rows).fill(9);
  new IoPath(noisy(), 'forward', 2, rows, cols).apply(W, x, y, 2, new Rng(6));
  assert.deepEqual(Array.from(y.subarray(0, rows)), [0, 0, 0, 0]);
  assert.ok(y.subarray(rows).some((v) => v !== 0));
});

test('DAC quantisation puts noise-managed inputs on the 1/63 grid (default inp_res)', () => {
  const n = 40;
  const rng = new Rng(7);
  const x = randomArray(rng, n, 2.5);
  const alpha = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const y = new Float32Array(n);
  // Identity weights and an exact ADC expose the DAC output times alpha.
  const cfg = noisy({ out_noise: 0, out_res: 0, out_bound: 0 });
  new IoPath(cfg, 'forward', 1, n, n).apply(identity(n), x, y, 1, rng);
  let offGrid = 0;
  for (let j = 0; j < n; j++) {
    const level = (y[j] / alpha) * 63;
    assert.ok(Math.abs(level - Math.round(level)) < 1e-4, `input ${j} at level ${level}`);
    assert.ok(Math.abs(y[j] - x[j]) <= alpha / 126 + 1e-6, `input ${j} rounded to the nearest level`);
    if (Math.abs((x[j] / alpha) * 63 - Math.round((x[j] / alpha) * 63)) > 1e-3) offGrid++;
  }
  assert.ok(offGrid > n / 2, 'the raw inputs were mostly off the grid');
});

test('nm_thres caps the noise-management scale, so larger inputs clip at inp_bound', () => {
  const n = 4;
  const x = Float32Array.of(4, -0.5, 2, 1 / 3);
  const y = new Float32Array(n);
  const cfg = noisy({ out_noise: 0, out_res: 0, out_bound: 0, nm_thres: 1 });
  new IoPath(cfg, 'forward', 1, n, n).apply(identity(n), x, y, 1, new Rng(1));
  // -0.5 sits on a tie (-31.5 steps): rint rounds it to the even level -32, as aihwkit does.
  assert.deepEqual(Array.from(y), [1, -32 / 63, 1, 21 / 63].map(Math.fround));
});

test('stochastic input rounding is unbiased where deterministic rounding is not', () => {
  const n = 2;
  const batch = 4000;
  // alpha = 1 through the second entry; the first sits between levels 18/63 and 19/63.
  const x = new Float32Array(batch * n);
  for (let b = 0; b < batch; b++) x.set([0.3, 1], b * n);
  const meanFirst = (sto: boolean): number => {
    const y = new Float32Array(batch * n);
    const cfg = noisy({ out_noise: 0, out_res: 0, out_bound: 0, inp_sto_round: sto });
    new IoPath(cfg, 'forward', batch, n, n).apply(identity(n), x, y, batch, new Rng(8));
    let s = 0;
    for (let b = 0; b < batch; b++) s += y[b * n];
    return s / batch;
  };
  const x0 = Math.fround(0.3);
  assert.ok(Math.abs(meanFirst(false) - 19 / 63) < 1e-6);
  // std of one stochastic rounding <= step/2 = 1/126, so the mean's standard error is < 1.3e-4
  const sto = meanFirst(true);
  assert.ok(Math.abs(sto - x0) < 6e-4, `mean ${sto}`);
});

test('output noise has std out_noise * alpha (forward and backward)', () => {
  const n = 8;
  const batch = 500;
  const scale = 3;
  const x = new Float32Array(batch * n);
  for (let b = 0; b < batch; b++) for (let j = 0; j < n; j++) x[b * n + j] = scale * (j % 2 === 0 ? 0.5 : -1);
  const W = new Float32Array(n * n).fill(0.1); // W x = 0.1 * 3 * (4*0.5 - 4) = -0.6 per output
  const cfg = noisy({ out_noise: 0.1, inp_res: 0, out_res: 0 });
  for (const direction of ['forward', 'backward'] as const) {
    const y = new Float32Array(batch * n);
    new IoPath(cfg, direction, batch, n, n).apply(W, x, y, batch, new Rng(9));
    let s = 0;
    let ss = 0;
    for (const v of y) {
      s += v;
      ss += v * v;
    }
    const m = s / y.length;
    const std = Math.sqrt((ss - y.length * m * m) / (y.length - 1));
    // 4000 samples: relative std error of the std ~ 1/sqrt(2*4000) ~ 1.1%
    assert.ok(Math.abs(std - 0.1 * scale) < 0.05 * 0.1 * scale, `${direction} std ${std}`);
    assert.ok(Math.abs(m + 0.6) < (5 * (0.1 * scale)) / Math.sqrt(y.length), `${direction} mean ${m}`);
  }
});

test('iterative bound management recovers a saturated forward output; backward never applies it', () => {
  const [rows, cols] = [3, 64];
  const W = new Float32Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    W[j] = 1; // row 0: sum of x = 64 * alpha, far past out_bound 12
    W[cols + j] = 0.1; // row 1: 6.4 * alpha, inside the bound
    W[2 * cols + j] = j % 2 === 0 ? -1 : 0.5; // row 2: -16 * alpha
  }
  const alpha = 2;
  const x = new Float32Array(cols).fill(alpha);
  const exact = naiveForward(W, rows, cols, x, 1);
  const run = (bm: 'none' | 'iterative'): Float32Array => {
    const y = new Float32Array(rows);
    new IoPath(noisy({ out_noise: 0, bound_management: bm }), 'forward', 1, rows, cols).apply(W, x, y, 1, new Rng(10));
    return y;
  };
  const clipped = run('none');
  assert.equal(clipped[0], 12 * alpha);
  assert.equal(clipped[2], -12 * alpha);
  const managed = run('iterative');
  // Passing needs r = 8 (64/8 = 8 < 12); errors: the ADC step and every input's DAC step, times alpha*r.
  const r = 8;
  for (let i = 0; i < rows; i++) {
    let l1 = 0;
    for (let j = 0; j < cols; j++) l1 += Math.abs(W[i * cols + j]);
    const tol = alpha * r * (24 / 510 / 2 + (l1 * (1 / 63)) / 2) + 1e-4;
    assert.ok(Math.abs(managed[i] - exact[i]) <= tol, `output ${i}: ${managed[i]} vs ${exact[i]} (tol ${tol})`);
  }
  assert.ok(managed[0] > 40 * alpha && managed[2] < -12 * alpha);

  // Backward with the same setting: W^T d through a 64x3 view, still clipped at the bound.
  const d = new Float32Array(cols).fill(alpha);
  const z = new Float32Array(rows);
  new IoPath(noisy({ out_noise: 0 }), 'backward', 1, cols, rows).apply(transpose(W, rows, cols), d, z, 1, new Rng(10));
  assert.equal(z[0], 12 * alpha);
  assert.equal(z[2], -12 * alpha);
});

function transpose(W: Float32Array, rows: number, cols: number): Float32Array {
  const T = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) T[j * rows + i] = W[i * cols + j];
  return T;
}

test('bound management stops at r = 16 with the defaults (max_bm_res / inp_step)', () => {
  const cols = 256;
  const W = new Float32Array(cols).fill(1); // W x = 256 for x = 1: passing would need r = 32
  const x = new Float32Array(cols).fill(1);
  const y = new Float32Array(1);
  new IoPath(noisy({ out_noise: 0 }), 'forward', 1, 1, cols).apply(W, x, y, 1, new Rng(11));
  // r doubles while r <= 0.25 * 63, so the last pass runs at r = 16 and is still clipped.
  assert.equal(y[0], 12 * 16);
});

test('same seed gives bit-identical outputs, a different seed different ones', () => {
  const setup = new Rng(12);
  const [rows, cols, batch] = [10, 12, 7];
  const W = randomArray(setup, rows * cols, 6);
  const x = randomArray(setup, batch * cols, 3);
  const cfg = noisy({ inp_noise: 0.01, inp_sto_round: true, out_sto_round: true });
  const run = (seed: number): Float32Array => {
    const y = new Float32Array(batch * rows);
    new IoPath(cfg, 'forward', batch, rows, cols).apply(W, x, y, batch, new Rng(seed));
    return y;
  };
  const a = run(13);
  assert.deepEqual(run(13), a);
  assert.notDeepEqual(run(14), a);
  // Some outputs exceed out_bound * alpha, so bound-management passes are part of what is reproduced.
  const exact = naiveForward(W, rows, cols, x, batch);
  let saturated = 0;
  for (let b = 0; b < batch; b++) {
    const alpha = x.subarray(b * cols, (b + 1) * cols).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < rows; i++) if (Math.abs(exact[b * rows + i]) > 12 * alpha) saturated++;
  }
  assert.ok(saturated > 0);
});

test('apply rejects a batch larger than the preallocated scratch', () => {
  const path = new IoPath(noisy(), 'forward', 2, 3, 3);
  const big = new Float32Array(9);
  assert.throws(() => path.apply(big, big, big, 3, new Rng(1)), /batch must be an integer in \[0, 2\], got 3/);
});

test('validateIo accepts the defaults and names the offending field, value and range', () => {
  validateIo(IO_DEFAULTS, 'io');
  validateIo(noisy(), 'io');
  assert.throws(
    () => validateIo(noisy({ out_noise: -0.1 }), 'tile.io'),
    /tile\.io\.out_noise: must be >= 0, got -0\.1/,
  );
  assert.throws(() => validateIo(noisy({ inp_bound: 0 }), 'io'), /io\.inp_bound: must be > 0, got 0/);
  assert.throws(() => validateIo(noisy({ inp_bound: -1 }), 'io'), /io\.inp_bound: must be > 0, got -1/);
  assert.throws(() => validateIo(noisy({ inp_noise: Number.NaN }), 'io'), /io\.inp_noise/);
  assert.throws(
    () => validateIo({ ...noisy(), kind: 'exact' as 'noisy' }, 'io'),
    /io\.kind: must be one of ideal, noisy/,
  );
});
