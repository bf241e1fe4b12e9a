/**
 * The clocks of the transfer algorithms count the vector updates of the real mini-batch
 * (batch_size, times the patches of a conv layer), never a buffer's capacity. The expected
 * counts are written out here from the documented formula (docs/config.md, transfer_units):
 *   period = max(1, ceil(transfer_every * batch_size * patches))  (transfer_units: batches)
 *   period = max(1, round(transfer_every))                         (transfer_units: samples)
 *   residual level j: transfer_every * transfer_every_growth^j in place of transfer_every
 *   transfers in the first epoch = floor(train_size * patches / period)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { algorithmFor } from '../src/core/algorithms/index.ts';
import { resolveRunConfig, type RunConfig } from '../src/core/config/run-config.ts';
import { ClassificationTrainer } from '../src/core/tasks/classification.ts';
import { train } from '../src/core/train.ts';
import { loadDataset } from '../src/data/index.ts';

const MLP = {
  task: { kind: 'mnist', train_size: 130, test_size: 10, downsample: true },
  model: { kind: 'mlp', hidden: [8] },
  lr: 0.1,
  epochs: 1,
};
const LENET = { task: { kind: 'mnist', train_size: 12, test_size: 4 }, model: { kind: 'lenet5' }, lr: 0.05, epochs: 1 };
/** Vectors per image of each weight layer. */
const MLP_PATCHES = { fc0: 1, fc1: 1 };
const LENET_PATCHES = { conv0: 24 * 24, conv1: 8 * 8, fc2: 1, fc3: 1 };

/** Trains one epoch and returns the transfers of every receiving array, keyed layer/array. */
function oneEpochTransfers(config: RunConfig): Record<string, number> {
  const data = loadDataset(config.task);
  const trainer = new ClassificationTrainer(config, data);
  const order = Int32Array.from({ length: data.train.n }, (_, k) => k);
  const correct = { correct: 0 };
  for (let start = 0; start < data.train.n; start += config.batch_size) {
    trainer.step(data.train, order, start, Math.min(config.batch_size, data.train.n - start), config.lr, correct);
  }
  return trainer.net.transferCounts();
}

function period(every: number, units: string, batch: number, patches: number): number {
  return units === 'batches' ? Math.max(1, Math.ceil(every * batch * patches)) : Math.max(1, Math.round(every));
}

/** The expected transfers of one epoch, from the formula above. */
function expected(config: RunConfig, patches: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const n = config.task.kind === 'least-squares' ? 0 : (config.task.train_size ?? 0);
  const b = config.batch_size;
  const every = config.transfer_every ?? 1;
  for (const [layer, p] of Object.entries(patches)) {
    const vectors = n * p;
    switch (config.algorithm) {
      case 'tiki-taka':
        out[`${layer}/C`] = Math.floor(vectors / period(every, config.transfer_units!, b, p));
        break;
      case 'mp':
        out[`${layer}/W`] = Math.floor(vectors / period(every, 'batches', b, p));
        break;
      case 'residual':
        for (let j = 0; j < config.n_tiles! - 1; j++) {
          out[`${layer}/T${j + 1}`] = Math.floor(
            vectors / period(every * config.transfer_every_growth! ** j, config.transfer_units!, b, p),
          );
        }
        break;
      default:
        out[`${layer}/W`] = Math.floor(vectors / period(every, config.transfer_units!, b, p));
    }
  }
  return out;
}

const CASES: Array<Record<string, unknown>> = [
  { algorithm: 'tiki-taka' },
  { algorithm: 'tiki-taka', transfer_every: 0.35 },
  { algorithm: 'ttv2', transfer_every: 2 },
  { algorithm: 'c-ttv2', transfer_units: 'batches' },
  { algorithm: 'c-ttv2', transfer_every: 3 },
  { algorithm: 'agad', transfer_units: 'batches', transfer_every: 0.5 },
  { algorithm: 'rlv2' },
  { algorithm: 'mp', transfer_every: 2 },
  { algorithm: 'residual', n_tiles: 4, transfer_every: 0.5, transfer_every_growth: 3 },
];

test(
  "transfer clocks count the mini-batch: one epoch of an MLP at batch 1, 10 and 64 gives the formula's " + 'transfers',
  () => {
    for (const batch_size of [1, 10, 64]) {
      for (const c of CASES) {
        const config = resolveRunConfig({ ...MLP, ...c, batch_size, device: { n_states: 16 } });
        const want = expected(config, MLP_PATCHES);
        assert.deepEqual(oneEpochTransfers(config), want, `${JSON.stringify(c)} batch ${batch_size}`);
        assert.ok(
          Object.values(want).some((v) => v > 0),
          'the case transfers at all',
        );
      }
    }
  },
);

test("transfer clocks on LeNet-5: a conv layer's mini-batch is images x patches vector updates", () => {
  for (const c of [
    { algorithm: 'tiki-taka', transfer_every: 0.5 },
    { algorithm: 'ttv2' },
    { algorithm: 'mp' },
    { algorithm: 'residual', n_tiles: 3, transfer_every: 0.25, transfer_every_growth: 2 },
  ]) {
    const config = resolveRunConfig({ ...LENET, ...c, batch_size: 4, device: { n_states: 16 } });
    const got = oneEpochTransfers(config);
    assert.deepEqual(got, expected(config, LENET_PATCHES), JSON.stringify(c));
    assert.ok(
      Object.entries(got).some(([k, v]) => k.startsWith('conv0/') && v > 0),
      'conv0 transfers',
    );
  }
});

test('the clocks the diagnostics read (Algorithm.transferClocks) predict the measured transfers', () => {
  for (const c of CASES) {
    const config = resolveRunConfig({ ...MLP, ...c, batch_size: 10, device: { n_states: 16 } });
    const predicted: Record<string, number> = {};
    for (const [layer, cols] of [
      ['fc0', 196],
      ['fc1', 8],
    ] as const) {
      for (const clock of algorithmFor(config.algorithm).transferClocks(config, { cols, vectorsPerBatch: 10 })) {
        predicted[`${layer}/${clock.array}`] = Math.floor(130 / clock.period);
      }
    }
    assert.deepEqual(oneEpochTransfers(config), predicted, JSON.stringify(c));
  }
  assert.deepEqual(
    algorithmFor('analog-sgd').transferClocks(resolveRunConfig({}), { cols: 3, vectorsPerBatch: 1 }),
    [],
  );
});

test('transfer_units batches and the equivalent samples period give bit-identical runs', () => {
  for (const c of [
    { algorithm: 'tiki-taka', transfer_every: 2 },
    { algorithm: 'ttv2', transfer_every: 1 },
    { algorithm: 'c-ttv2', transfer_every: 1 },
    { algorithm: 'rlv2', transfer_every: 0.5 },
    { algorithm: 'residual', n_tiles: 3, transfer_every: 1, transfer_every_growth: 4 },
  ]) {
    const base = { ...MLP, ...c, batch_size: 10, device: { n_states: 8 } };
    const batches = resolveRunConfig({ ...base, transfer_units: 'batches' });
    const samples = resolveRunConfig({ ...base, transfer_units: 'samples', transfer_every: c.transfer_every * 10 });
    const a = train(batches, {}, loadDataset(batches.task));
    const b = train(samples, {}, loadDataset(samples.task));
    assert.equal(a.weights_digest, b.weights_digest, JSON.stringify(c));
    assert.deepEqual(a.final.pulses, b.final.pulses);
  }
});
