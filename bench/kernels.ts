/**
 * Benchmark of the tile kernels: forward and backward (ns per weight per sample and us per
 * sample), and the pulsed update (ns per weight per sample) for constant-step without noise and
 * softbounds with cycle-to-cycle noise. Each on both implementations, the TypeScript reference
 * and the WebAssembly kernel, which must give bit-identical outputs and weights (columns "same
 * bits"); the update side by side with the plain C reference of the same constant-step update
 * (bench/pulsed-update-ref.c, compiled with `cc` into bench/.build/) when a C compiler exists.
 * Data as in the C reference: x, d uniform in [-1, 1], W uniform in [-0.3, 0.3], batch 100,
 * dw_min 0.001. Figures are medians over repetitions (BENCH_REPS; the slow TypeScript path of
 * the update at most 3).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { kernelModule, kernelNote } from '../src/core/kernels/loader.ts';
import { NORMAL_BLOCK } from '../src/core/normal-stream.ts';
import { streamFor } from '../src/core/rng.ts';
import { AnalogTile } from '../src/core/tile.ts';
import type { KernelChoice } from '../src/core/kernels/loader.ts';

const BATCH = 100;
const SHAPES: Array<[number, number]> = [
  [256, 256],
  [512, 512],
  [784, 256],
];
const REPS = Number(process.env.BENCH_REPS ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}

function uniformData(n: number, lo: number, hi: number, name: string): Float32Array {
  const rng = streamFor(1, name);
  const a = new Float32Array(n);
  for (let k = 0; k < n; k++) a[k] = lo + (hi - lo) * rng.uniform();
  return a;
}

const SOFTBOUNDS = { kind: 'softbounds', dw_min: 0.001, dw_min_std: 0.3 } as const;

/** The update cases: a device and the update settings beyond BL management. */
const DEVICES: Record<string, { device: Record<string, unknown>; update?: Record<string, unknown> }> = {
  'constant-step': {
    device: {
      kind: 'constant-step',
      dw_min: 0.001,
      dw_min_std: 0,
      dw_min_dtod: 0,
      up_down_dtod: 0,
      w_max_dtod: 0,
      w_min_dtod: 0,
    },
  },
  'softbounds std0.3': { device: SOFTBOUNDS },
  'softbounds std0.3 closed form': { device: SOFTBOUNDS, update: { closed_form_pulses: true } },
};

function makeTile(
  rows: number,
  cols: number,
  spec: { device: Record<string, unknown>; update?: Record<string, unknown> },
  ublm: boolean,
  kernel: KernelChoice = 'auto',
): AnalogTile {
  const cfg = resolveRunConfig({ device: spec.device, update: { ...spec.update, update_bl_management: ublm } });
  const tile = new AnalogTile({
    rows,
    cols,
    device: cfg.device!,
    io: cfg.io!,
    update: cfg.update!,
    maxBatch: BATCH,
    seed: 1,
    name: 'bench',
    kernel,
  });
  tile.setWeights(uniformData(rows * cols, -0.3, 0.3, 'w'));
  return tile;
}

