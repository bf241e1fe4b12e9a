/**
 * The WebAssembly forward/backward products (assembly/matmul.ts) against their TypeScript
 * reference (matmulForward / matmulBackward in src/core/io.ts): bit-identical outputs on odd
 * shapes and batch sizes (pairs of samples, groups of 3 pairs, the 3- and 4-output blocks, the
 * chunking of large batches), and a tile trained with kernel 'wasm' ends with the same weights
 * digest as one trained with 'typescript', through ideal and noisy IO.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { matmulBackward, matmulForward } from '../src/core/io.ts';
import { kernelModule } from '../src/core/kernels/loader.ts';
import { MATMUL_CHUNK, MatmulKernel, sharedMatmulKernel } from '../src/core/kernels/matmul-kernel.ts';
import { streamFor } from '../src/core/rng.ts';
import { AnalogTile } from '../src/core/tile.ts';
import type { KernelChoice } from '../src/core/kernels/loader.ts';
import { kernelTestsSkip } from './kernel-required.ts';

const module = kernelModule();
const skip = kernelTestsSkip();

/** Values of widely varying magnitude (so that rounding depends on the summation order), some exact zeros and -0. */
function data(n: number, name: string): Float32Array {
  const r = streamFor(11, name);
  const a = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const u = r.uniform();
    if (u < 0.03) a[k] = u < 0.015 ? 0 : -0;
    else a[k] = (2 * r.uniform() - 1) * 2 ** (Math.floor(40 * r.uniform()) - 20);
  }
  return a;
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

function assertSameBits(ref: Float32Array, got: Float32Array, what: string): void {
  const a = bits(ref);
  const b = bits(got);
  assert.equal(b.length, a.length);
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) assert.fail(`${what}: element ${k}: ${ref[k]} (TS) vs ${got[k]} (WASM)`);
  }
}

const SHAPES: Array<[number, number]> = [
  [1, 1],
  [3, 5],
  [5, 3],
  [7, 13],
  [13, 7],
  [10, 128],
  [256, 256],
  [784, 256],
];
const BATCHES = [1, 2, 3, 7, 100];

test('forward and backward are bit-identical to matmulForward / matmulBackward', { skip }, () => {
  const k = new MatmulKernel(module!);
  for (const [rows, cols] of SHAPES) {
    const W = data(rows * cols, `W${rows}x${cols}`);
    for (const batch of BATCHES) {
      // arrays longer than the batch needs, as the layers pass them, with a sentinel after it
      const x = data((batch + 1) * cols, 'x');
      const d = data((batch + 1) * rows, 'd');
      const what = `${rows}x${cols} batch ${batch}`;
      const yRef = new Float32Array((batch + 1) * rows).fill(7);
      const y = new Float32Array((batch + 1) * rows).fill(7);
      matmulForward(W, rows, cols, x, yRef, batch);
      k.forward(W, rows, cols, x, y, batch);
      assertSameBits(yRef, y, `forward ${what}`);
      const zRef = new Float32Array((batch + 1) * cols).fill(7);
      const z = new Float32Array((batch + 1) * cols).fill(7);
      matmulBackward(W, rows, cols, d, zRef, batch);
      k.backward(W, rows, cols, d, z, batch);
      assertSameBits(zRef, z, `backward ${what}`);
    }
  }
});

test('batches larger than a chunk, and a shared instance across shapes, stay bit-identical', { skip }, () => {
  const k = sharedMatmulKernel(module!);
  for (const [rows, cols] of [
    [9, 31],
    [64, 17],
    [3, 5],
  ] as Array<[number, number]>) {
    for (const batch of [MATMUL_CHUNK - 1, MATMUL_CHUNK, 2 * MATMUL_CHUNK + 7]) {
      const W = data(rows * cols, `Wc${rows}`);
      const x = data(batch * cols, 'xc');
      const d = data(batch * rows, 'dc');
      const yRef = new Float32Array(batch * rows);
      const y = new Float32Array(batch * rows);
      matmulForward(W, rows, cols, x, yRef, batch);
      k.forward(W, rows, cols, x, y, batch);
      assertSameBits(yRef, y, `forward ${rows}x${cols} batch ${batch}`);
      const zRef = new Float32Array(batch * cols);
      const z = new Float32Array(batch * cols);
      matmulBackward(W, rows, cols, d, zRef, batch);
      k.backward(W, rows, cols, d, z, batch);
      assertSameBits(zRef, z, `backward ${rows}x${cols} batch ${batch}`);
    }
  }
});

