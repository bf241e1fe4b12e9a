/**
 * Digital SGD's update against analog SGD's on the MLP (`npm run bench -- digital`): the one place
 * where the digital path stays slower than the analog one, and why.
 *
 * Both networks train the same MNIST steps (MLP 784-256-128-10, sigmoid, batch 10, lr 0.05); each
 * layer's matrix update is timed around the call. For the digital update the float64 lanes it
 * computes are counted as its kernel (assembly/digital.ts, sgdUpdate) visits them: per sample, the
 * rows with lr d != 0 times 4 x the groups of 4 columns holding a non-zero input. Each lane is
 * w = float32(w - g x) in float64 (the reference's JavaScript arithmetic, hence the same bits as
 * before the kernels): 2 lanes per SIMD operation, about 13 operations per 4 lanes (load, promote
 * x2, multiply x2, subtract x2, demote x2, shuffle, store, and the mask where a group is partial).
 * Times are the fastest of BENCH_REPS runs of SAMPLES samples, per sample.
 */
import { performance } from 'node:perf_hooks';
import type { TrainableMatrix } from '../src/core/algorithms/types.ts';
import { type AlgorithmName, resolveRunConfig } from '../src/core/config/run-config.ts';
import { kernelModule } from '../src/core/kernels/loader.ts';
import type { Dense } from '../src/core/models/layers.ts';
import { streamFor } from '../src/core/rng.ts';
import { ClassificationTrainer } from '../src/core/tasks/classification.ts';
import { loadDataset } from '../src/data/index.ts';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const BATCH = 10;
const SAMPLES = 400;
const LR = 0.05;

interface LayerTimes {
  name: string;
  rows: number;
  cols: number;
  /** ms of the matrix update over one repetition */
  update: number;
  /** float64 lanes (digital) or pulses (analog) over one repetition */
  work: number;
  /** digital: the lanes whose product changes a weight (x != 0), over one repetition */
  useful: number;
}

/**
 * The float64 lanes sgdUpdate computes for `batch` samples (rows with g != 0 x 4 x groups of 4
 * columns with a non-zero input) and the products among them that change a weight (x != 0).
 */
function digitalLanes(
  x: Float32Array,
  d: Float32Array,
  rows: number,
  cols: number,
  batch: number,
  lr: number,
): { lanes: number; useful: number } {
  let lanes = 0;
  let useful = 0;
  for (let s = 0; s < batch; s++) {
    let groups = 0;
    let inputs = 0;
    for (let g = 0; g < cols; g += 4) {
      let any = false;
      for (let j = g; j < Math.min(g + 4, cols); j++) {
        const nonZero = x[s * cols + j] !== 0;
        any ||= nonZero;
        if (nonZero) inputs++;
      }
      if (any) groups++;
    }
    let active = 0;
    for (let i = 0; i < rows; i++) if (lr * d[s * rows + i] !== 0) active++;
    lanes += 4 * groups * active;
    useful += inputs * active;
  }
  return { lanes, useful };
}

class TimedNetwork {
  readonly layers: LayerTimes[] = [];
  private readonly trainer: ClassificationTrainer;
  private readonly order: Int32Array;
  private readonly correct = { correct: 0 };
  private pos = 0;
  /** Count lanes and pulses (a repetition of its own: the counting is not timed work). */
  private counting = false;

  constructor(algorithm: AlgorithmName) {
    const config = resolveRunConfig({
      algorithm,
      lr: LR,
      batch_size: BATCH,
      task: { kind: 'mnist', test_size: 100 },
      model: { kind: 'mlp' },
    });
    const data = loadDataset(config.task);
    this.trainer = new ClassificationTrainer(config, data);
    this.order = Int32Array.from({ length: data.train.n }, (_, k) => k);
    streamFor(1, 'bench-order').shuffle(this.order);
    for (const m of this.trainer.net.modules) {
      if (!('matrix' in m)) continue;
      const dense = m as Dense;
      const matrix: TrainableMatrix = dense.matrix;
      const entry: LayerTimes = {
        name: dense.name,
        rows: matrix.rows,
        cols: matrix.cols,
        update: 0,
        work: 0,
        useful: 0,
      };
      this.layers.push(entry);
      const update = matrix.update.bind(matrix);
      const pulses = (): number => Object.values(matrix.pulseCounts()).reduce((a, b) => a + b, 0);
      matrix.update = (x, d, batch, lr) => {
        if (this.counting) {
          const p0 = pulses();
          update(x, d, batch, lr);
          if (algorithm === 'sgd') {
            const { lanes, useful } = digitalLanes(x, d, matrix.rows, matrix.cols, batch, lr);
            entry.work += lanes;
            entry.useful += useful;
          } else entry.work += pulses() - p0;
          return;
        }
        const t0 = performance.now();
        update(x, d, batch, lr);
        entry.update += performance.now() - t0;
      };
    }
  }