/** Median milliseconds of `fn` over REPS runs after one warm-up. */
function timeIt(fn: () => void, reps = REPS): number {
  fn();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

interface CRef {
  nsPerWeight(rows: number, cols: number, lr: number, ublm: boolean): number | null;
  note: string;
}

function compileCReference(): CRef {
  const src = new URL('./pulsed-update-ref.c', import.meta.url).pathname;
  const outDir = new URL('./.build/', import.meta.url).pathname;
  const bin = `${outDir}pulsed-update-ref`;
  const none = (note: string): CRef => ({ nsPerWeight: () => null, note });
  if (!existsSync(src)) return none(`C reference not found at ${src}`);
  try {
    mkdirSync(outDir, { recursive: true });
    execFileSync('cc', ['-O3', '-march=native', '-o', bin, src, '-lm'], { stdio: 'pipe' });
  } catch (e) {
    return none(`C reference not compiled (${(e as Error).message.split('\n')[0]})`);
  }
  return {
    note: 'C reference: cc -O3 -march=native bench/pulsed-update-ref.c',
    nsPerWeight(rows, cols, lr, ublm) {
      const out = execFileSync(bin, [String(rows), String(cols), String(lr), ublm ? '1' : '0', String(REPS)], {
        encoding: 'utf8',
      });
      const m = /ns_per_weight_sample=([0-9.]+)/.exec(out);
      return m ? Number(m[1]) : null;
    },
  };
}

/**
 * Runs every kernel path on throwaway tiles for a while before anything is timed: V8 first runs
 * WebAssembly on its baseline compiler and swaps in optimised code some tens of milliseconds of
 * hot use later (in the background), which would otherwise land inside the first cases' timings.
 */
function warmUpKernel(): void {
  const x = uniformData(BATCH * 256, -1, 1, 'x');
  const d = uniformData(BATCH * 256, -1, 1, 'd');
  for (const device of Object.values(DEVICES)) {
    for (const lr of [0.01, 0.001]) {
      for (const ublm of [true, false]) {
        const tile = makeTile(256, 256, device, ublm, 'wasm');
        const t0 = performance.now();
        while (performance.now() - t0 < 150) tile.updateBatch(x, d, BATCH, lr);
      }
    }
  }
}

/** Runs `fn` for `ms` milliseconds (lets V8 tier WebAssembly and hot JS up before timing). */
function spin(fn: () => void, ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) fn();
}