test('cancelling sums, where the summation order shows in the bits, stay bit-identical', { skip }, () => {
  // each row: large products, then the same products negated (an exact zero in exact
  // arithmetic), so every output is made of float64 rounding residue: any other summation order
  // (here reversed) changes its bits, and the kernel must still match the reference
  const [rows, cols, batch] = [97, 256, 7];
  const h = cols / 2;
  const W = data(rows * cols, 'Wcancel');
  const x = data(batch * cols, 'xcancel');
  for (let i = 0; i < rows; i++) for (let j = 0; j < h; j++) W[i * cols + h + j] = W[i * cols + j];
  for (let b = 0; b < batch; b++) for (let j = 0; j < h; j++) x[b * cols + h + j] = -x[b * cols + j];
  const yRef = new Float32Array(batch * rows);
  matmulForward(W, rows, cols, x, yRef, batch);
  let differ = 0;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = cols - 1; j >= 0; j--) s += W[i * cols + j] * x[b * cols + j];
      if (!Object.is(Math.fround(s), yRef[b * rows + i])) differ++;
    }
  }
  assert.ok(differ > rows, `reversed summation changed only ${differ} outputs`);
  const k = sharedMatmulKernel(module!);
  const y = new Float32Array(batch * rows);
  k.forward(W, rows, cols, x, y, batch);
  assertSameBits(yRef, y, 'forward, cancelling');
  // backward: the same structure along the columns of W
  const Wt = new Float32Array(cols * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) Wt[j * rows + i] = W[i * cols + j];
  const zRef = new Float32Array(batch * rows);
  const z = new Float32Array(batch * rows);
  matmulBackward(Wt, cols, rows, x, zRef, batch);
  k.backward(Wt, cols, rows, x, z, batch);
  assertSameBits(zRef, z, 'backward, cancelling');
  assertSameBits(yRef, zRef, 'backward of the transpose equals forward');
});

function trainedDigest(kernel: KernelChoice, io: Record<string, unknown>): { digest: string; matmul: string } {
  const [rows, cols, batch] = [37, 53, 7];
  const cfg = resolveRunConfig({ device: { kind: 'softbounds', dw_min_std: 0.3 }, io });
  const tile = new AnalogTile({
    rows,
    cols,
    device: cfg.device!,
    io: cfg.io!,
    update: cfg.update!,
    maxBatch: batch,
    seed: 3,
    name: 'mm',
    kernel,
  });
  tile.setWeights(data(rows * cols, 'w0').map((v) => 0.1 * v));
  const target = data(rows * cols, 'target').map((v) => 0.2 * v);
  const hash = createHash('sha256');
  const y = new Float32Array(batch * rows);
  const t = new Float32Array(batch * rows);
  const z = new Float32Array(batch * cols);
  for (let step = 0; step < 20; step++) {
    const x = data(batch * cols, `x${step}`);
    tile.forward(x, y, batch);
    matmulForward(target, rows, cols, x, t, batch);
    for (let k = 0; k < y.length; k++) t[k] = y[k] - t[k];
    tile.backward(t, z, batch);
    hash.update(new Uint8Array(y.buffer)).update(new Uint8Array(z.buffer));
    tile.updateBatch(x, t, batch, 0.01);
  }
  hash.update(new Uint8Array(tile.weights.buffer, tile.weights.byteOffset, tile.weights.byteLength));
  return { digest: hash.digest('hex'), matmul: tile.matmul };
}

test("a short training run gives the same weights digest with kernel 'wasm' and 'typescript'", { skip }, () => {
  for (const io of [{ kind: 'ideal' }, { kind: 'noisy' }, { kind: 'noisy', out_bound: 0.5, inp_res: 0.01 }]) {
    const ts = trainedDigest('typescript', io);
    const wasm = trainedDigest('wasm', io);
    assert.equal(ts.matmul, 'typescript');
    assert.equal(wasm.matmul, 'wasm');
    assert.equal(wasm.digest, ts.digest, JSON.stringify(io));
  }
  // the digest covers the training: another seed of the data differs
  assert.notEqual(trainedDigest('wasm', { kind: 'noisy' }).digest, trainedDigest('wasm', { kind: 'ideal' }).digest);
});

test('tile dispatch of the products: wasm unless typescript or a tiny auto tile', { skip }, () => {
  const make = (
    rows: number,
    cols: number,
    kernel: KernelChoice,
    device: Record<string, unknown> = { kind: 'softbounds' },
  ): AnalogTile => {
    const cfg = resolveRunConfig({ device });
    return new AnalogTile({
      rows,
      cols,
      device: cfg.device!,
      io: cfg.io!,
      update: cfg.update!,
      maxBatch: 2,
      seed: 1,
      name: 't',
      kernel,
    });
  };
  assert.equal(make(16, 16, 'auto').matmul, 'wasm');
  assert.equal(make(16, 16, 'wasm').matmul, 'wasm');
  assert.equal(make(16, 16, 'typescript').matmul, 'typescript');
  assert.equal(make(3, 4, 'auto').matmul, 'typescript');
  // a device without a pulse kernel still gets the products on WebAssembly
  const t = make(16, 16, 'auto', { kind: 'exp-step' });
  assert.equal(t.kernel, 'typescript');
  assert.equal(t.matmul, 'wasm');
});
