/**
 * Benchmark of whole training steps on MNIST: the time of one sample's forward + backward +
 * update through every layer (mini-batch time / batch size) and the samples per second one
 * thread trains, for the MLP (784-256-128-10, sigmoid, batch 10) and LeNet-5 (batch 8) of the
 * papers, per training algorithm. Algorithms come from TRAINING_BENCH_ALGORITHMS; names the
 * registry does not have (yet) are skipped. Device: softbounds with the defaults (2000 states),
 * ideal IO. The algorithms of a model alternate, repetition by repetition (so a busy machine
 * slows them alike), after a warm-up; each figure is the fastest of BENCH_REPS runs of steps.
 *
 * "same bits": the same steps run again on a network built with kernel 'typescript' (every tile,
 * matrix and module on its TypeScript reference) and must end with the same weights, biases and
 * pulse counts.
 */
import { performance } from 'node:perf_hooks';
import { algorithmFor } from '../src/core/algorithms/index.ts';
import type { Algorithm } from '../src/core/algorithms/types.ts';
import { ALGORITHMS, type AlgorithmName, resolveRunConfig } from '../src/core/config/run-config.ts';
import { digestFloat32 } from '../src/core/hash.ts';
import { type KernelChoice, kernelModule } from '../src/core/kernels/loader.ts';
import { streamFor } from '../src/core/rng.ts';
import { ClassificationTrainer } from '../src/core/tasks/classification.ts';
import { loadDataset } from '../src/data/index.ts';

/** Extend freely: names not (yet) in the registry are reported as skipped. */
export const TRAINING_BENCH_ALGORITHMS: readonly string[] = ['sgd', 'analog-sgd', 'ttv2', 'residual'];

const REPS = Number(process.env.BENCH_REPS ?? 7);

interface ModelCase {
  label: string;
  model: Record<string, unknown>;
  batch: number;
  lr: number;
  /** samples per timed repetition */
  samples: number;
}

const MODELS: readonly ModelCase[] = [
  { label: 'MLP 784-256-128-10 sigmoid', model: { kind: 'mlp' }, batch: 10, lr: 0.05, samples: 400 },
  { label: 'LeNet-5 (28x28, tanh)', model: { kind: 'lenet5' }, batch: 8, lr: 0.05, samples: 64 },
];

function available(name: string): name is AlgorithmName {
  if (!(ALGORITHMS as readonly string[]).includes(name)) return false;
  return (algorithmFor as (n: string) => Algorithm | undefined)(name) !== undefined;
}

function totalPulses(p: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(p)) s += v;
  return s;
}

/** A trainer on the bench's sample order, stepping through it batch by batch. */
class Stepper {
  readonly trainer: ClassificationTrainer;
  private readonly m: ModelCase;
  private readonly order: Int32Array;
  private readonly correct = { correct: 0 };
  private pos = 0;

  constructor(name: AlgorithmName, m: ModelCase, kernel: KernelChoice = 'auto') {
    this.m = m;
    const config = resolveRunConfig({
      algorithm: name,
      lr: m.lr,
      batch_size: m.batch,
      task: { kind: 'mnist', test_size: 100 },
      model: m.model,
    });
    const data = loadDataset(config.task);
    this.trainer = new ClassificationTrainer(config, data, kernel);
    this.order = Int32Array.from({ length: data.train.n }, (_, k) => k);
    streamFor(1, 'bench-order').shuffle(this.order);
  }

  steps(samples: number): void {
    const { m, order, trainer } = this;
    for (let done = 0; done < samples; done += m.batch) {
      if (this.pos + m.batch > order.length) this.pos = 0;
      trainer.step(trainer.data.train, order, this.pos, m.batch, m.lr, this.correct);
      this.pos += m.batch;
    }
  }

  /** Digest of the weights and biases, and the pulse counts. */
  state(): string {
    return `${digestFloat32(this.trainer.net.readParameters())} ${JSON.stringify(this.trainer.net.pulseCounts())}`;
  }
}

export function runTrainingBench(log: (line: string) => void): void {
  log('');
  log(
    `## Training steps on MNIST (per sample: forward + backward + update of every layer; fastest of ${REPS}, ` +
      `algorithms alternating)`,
  );
  log('');
  const kernels = kernelModule() !== null;
  log(
    kernels
      ? 'same bits: the same steps with the WebAssembly kernels off (TypeScript references) end with the same ' +
          'weights, biases and pulse counts.'
      : 'No WebAssembly kernel: every path is the TypeScript reference (same bits not checked).',
  );
  log('');
  log('| model | algorithm | batch | us/sample | samples/s/thread | pulses/sample | same bits |');
  log('|---|---|---|---|---|---|---|');
  const skipped: string[] = [];
  for (const m of MODELS) {
    const names = TRAINING_BENCH_ALGORITHMS.filter((name) => {
      if (available(name)) return true;
      if (!skipped.includes(name)) skipped.push(name);
      return false;
    }) as AlgorithmName[];
    const steppers = names.map((name) => new Stepper(name, m));
    for (const s of steppers) s.steps(m.samples); // warm-up (JIT, WebAssembly tier-up, first updates)
    const best = names.map(() => Infinity);
    const p0 = steppers.map((s) => totalPulses(s.trainer.net.pulseCounts()));
    for (let r = 0; r < REPS; r++) {
      steppers.forEach((s, i) => {
        const t0 = performance.now();
        s.steps(m.samples);
        best[i] = Math.min(best[i], (performance.now() - t0) / m.samples);
      });
    }
    names.forEach((name, i) => {
      const pulses = (totalPulses(steppers[i].trainer.net.pulseCounts()) - p0[i]) / (REPS * m.samples);
      let same = '-';
      if (kernels) {
        const ref = new Stepper(name, m, 'typescript');
        ref.steps((REPS + 1) * m.samples);
        same = ref.state() === steppers[i].state() ? 'yes' : 'NO';
      }
      const ms = best[i];
      log(
        `| ${m.label} | ${name} | ${m.batch} | ${(ms * 1e3).toFixed(0)} | ${(1000 / ms).toFixed(0)} | ` +
          `${name === 'sgd' ? '-' : pulses.toFixed(0)} | ${same} |`,
      );
    });
  }
  if (skipped.length > 0) log(`\nSkipped (not in the algorithm registry yet): ${skipped.join(', ')}`);
  log('');
}
