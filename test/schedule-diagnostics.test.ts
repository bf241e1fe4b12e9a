/**
 * Schedule diagnostics before a sweep runs: too few transfers per column, a swept lr that cannot
 * reach the analog arrays, and an unstable residual cascade (docs/config.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import { inertLrWarning, sparseTransferWarning, unstableCascadeWarning } from '../src/diagnostics/schedule-checks.ts';
import { sweepWarnings } from '../src/diagnostics/sweep-warnings.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText, readSweepFile } from '../src/sweep/spec.ts';
import { runCli } from './helpers.ts';

const MNIST_14 = { train: 2000, channels: 1, height: 14, width: 14, classes: 10 };
const MNIST_28 = { train: 8000, channels: 1, height: 28, width: 28, classes: 10 };
const noData = () => ({ unavailable: 'not needed' });

test('(a) transfers per column: epochs x samples x patches / period x columns per transfer / columns', () => {
  const mlp = {
    task: { kind: 'mnist', train_size: 2000, test_size: 1000, downsample: true },
    model: { hidden: [32] },
    batch_size: 10,
    epochs: 3,
  };
  // tiki-taka: one column every mini-batch of 10: 3 * 2000 / 10 = 600 transfers; fc0 has 196 columns (3.1 each), fc1 32
  // (18.75)
  const tt = sparseTransferWarning(resolveRunConfig({ ...mlp, algorithm: 'tiki-taka' }), MNIST_14);
  assert.match(tt ?? '', /fc0\/C 3\.1 \(one every 10 vector updates, 196 columns\)/);
  assert.doesNotMatch(tt ?? '', /fc1/);
  assert.equal(
    sparseTransferWarning(resolveRunConfig({ ...mlp, algorithm: 'tiki-taka', epochs: 10 }), MNIST_14),
    undefined,
    '10 epochs: 10.2 and 62.5',
  );
  assert.match(
    sparseTransferWarning(resolveRunConfig({ ...mlp, algorithm: 'tiki-taka', epochs: 6 }), MNIST_14) ?? '',
    /fc0\/C 6\.1/,
  );
  // mp writes every column at each transfer: 600 per column, no warning
  assert.equal(sparseTransferWarning(resolveRunConfig({ ...mlp, algorithm: 'mp' }), MNIST_14), undefined);
  // residual: levels every 2 and 10 mini-batches (20 and 100 vector updates)
  const res = sparseTransferWarning(resolveRunConfig({ ...mlp, algorithm: 'residual' }), MNIST_14) ?? '';
  assert.match(
    res,
    /fc0\/T1 1\.5 \(one every 20 vector updates, 196 columns\), fc0\/T2 0\.31 \(one every 100 vector updates, 196 columns\), fc1\/T1 9\.4 .*fc1\/T2 1\.9/,
  );
  // digital layers have no slow arrays; analog SGD has no transfers
  assert.doesNotMatch(
    sparseTransferWarning(
      resolveRunConfig({ ...mlp, algorithm: 'residual', model: { hidden: [32], digital_layers: [0] } }),
      MNIST_14,
    ) ?? '',
    /fc0/,
  );
  assert.equal(sparseTransferWarning(resolveRunConfig({ ...mlp, algorithm: 'analog-sgd' }), MNIST_14), undefined);
});

test('(a) on LeNet-5: a conv layer makes patches vector updates per image', () => {
  // conv0: 24 x 24 = 576 patches, 25 columns; ttv2 every mini-batch of 8 images = 4608 vector updates
  // one epoch of 16 images: floor(16 * 576 / 4608) = 2 transfers, 2 / 25 = 0.08 per column
  const config = resolveRunConfig({
    task: { kind: 'mnist', train_size: 16, test_size: 16 },
    model: { kind: 'lenet5' },
    algorithm: 'ttv2',
    batch_size: 8,
    epochs: 1,
  });
  const w = sparseTransferWarning(config, { ...MNIST_28, train: 16 }) ?? '';
  assert.match(w, /conv0\/W 0\.08 \(one every 4608 vector updates, 25 columns\)/);
  assert.match(w, /conv1\/W 0\.005 \(one every 512 vector updates, 400 columns\)/);
});

test('(b) a swept lr that cannot reach the analog arrays warns; where it can, nothing', () => {
  assert.match(inertLrWarning(resolveRunConfig({ algorithm: 'residual' })) ?? '', /changes nothing at all/);
  assert.match(
    inertLrWarning(resolveRunConfig({ algorithm: 'rlv2', task: { kind: 'mnist' } })) ?? '',
    /only the digital biases/,
  );
  assert.equal(inertLrWarning(resolveRunConfig({ algorithm: 'residual', scale_transfer_lr: true })), undefined);
  assert.equal(inertLrWarning(resolveRunConfig({ algorithm: 'residual', scale_fast_lr: true })), undefined);
  assert.equal(inertLrWarning(resolveRunConfig({ algorithm: 'tiki-taka' })), undefined);
  assert.equal(inertLrWarning(resolveRunConfig({ algorithm: 'mp' })), undefined);

  const sweep = (yaml: string) => sweepWarnings(expandSweep(parseSweepText(yaml, 's.yaml')).runs, noData);
  const swept = sweep(
    'name: s\nbase: { epochs: 1, task: { n_samples: 20 } }\ngrid: { lr: [0.01, 0.1], seed: [1, 2] }\ncases:\n  ' +
      '- { algorithm: residual }\n  - { algorithm: tiki-taka }\n',
  );
  assert.equal(swept.filter((l) => /lr is swept/.test(l)).length, 1, swept.join('\n'));
  assert.match(
    swept.find((l) => /lr is swept/.test(l)) ?? '',
    /^algorithm=residual \(4 runs\): lr is swept but cannot change the analog arrays of residual/,
  );
  // one value of lr per algorithm is not a sweep, even when other algorithms have others
  const one =
    'name: s\nbase: { epochs: 1, task: { n_samples: 20 } }\ncases:\n  - { algorithm: residual, lr: 0.5 }\n  - ' +
    '{ algorithm: tiki-taka, lr: 0.1 }\n';
  assert.deepEqual(
    sweep(one).filter((l) => /lr is swept/.test(l)),
    [],
  );
});

/** The residual paper's literal toy (K.3) in our units: f = 0.5 (w - b)^2, so fast_lr 0.02 is its 0.01. */
const K3 = {
  algorithm: 'residual',
  task: { form: 'scalar', n_samples: 1000 },
  epochs: 1000,
  tile_gamma: 0.1,
  fast_lr: 0.02,
  transfer_lr: 0.01,
  transfer_every: 2,
  transfer_every_growth: 2,
  transfer_lr_growth: 1,
  scale_transfer_lr: false,
  device: { preset: 'softbounds-papers', n_states: 4 },
};

