/**
 * Profile of one LeNet-5 training step (`npm run bench -- profile`): where the time of a sample
 * goes, by layer and phase, and the floor of this kernel design. Model and data as the training
 * benchmark's (MNIST, batch 8, softbounds, ideal IO); analog SGD and residual learning (4 tiles).
 *
 * Phases: a module's forward / backward split into its matrix product (the tile's or composite's
 * product kernel) and the rest (im2col, layout changes, bias, col2im); activations and pooling; the
 * update split into the matrix's pulsed update and the bias step. The pulsed updates of each layer
 * are then replayed on fresh tiles (the same vectors, learning rates and device) twice: as they
 * run, and stopped after the pulse trains (update management, thresholds, random words, trains),
 * which tells the trains from the pulsing. Times are the fastest of BENCH_REPS runs of 64 samples,
 * per sample (us), timed around each call.
 */
import { performance } from 'node:perf_hooks';
import type { TrainableMatrix } from '../src/core/algorithms/types.ts';
import { type AlgorithmName, resolveRunConfig, type RunConfig } from '../src/core/config/run-config.ts';
import type { PulseKernel } from '../src/core/kernels/pulse-kernel.ts';
import type { Module } from '../src/core/models/index.ts';
import { streamFor } from '../src/core/rng.ts';
import { ClassificationTrainer } from '../src/core/tasks/classification.ts';
import { AnalogTile } from '../src/core/tile.ts';
import { loadDataset } from '../src/data/index.ts';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const BATCH = 8;
const SAMPLES = 64;

interface Recorded {
  tile: string;
  rows: number;
  cols: number;
  calls: Array<{ x: Float32Array; d: Float32Array; n: number; lr: number }>;
}

function trainer(algorithm: AlgorithmName): { t: ClassificationTrainer; config: RunConfig; step: () => void } {
  const config = resolveRunConfig({
    algorithm,
    lr: 0.05,
    batch_size: BATCH,
    task: { kind: 'mnist', test_size: 100 },
    model: { kind: 'lenet5' },
  });
  const data = loadDataset(config.task);
  const t = new ClassificationTrainer(config, data);
  const order = Int32Array.from({ length: data.train.n }, (_, k) => k);
  streamFor(1, 'bench-order').shuffle(order);
  const correct = { correct: 0 };
  let pos = 0;
  const step = (): void => {
    if (pos + BATCH > order.length) pos = 0;
    t.step(data.train, order, pos, BATCH, 0.05, correct);
    pos += BATCH;
  };
  return { t, config, step };
}

const name = (m: Module, k: number): string =>
  (m as { name?: string }).name ?? `${m.constructor.name.replace('Layer', '').replace('2', '')}${k}`;

