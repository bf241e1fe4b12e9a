/**
 * The tanh kernel of the network modules (assembly/layers.ts tanhForward) against
 * Math.fround(Math.tanh(x)) for every float32 x (2^32 inputs; about 2 minutes on one core):
 * `node --import tsx bench/tanh-exhaustive.ts [from] [to]` (a range of input bit patterns).
 * Activations only ever see float32 inputs and keep float32 outputs, so this is the whole
 * domain: no mismatch means the kernel and JavaScript agree on every run. NaN inputs give NaN
 * (payloads may differ). test/speed-paths.test.ts checks a sample of 2^20 on every test run.
 */
import { LayerSpace } from '../src/core/kernels/layer-space.ts';
import { kernelModule, kernelNote } from '../src/core/kernels/loader.ts';

const module = kernelModule();
if (module === null) {
  process.stderr.write(`no kernel: ${kernelNote()}\n`);
  process.exit(2);
}
const from = Number(process.argv[2] ?? 0);
const to = Number(process.argv[3] ?? 2 ** 32);
const CHUNK = 1 << 20;
const space = new LayerSpace(module, 2 * (4 * CHUNK + 128));
const x = space.f32(CHUNK);
const y = space.f32(CHUNK);
const xb = new Uint32Array(x.buffer, x.byteOffset, CHUNK);
const yb = new Uint32Array(y.buffer, y.byteOffset, CHUNK);
const ref = new Float32Array(CHUNK);
const rb = new Uint32Array(ref.buffer);
let mismatches = 0;
const t0 = performance.now();
for (let base = from; base < to; base += CHUNK) {
  const n = Math.min(CHUNK, to - base);
  for (let k = 0; k < n; k++) xb[k] = (base + k) >>> 0;
  space.fn.tanhForward(x.byteOffset, y.byteOffset, n, space.scratch);
  for (let k = 0; k < n; k++) ref[k] = Math.tanh(x[k]);
  for (let k = 0; k < n; k++) {
    if (rb[k] === yb[k] || (Number.isNaN(ref[k]) && Number.isNaN(y[k]))) continue;
    if (mismatches++ < 10)
      process.stdout.write(`x = ${x[k]} (0x${xb[k].toString(16)}): Math.tanh ${ref[k]}, kernel ${y[k]}\n`);
  }
}
process.stdout.write(
  `float32 inputs [${from}, ${to}): ${mismatches} mismatches (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
);
process.exit(mismatches === 0 ? 0 : 1);