export function runKernelBench(log: (line: string) => void): void {
  log(`## Tile kernels (batch ${BATCH}, median of ${REPS}; ns per weight per sample)`);
  log('');
  log(
    `Forward/backward products: ${
      kernelModule() !== null ? 'WebAssembly SIMD kernel (assembly/matmul.ts) and' : 'no WebAssembly kernel, only'
    } the TypeScript reference (src/core/io.ts).`,
  );
  log('');
  log('| tile (out x in) | path | forward ns/w | forward us/sample | backward ns/w | backward us/sample | same bits |');
  log('|---|---|---|---|---|---|---|');
  for (const [rows, cols] of SHAPES) {
    const x = uniformData(BATCH * cols, -1, 1, 'x');
    const d = uniformData(BATCH * rows, -1, 1, 'd');
    const per = (ms: number): string => ((ms * 1e6) / (BATCH * rows * cols)).toFixed(3);
    const us = (ms: number): string => ((ms * 1e3) / BATCH).toFixed(1);
    const outputs: Float32Array[] = [];
    for (const kernel of ['typescript', 'auto'] as const) {
      const tile = makeTile(rows, cols, DEVICES['constant-step'], true, kernel);
      if (kernel === 'auto' && tile.matmul === 'typescript') continue;
      const y = new Float32Array(BATCH * rows);
      const z = new Float32Array(BATCH * cols);
      spin(() => {
        tile.forward(x, y, BATCH);
        tile.backward(d, z, BATCH);
      }, 150);
      const f = timeIt(() => tile.forward(x, y, BATCH));
      const b = timeIt(() => tile.backward(d, z, BATCH));
      const out = new Float32Array(y.length + z.length);
      out.set(y);
      out.set(z, y.length);
      outputs.push(out);
      let same = '-';
      if (outputs.length === 2) {
        const a = new Uint32Array(outputs[0].buffer);
        same = new Uint32Array(out.buffer).every((v, k) => v === a[k]) ? 'yes' : 'NO';
      }
      log(
        `| ${rows}x${cols} | ${tile.matmul === 'wasm' ? 'WASM' : 'TS'} | ${per(f)} | ${us(f)} | ${per(b)} | ` +
          `${us(b)} | ${same} |`,
      );
    }
  }
  const cref = compileCReference();
  const wasm = kernelModule() !== null;
  if (wasm) warmUpKernel();
  log('');
  log(`## Pulsed update (batch ${BATCH}, dw_min 0.001; ns per weight per sample; ${cref.note})`);
  log('');
  log(`Kernel: ${kernelNote()}.`);
  log('');
  log(
    '| tile | device | lr | BL mgmt | pulses/w/sample | TS ns/w | WASM ns/w | TS / WASM | C ns/w | WASM / C | ' +
      'same bits |',
  );
  log('|---|---|---|---|---|---|---|---|---|---|---|');
  const f3 = (v: number | null): string => (v === null ? '-' : v.toFixed(3));
  const f2 = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
  for (const [rows, cols] of SHAPES) {
    const x = uniformData(BATCH * cols, -1, 1, 'x');
    const d = uniformData(BATCH * rows, -1, 1, 'd');
    for (const [name, spec] of Object.entries(DEVICES)) {
      for (const lr of [0.01, 0.001]) {
        for (const ublm of [true, false]) {
          // both paths run the same sequence of updates (one warm-up, then the repetitions)
          const run = (kernel: KernelChoice, reps: number): { ns: number; pulses: number; tile: AnalogTile } => {
            const tile = makeTile(rows, cols, spec, ublm, kernel);
            let calls = 0;
            const ms = timeIt(() => {
              tile.updateBatch(x, d, BATCH, lr);
              calls++;
            }, reps);
            return {
              ns: (ms * 1e6) / (BATCH * rows * cols),
              pulses: tile.pulses / (calls * BATCH * rows * cols),
              tile,
            };
          };
          const reps = Math.min(REPS, 3);
          const ts = run('typescript', reps);
          const wa = wasm ? run('wasm', reps) : null;
          let same = '-';
          if (wa !== null) {
            const a = new Uint32Array(ts.tile.weights.buffer, ts.tile.weights.byteOffset, ts.tile.weights.length);
            const b = new Uint32Array(wa.tile.weights.buffer, wa.tile.weights.byteOffset, wa.tile.weights.length);
            same = a.every((v, k) => v === b[k]) && ts.tile.pulses === wa.tile.pulses ? 'yes' : 'NO';
          }
          const c = name === 'constant-step' ? cref.nsPerWeight(rows, cols, lr, ublm) : null;
          const wns = wa === null ? null : wa.ns;
          log(
            `| ${rows}x${cols} | ${name} | ${lr} | ${ublm ? 'on' : 'off'} | ${ts.pulses.toFixed(2)} | ` +
              `${f3(ts.ns)} | ${f3(wns)} | ` +
              `${f2(wns === null ? null : ts.ns / wns)} | ${f3(c)} | ` +
              `${f2(c === null || wns === null ? null : wns / c)} | ${same} |`,
          );
        }
      }
    }
  }
}

/**
 * The cycle-to-cycle noise stream alone: ns per normal of a block refill (the ziggurat over four
 * xoshiro lanes), on the kernel and on the TypeScript reference. Each noisy pulse takes one.
 */
export function runNormalBench(log: (line: string) => void): void {
  log('');
  log(`## Normal stream (blocks of ${NORMAL_BLOCK}; ns per normal, median of ${REPS})`);
  log('');
  log('| path | ns/normal |');
  log('|---|---|');
  const blocks = 2000;
  for (const kernel of ['typescript', 'wasm'] as const) {
    if (kernel === 'wasm' && kernelModule() === null) continue;
    const tile = makeTile(64, 64, DEVICES['softbounds std0.3'], true, kernel);
    const noise = tile.device.noise;
    const ms = timeIt(() => {
      for (let k = 0; k < blocks; k++) {
        noise.ctl[0] = noise.ctl[1]; // everything read: a refill generates a full block
        noise.refill();
      }
    });
    log(`| ${kernel === 'wasm' ? 'WASM' : 'TS'} | ${((ms * 1e6) / (blocks * NORMAL_BLOCK)).toFixed(3)} |`);
  }
}