function profileAlgorithm(algorithm: AlgorithmName, log: (line: string) => void): void {
  const { t, config, step } = trainer(algorithm);
  const times = new Map<string, number>();
  const add = (key: string, ms: number): void => {
    times.set(key, (times.get(key) ?? 0) + ms);
  };
  const wrap = (obj: object, method: string, key: string): void => {
    const o = obj as Record<string, (...args: unknown[]) => unknown>;
    const f = o[method];
    o[method] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const r = f.apply(this, args);
      add(key, performance.now() - t0);
      return r;
    };
  };
  // record the tiles' range updates (for the replay) while the timed steps run
  const recording: Recorded[] = [];
  let record = false;
  const original = AnalogTile.prototype.updateRange;
  AnalogTile.prototype.updateRange = function (
    this: AnalogTile,
    x: Float32Array,
    d: Float32Array,
    from: number,
    to: number,
    lr: number,
  ): void {
    if (record && to > from) {
      let r = recording.find((e) => e.tile === this.name);
      if (r === undefined) recording.push((r = { tile: this.name, rows: this.rows, cols: this.cols, calls: [] }));
      r.calls.push({
        x: x.slice(from * this.cols, to * this.cols),
        d: d.slice(from * this.rows, to * this.rows),
        n: to - from,
        lr,
      });
    }
    original.call(this, x, d, from, to, lr);
  };
  try {
    t.net.modules.forEach((m, k) => {
      const key = name(m, k);
      wrap(m, 'forward', `${key}|forward`);
      wrap(m, 'backward', `${key}|backward`);
      if ('update' in m) wrap(m, 'update', `${key}|update`);
      if ('matrix' in m) {
        const matrix = (m as { matrix: TrainableMatrix }).matrix;
        wrap(matrix, 'forward', `${key}|forward: product`);
        wrap(matrix, 'backward', `${key}|backward: product`);
        wrap(matrix, 'update', `${key}|update: matrix`);
      }
    });
    for (let s = 0; s < SAMPLES; s += BATCH) step(); // warm-up
    let best: Map<string, number> | null = null;
    let bestTotal = Infinity;
    for (let r = 0; r < REPS; r++) {
      times.clear();
      record = r === 0;
      const t0 = performance.now();
      for (let s = 0; s < SAMPLES; s += BATCH) step();
      const total = performance.now() - t0;
      if (total < bestTotal) {
        bestTotal = total;
        best = new Map(times);
      }
    }
    record = false;
    const us = (ms: number): number => (ms * 1e3) / SAMPLES;
    const total = us(bestTotal);
    log(`### ${algorithm}: ${total.toFixed(0)} us per sample (fastest of ${REPS} runs of ${SAMPLES} samples)`);
    log('');
    log('| layer | phase | us/sample | share |');
    log('|---|---|--:|--:|');
    const row = (layer: string, phase: string, v: number): void =>
      log(`| ${layer} | ${phase} | ${v.toFixed(1)} | ${((100 * v) / total).toFixed(1)} % |`);
    const phases: Array<[string, number]> = [];
    const get = (k: string): number => us(best!.get(k) ?? 0);
    t.net.modules.forEach((m, k) => {
      const key = name(m, k);
      for (const dir of ['forward', 'backward'] as const) {
        const all = get(`${key}|${dir}`);
        if (!('matrix' in m)) {
          if (all > 0.05) phases.push([`${key}|${dir}`, all]);
          continue;
        }
        const product = get(`${key}|${dir}: product`);
        phases.push([`${key}|${dir}: product`, product]);
        const rest =
          m.constructor.name !== 'Conv2d' ? 'bias' : dir === 'forward' ? 'im2col, layout, bias' : 'layout, col2im';
        phases.push([`${key}|${dir}: ${rest}`, all - product]);
      }
    });
    t.net.modules.forEach((m, k) => {
      if (!('matrix' in m)) return;
      const key = name(m, k);
      const matrix = get(`${key}|update: matrix`);
      phases.push([`${key}|update: pulsed update${algorithm === 'residual' ? ' and transfers' : ''}`, matrix]);
      phases.push([`${key}|update: bias`, get(`${key}|update`) - matrix]);
    });
    let listed = 0;
    for (const [k, v] of phases) {
      const [layer, phase] = k.split('|');
      row(layer, phase, v);
      listed += v;
    }
    row('(rest)', 'loss, batch gathering, timers', total - listed);
    log('');
    // the pulsed updates again, on fresh tiles: as they ran, and stopped after the trains
    log(
      `Pulsed updates replayed on fresh tiles of the same device (us/sample; lines = rows + cols per vector update):`,
    );
    log('');
    log(
      '| tile | vector updates/sample | weights | lines/sample | pulses/sample | full | trains | pulsing | ' +
        'ns/line (trains) | ns/pulse (pulsing) |',
    );
    log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const rec of recording) {
      const vectors = rec.calls.reduce((a, c) => a + c.n, 0);
      // the two set-ups alternate (a busy machine slows them alike); the fastest of each
      const replay = (trainsOnly: boolean, out: { ms: number; pulses: number }): void => {
        const tile = new AnalogTile({
          rows: rec.rows,
          cols: rec.cols,
          device: config.device!,
          io: config.io!,
          update: config.update!,
          maxBatch: 1,
          seed: 1,
          name: rec.tile,
        });
        const kernel = (tile as unknown as { wasm: PulseKernel | null }).wasm;
        kernel?.profileTrainsOnly(trainsOnly);
        for (const c of rec.calls.slice(0, 2)) tile.updateRange(c.x, c.d, 0, c.n, c.lr); // warm-up
        const p0 = tile.pulses;
        const t0 = performance.now();
        for (const c of rec.calls) tile.updateRange(c.x, c.d, 0, c.n, c.lr);
        out.ms = Math.min(out.ms, performance.now() - t0);
        out.pulses = tile.pulses - p0;
      };
      const full = { ms: Infinity, pulses: 0 };
      const trains = { ms: Infinity, pulses: 0 };
      for (let r = 0; r < Math.max(REPS, 5); r++) {
        replay(false, full);
        replay(true, trains);
      }
      const perSample = (v: number): number => v / SAMPLES;
      const lines = (rec.rows + rec.cols) * vectors;
      const pulsing = Math.max(0, us(full.ms) - us(trains.ms));
      log(
        `| ${rec.tile} | ${perSample(vectors).toFixed(0)} | ${rec.rows * rec.cols} | ` +
          `${perSample(lines).toFixed(0)} | ${perSample(full.pulses).toFixed(0)} | ` +
          `${us(full.ms).toFixed(1)} | ${us(trains.ms).toFixed(1)} | ${pulsing.toFixed(1)} | ` +
          `${((trains.ms * 1e6) / lines).toFixed(2)} | ` +
          `${full.pulses > 0 ? ((pulsing * 1e3 * SAMPLES) / full.pulses).toFixed(1) : '-'} |`,
      );
    }
    log('');
  } finally {
    AnalogTile.prototype.updateRange = original;
  }
}

export function runProfileBench(log: (line: string) => void): void {
  log('');
  log('## Profile of a LeNet-5 training step (MNIST, batch 8; per sample)');
  log('');
  log(
    'Floor of this design per image: the forward and backward products (conv1 819k multiply-adds each way, the ' +
      'rest ~0.4M; ' +
      'float64 sums in the reference order, about 0.1 ns each on 2-lane SIMD), the update of 705 vector updates ' +
      '(~52k lines: a threshold, a random word per pulse slot and a train each) and of its pulses, and the ' +
      'tanh of 11.8k values.',
  );
  log('');
  for (const algorithm of ['analog-sgd', 'residual'] as const) profileAlgorithm(algorithm, log);
}