test(
  "(c) the residual paper's literal toy settings are linearly unstable from 3 tiles; the shipped residual toy is " +
    'not',
  () => {
    assert.equal(unstableCascadeWarning(resolveRunConfig({ ...K3, n_tiles: 2 })), undefined);
    for (const n_tiles of [3, 4, 5, 6]) {
      const w = unstableCascadeWarning(resolveRunConfig({ ...K3, n_tiles })) ?? '';
      assert.match(w, /linearly unstable: spectral radius 1\.0\d+ per slowest transfer period/, `${n_tiles} tiles`);
    }
    assert.match(
      unstableCascadeWarning(resolveRunConfig({ ...K3, n_tiles: 3 })) ?? '',
      /radius 1\.011 per slowest transfer period \(4 vector updates\)/,
    );
    const toy = readSweepFile(new URL('../sweeps/residual-toy.yaml', import.meta.url).pathname);
    assert.deepEqual(sweepWarnings(expandSweep(toy).runs, noData), []);
    // classification: no known curvature, not checked
    assert.equal(unstableCascadeWarning(resolveRunConfig({ ...K3, task: { kind: 'mnist' }, n_tiles: 4 })), undefined);
  },
);

test('expand prints the warnings and exits 0; --strict exits 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimc-diag-'));
  const file = join(dir, 'k3.yaml');
  writeFileSync(file, `name: k3\nbase: ${JSON.stringify({ ...K3, epochs: 10 })}\ngrid: { n_tiles: [2, 4] }\n`);
  const plain = await runCli('expand', file);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /^warning: n_tiles=4 \(1 run\): the residual cascade is linearly unstable/m);
  assert.doesNotMatch(plain.stderr, /n_tiles=2/);
  assert.match(plain.stdout, /^k3: 2 runs/);
  const strict = await runCli('expand', file, '--strict');
  assert.equal(strict.code, 2);
  assert.match(strict.stderr, /--strict: 1 transfer-schedule warning \(above\)/);
  const clean = await runCli(
    'expand',
    new URL('../sweeps/closed-form-check.yaml', import.meta.url).pathname,
    '--strict',
  );
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stderr, '');
});
