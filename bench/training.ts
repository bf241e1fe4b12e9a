/**
 * Benchmark of whole training steps on MNIST: the time of one sample's forward + backward +
 * update through every layer (mini-batch time / batch size) and the samples per second one
 * thread trains, for the MLP (784-256-128-10, sigmoid, batch 10) and LeNet-5 (batch 8) of the
 * papers, per training algorithm. Algorithms come from TRAINING_BENCH_ALGORITHMS; names the
 * registry does not have (yet) are skipped. Device: softbounds with the defaults (2000 states),
 * ideal IO. Each figure is the median over repetitions of a run of steps, after a warm-up.
 */
import { performance } from 'node:perf_hooks';
import { algorithmFor } from '../src/core/algorithms/index.ts';
import type { Algorithm } from '../src/core/algorithms/types.ts';
import { ALGORITHMS, type AlgorithmName, resolveRunConfig } from '../src/core/config/run-config.ts';
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}

function available(name: string): name is AlgorithmName {
  if (!(ALGORITHMS as readonly string[]).includes(name)) return false;
  return (algorithmFor as (n: string) => Algorithm | undefined)(name) !== undefined;
}

function totalPulses(p: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(p)) s += v;
  return s;
}

export function runTrainingBench(log: (line: string) => void): void {
  log('');
  log(`## Training steps on MNIST (per sample: forward + backward + update of every layer; median of ${REPS})`);
  log('');
  log('| model | algorithm | batch | us/sample | samples/s/thread | pulses/sample |');
  log('|---|---|---|---|---|---|');
  const skipped: string[] = [];
  for (const m of MODELS) {
    for (const name of TRAINING_BENCH_ALGORITHMS) {
      if (!available(name)) {
        if (!skipped.includes(name)) skipped.push(name);
        continue;
      }
      const config = resolveRunConfig({ algorithm: name, lr: m.lr, batch_size: m.batch, task: { kind: 'mnist', test_size: 100 }, model: m.model });
      const data = loadDataset(config.task);
      const trainer = new ClassificationTrainer(config, data);
      const order = Int32Array.from({ length: data.train.n }, (_, k) => k);
      streamFor(1, 'bench-order').shuffle(order);
      const correct = { correct: 0 };
      let pos = 0;
      const steps = (samples: number): void => {
        for (let done = 0; done < samples; done += m.batch) {
          if (pos + m.batch > order.length) pos = 0;
          trainer.step(data.train, order, pos, m.batch, m.lr, correct);
          pos += m.batch;
        }
      };
      steps(m.samples); // warm-up (JIT, first updates)
      const times: number[] = [];
      const p0 = totalPulses(trainer.net.pulseCounts());
      for (let r = 0; r < REPS; r++) {
        const t0 = performance.now();
        steps(m.samples);
        times.push((performance.now() - t0) / m.samples);
      }
      const pulses = (totalPulses(trainer.net.pulseCounts()) - p0) / (REPS * m.samples);
      const ms = median(times);
      log(`| ${m.label} | ${name} | ${m.batch} | ${(ms * 1e3).toFixed(0)} | ${(1000 / ms).toFixed(0)} | ${name === 'sgd' ? '-' : pulses.toFixed(0)} |`);
    }
  }
  if (skipped.length > 0) log(`\nSkipped (not in the algorithm registry yet): ${skipped.join(', ')}`);
  log('');
}