  /** One repetition; returns its wall time (ms) with the layers' update times of this repetition. */
  run(): { ms: number; layers: LayerTimes[] } {
    for (const l of this.layers) l.update = 0;
    const { trainer, order } = this;
    const t0 = performance.now();
    for (let done = 0; done < SAMPLES; done += BATCH) {
      if (this.pos + BATCH > order.length) this.pos = 0;
      trainer.step(trainer.data.train, order, this.pos, BATCH, LR, this.correct);
      this.pos += BATCH;
    }
    return { ms: performance.now() - t0, layers: this.layers.map((l) => ({ ...l })) };
  }

  /** One repetition counting the work (float64 lanes or pulses) of each layer, untimed. */
  count(): void {
    for (const l of this.layers) l.work = l.useful = 0;
    this.counting = true;
    this.run();
    this.counting = false;
  }
}

export function runDigitalUpdateBench(log: (line: string) => void): void {
  log('');
  log(`## Digital SGD's update against analog SGD's on the MLP (batch ${BATCH}; per sample, fastest of ${REPS})`);
  log('');
  if (kernelModule() === null) {
    log('No WebAssembly kernel: skipped (the comparison is of the kernels).');
    return;
  }
  const nets = { sgd: new TimedNetwork('sgd'), analog: new TimedNetwork('analog-sgd') };
  nets.sgd.count(); // also the warm-up
  nets.analog.count();
  let sgd = nets.sgd.run();
  let analog = nets.analog.run();
  for (let r = 1; r < REPS; r++) {
    const s = nets.sgd.run();
    const a = nets.analog.run();
    if (s.ms < sgd.ms) sgd = s;
    if (a.ms < analog.ms) analog = a;
  }
  const us = (ms: number): number => (ms * 1e3) / SAMPLES;
  log(
    '| layer | weights | digital update (us) | float64 lanes | of which x != 0 | ns/lane | analog update (us) | ' +
      'pulses |',
  );
  log('|---|--:|--:|--:|--:|--:|--:|--:|');
  let digitalTotal = 0;
  let analogTotal = 0;
  let useful = 0;
  // the kernel's best cost per lane: the layer where it computes the most lanes per microsecond
  let bestNsPerLane = Infinity;
  sgd.layers.forEach((l, k) => {
    const a = analog.layers[k];
    const { work: lanes, useful: changing } = nets.sgd.layers[k];
    const nsPerLane = (l.update * 1e6) / Math.max(1, lanes);
    bestNsPerLane = Math.min(bestNsPerLane, nsPerLane);
    digitalTotal += us(l.update);
    analogTotal += us(a.update);
    useful += changing / SAMPLES;
    log(
      `| ${l.name} ${l.cols}->${l.rows} | ${l.rows * l.cols} | ${us(l.update).toFixed(1)} | ` +
        `${(lanes / SAMPLES).toFixed(0)} | ${(changing / SAMPLES).toFixed(0)} | ${nsPerLane.toFixed(3)} | ` +
        `${us(a.update).toFixed(1)} | ${(nets.analog.layers[k].work / SAMPLES).toFixed(0)} |`,
    );
  });
  log(`| all | | ${digitalTotal.toFixed(1)} | | ${useful.toFixed(0)} | | ${analogTotal.toFixed(1)} | |`);
  log('');
  log(
    `Whole step: digital ${us(sgd.ms).toFixed(1)} us, analog ${us(analog.ms).toFixed(1)} us per sample; outside ` +
      `the updates ${(us(sgd.ms) - digitalTotal).toFixed(1)} vs ${(us(analog.ms) - analogTotal).toFixed(1)} us ` +
      '(the same product kernels).',
  );
  log('');
  log(
    `Same-bits floor of the digital update: the products with x != 0 at the kernel's best cost per lane ` +
      `(${bestNsPerLane.toFixed(3)} ns) take ${((useful * bestNsPerLane) / 1e3).toFixed(1)} us per sample, ` +
      `against the analog update's ${analogTotal.toFixed(1)} us. The analog update pulses only where a row's and a ` +
      "column's trains coincide (the pulses column); the digital one computes every weight of a non-zero input " +
      'column, and keeping the bits of its reference (float64 product and subtraction, one rounding to float32 per ' +
      'sample) costs 2 float64 lanes per SIMD operation and about 13 operations per 4 lanes (load, 2 promotions, ' +
      '2 multiplies, 2 subtractions, 2 demotions, a shuffle, a store, the mask of a partial group). Reaching the ' +
      'floor needs a column-major copy of the sparse first layer with its own product kernels; going below it, ' +
      'float32 arithmetic (4 lanes, no conversions, about 3 operations per 4 lanes), which changes the bits of ' +
      'every digital run: a new numerics version, hence a new hash for every stored run.',
  );
}