/**
 * Where the default noisy update's time goes (256x256, softbounds with cycle-to-cycle noise 0.3,
 * lr 0.01, BL management on, one pulse at a time): the same update without noise (the rounds'
 * pulse arithmetic, the trains and update management; the same pulses), the difference (what the
 * noise costs per weight), the normal stream alone (its ns per normal times the normals a weight
 * takes: one per pulse) and the closed form (one normal per weight per update; not the same bits).
 * The set-ups alternate; fastest of BENCH_REPS.
 */
export function runNoiseCostBench(log: (line: string) => void): void {
  if (kernelModule() === null) return;
  const [rows, cols, lr] = [256, 256, 0.01];
  const x = uniformData(BATCH * cols, -1, 1, 'x');
  const d = uniformData(BATCH * rows, -1, 1, 'd');
  const cases: Array<[string, { device: Record<string, unknown>; update?: Record<string, unknown> }]> = [
    ['noisy, one pulse at a time (default)', DEVICES['softbounds std0.3']],
    ['the same without noise (std 0)', { device: { ...SOFTBOUNDS, dw_min_std: 0 } }],
    ['closed form (not the same bits)', DEVICES['softbounds std0.3 closed form']],
  ];
  const best = cases.map(() => Infinity);
  let pulsesPerWeight = 0;
  for (let r = 0; r < Math.max(REPS, 5); r++) {
    cases.forEach(([, spec], i) => {
      const tile = makeTile(rows, cols, spec, true, 'wasm');
      tile.updateBatch(x, d, BATCH, lr);
      const p0 = tile.pulses;
      const t0 = performance.now();
      tile.updateBatch(x, d, BATCH, lr);
      best[i] = Math.min(best[i], ((performance.now() - t0) * 1e6) / (BATCH * rows * cols));
      if (i === 0) pulsesPerWeight = (tile.pulses - p0) / (BATCH * rows * cols);
    });
  }
  // the normal stream alone
  const tile = makeTile(64, 64, DEVICES['softbounds std0.3'], true, 'wasm');
  const noise = tile.device.noise;
  const perNormal =
    (timeIt(() => {
      for (let k = 0; k < 500; k++) {
        noise.ctl[0] = noise.ctl[1];
        noise.refill();
      }
    }) *
      1e6) /
    (500 * NORMAL_BLOCK);
  log('');
  log(
    `## Where the default noisy update's time goes (${rows}x${cols}, softbounds std 0.3, lr ${lr}, BL ` +
      `management on; ${pulsesPerWeight.toFixed(2)} pulses per weight per sample)`,
  );
  log('');
  log('| update | ns per weight per sample |');
  log('|---|--:|');
  log(`| ${cases[0][0]} | ${best[0].toFixed(2)} |`);
  log(`| ${cases[1][0]} | ${best[1].toFixed(2)} |`);
  log(`| difference: the noise | ${(best[0] - best[1]).toFixed(2)} |`);
  log(
    `| the normal stream alone: ${pulsesPerWeight.toFixed(2)} normals x ${perNormal.toFixed(2)} ns | ` +
      `${(pulsesPerWeight * perNormal).toFixed(2)} |`,
  );
  log(`| ${cases[2][0]} | ${best[2].toFixed(2)} |`);
  log('');
  log(
    'One pulse at a time takes one normal per pulse, in the order the stream defines (block by block, round by ' +
      'round): ' +
      "the stream's generator (a ziggurat on four xoshiro128** lanes, 2-lane table loads since WebAssembly has " +
      'no gather) ' +
      'costs the normals row by itself, which no reordering of the bit-identical pulses removes; the rest is ' +
      "the rounds' " +
      'float32 arithmetic. Bit-identical ways below it: generate the stream ahead on another core (it does not ' +
      'depend on ' +
      'the data, only how much of it is read does), which moves the normals row off the training thread but ' +
      'not off the machine.',
  );
}
