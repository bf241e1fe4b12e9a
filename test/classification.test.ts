import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { RUN_SCHEMA, resolveRunConfig } from '../src/core/config/run-config.ts';
import { ConfigError, parseValueFor, renderSchemaDoc } from '../src/core/config/schema.ts';
import { scheduledLr } from '../src/core/config/task-schema.ts';
import { train } from '../src/core/train.ts';
import { loadDataset } from '../src/data/index.ts';

/** A small, fast classification run: 14x14 MNIST, a 32-unit hidden layer. */
const SMALL = {
  task: { kind: 'mnist', train_size: 2000, test_size: 1000, downsample: true },
  model: { kind: 'mlp', hidden: [32] },
  batch_size: 10,
  epochs: 3,
};

function run(overrides: Record<string, unknown>) {
  const config = resolveRunConfig({ ...SMALL, ...overrides });
  return train(config, {}, loadDataset(config.task));
}

test('task config: kinds, defaults, and fields only where they apply', () => {
  const m = resolveRunConfig({ task: { kind: 'mnist' } });
  assert.deepEqual(m.task, { kind: 'mnist', train_size: 8000, test_size: 2000, downsample: false });
  assert.deepEqual(m.model, {
    kind: 'mlp',
    hidden: [256, 128],
    activation: 'sigmoid',
    digital_layers: [],
    init_scale: 1,
  });
  assert.deepEqual(m.lr_schedule, { kind: 'constant' });
  assert.equal(m.init, undefined);
  const f = resolveRunConfig({
    task: { kind: 'fashion-mnist' },
    model: { kind: 'lenet5' },
    lr_schedule: { kind: 'step' },
  });
  assert.deepEqual(f.task, {
    kind: 'fashion-mnist',
    train_size: null,
    test_size: null,
    downsample: false,
    data_dir: null,
  });
  assert.deepEqual(f.model, { kind: 'lenet5', activation: 'tanh', digital_layers: [], init_scale: 1 });
  assert.deepEqual(f.lr_schedule, { kind: 'step', step_every: 30, gamma: 0.5 });
  const ls = resolveRunConfig({});
  assert.equal(ls.model, undefined);
  assert.deepEqual(ls.init, { kind: 'zero', scale: 0.1 });
  assert.equal('train_size' in ls.task, false);

  const cases: Array<[unknown, RegExp]> = [
    [{ task: { kind: 'mnist', n_samples: 10 } }, /^task\.n_samples: does not apply.*task\.kind least-squares/],
    [{ task: { kind: 'mnist', form: 'matrix' } }, /^task\.form: does not apply/],
    [{ task: { kind: 'mnist', data_dir: '/x' } }, /^task\.data_dir: does not apply.*task\.kind fashion-mnist \| idx/],
    [{ task: { train_size: 10 } }, /^task\.train_size: does not apply.*task\.kind mnist \| fashion-mnist \| idx/],
    [{ model: { kind: 'mlp' } }, /^model: does not apply/],
    [{ task: { kind: 'mnist' }, init: { kind: 'normal' } }, /^init: does not apply/],
    [
      { task: { kind: 'mnist' }, model: { kind: 'lenet5', hidden: [10] } },
      /^model\.hidden: does not apply.*model\.kind mlp/,
    ],
    [{ task: { kind: 'mnist' }, model: { hidden: [10.5] } }, /^model\.hidden: every value must be an integer/],
    [{ task: { kind: 'mnist' }, model: { hidden: [0] } }, /^model\.hidden: every value must be >= 1/],
    [
      { task: { kind: 'mnist' }, model: { activation: 'gelu' } },
      /^model\.activation: expected one of sigmoid, tanh, relu/,
    ],
    [
      { task: { kind: 'mnist' }, model: { hidden: [8], digital_layers: [2] } },
      /^model\.digital_layers: the model has weight layers 0 \.\. 1, got 2$/,
    ],
    [
      { task: { kind: 'mnist' }, model: { kind: 'lenet5', digital_layers: [0, 4] } },
      /^model\.digital_layers: the model has weight layers 0 \.\. 3, got 4$/,
    ],
    [
      { task: { kind: 'mnist', downsample: true }, model: { kind: 'lenet5' } },
      /^model\.kind: lenet5 needs the 28x28 inputs/,
    ],
    [
      { task: { kind: 'mnist', train_size: 9000 } },
      /^task\.test_size: task\.train_size \+ task\.test_size must be <= 10000.*9000 \+ 2000/,
    ],
    [
      { task: { kind: 'mnist', train_size: null, test_size: null } },
      /^task\.test_size: give task\.train_size or task\.test_size/,
    ],
    [
      { task: { kind: 'mnist', train_size: 10000, test_size: null } },
      /^task\.test_size: leaves no digit of the 10000 for the test set/,
    ],
    [{ task: { kind: 'fashion-mnist', data_dir: '' } }, /^task\.data_dir: expected a non-empty string or null, got ""/],
    [{ task: { kind: 'fashion-mnist', data_dir: 3 } }, /^task\.data_dir: expected a non-empty string or null, got 3/],
    [{ lr_schedule: { step_every: 5 } }, /^lr_schedule\.step_every: does not apply.*lr_schedule\.kind step/],
    [{ lr_schedule: { kind: 'step', gamma: 0 } }, /^lr_schedule\.gamma: expected a number > 0/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => resolveRunConfig(input),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(input),
    );
  }
  assert.deepEqual(resolveRunConfig({ task: { kind: 'mnist', train_size: 7000, test_size: null } }).task, {
    kind: 'mnist',
    train_size: 7000,
    test_size: null,
    downsample: false,
  });
});

test('string fields: --set parsing, null, docs', () => {
  assert.equal(parseValueFor(RUN_SCHEMA, 'task.data_dir', ' /srv/data '), '/srv/data');
  assert.equal(parseValueFor(RUN_SCHEMA, 'task.data_dir', 'null'), null);
  assert.deepEqual(parseValueFor(RUN_SCHEMA, 'model.hidden', '64,32'), [64, 32]);
  assert.equal(resolveRunConfig({ task: { kind: 'idx', data_dir: '/srv/data' } }).task.kind, 'idx');
  const rows = renderSchemaDoc(RUN_SCHEMA);
  assert.ok(rows.some((r) => r.startsWith('| `task.data_dir` | a string or null | `null` |')));
  assert.ok(rows.some((r) => r.startsWith('| `model.hidden` | list of integers | `[256,128]` |')));
});

test('learning-rate schedules: constant, and step by gamma every step_every epochs', () => {
  assert.equal(scheduledLr(0.1, { kind: 'constant' }, 50), 0.1);
  const step = { kind: 'step', step_every: 2, gamma: 0.5 } as const;
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((e) => scheduledLr(0.8, step, e)),
    [0.8, 0.8, 0.4, 0.4, 0.2],
  );
});

test('digital SGD: an MLP on 2,000 down-sampled MNIST digits beats 80 % test accuracy in 3 epochs', () => {
  const r = run({ algorithm: 'sgd', lr: 1 });
  assert.equal(r.history.length, 4);
  const first = r.history[0];
  assert.ok(first.test_accuracy! < 0.25, `untrained accuracy ${first.test_accuracy}`);
  assert.ok(Math.abs(first.train_loss - Math.log(10)) < 0.2);
  assert.ok(r.final.test_accuracy! >= 0.8, `test accuracy ${r.final.test_accuracy}`);
  assert.ok(r.final.train_accuracy! >= 0.75);
  assert.ok(r.final.test_loss! < 0.7 * first.test_loss!);
  assert.deepEqual(r.final.pulses, {});
});

test('analog SGD: the same MLP on analog tiles trains well above chance and counts pulses per tile', () => {
  const r = run({
    lr: 0.3,
    model: { kind: 'mlp', hidden: [32], activation: 'tanh' },
    device: { kind: 'softbounds', n_states: 2000 },
  });
  assert.ok(r.final.test_accuracy! >= 0.6, `test accuracy ${r.final.test_accuracy}`);
  assert.deepEqual(Object.keys(r.final.pulses), ['fc0/W', 'fc1/W']);
  assert.ok(r.final.pulses['fc0/W'] > 0 && r.final.pulses['fc1/W'] > 0);
  assert.ok(r.history[1].pulses['fc0/W'] < r.final.pulses['fc0/W'], 'pulses accumulate');
  const mixed = run({
    lr: 0.3,
    epochs: 1,
    model: { kind: 'mlp', hidden: [32], activation: 'tanh', digital_layers: [1] },
  });
  assert.deepEqual(Object.keys(mixed.final.pulses), ['fc0/W']);
});

test('determinism: same config and seed give the same history and weights; another seed differs', () => {
  const cfg = {
    epochs: 1,
    task: { kind: 'mnist', train_size: 300, test_size: 100, downsample: true },
    lr: 0.3,
    model: { kind: 'mlp', hidden: [16], activation: 'tanh' },
  };
  const a = run({ ...cfg, seed: 3 });
  const b = run({ ...cfg, seed: 3 });
  assert.deepEqual(a.history, b.history);
  assert.equal(a.weights_digest, b.weights_digest);
  const c = run({ ...cfg, seed: 4 });
  assert.notEqual(c.weights_digest, a.weights_digest);
});

test('LeNet-5 on analog tiles: one epoch on a few digits runs through every layer', () => {
  const r = run({
    task: { kind: 'mnist', train_size: 48, test_size: 16 },
    model: { kind: 'lenet5' },
    lr: 0.05,
    batch_size: 8,
    epochs: 1,
  });
  assert.deepEqual(Object.keys(r.final.pulses), ['conv0/W', 'conv1/W', 'fc2/W', 'fc3/W']);
  for (const v of Object.values(r.final.pulses)) assert.ok(v > 0);
  assert.ok(Number.isFinite(r.final.test_loss));
});

test('the step schedule takes effect: a vanishing gamma freezes the model after the first epoch', () => {
  const r = run({ algorithm: 'sgd', lr: 1, epochs: 2, lr_schedule: { kind: 'step', step_every: 1, gamma: 1e-12 } });
  assert.ok(Math.abs(r.history[2].test_loss! - r.history[1].test_loss!) < 1e-6);
  assert.notEqual(r.history[1].test_loss, r.history[0].test_loss);
});

test('train() asks for the dataset and checks that it matches the config', () => {
  const config = resolveRunConfig(SMALL);
  assert.throws(() => train(config), /task mnist needs its dataset: load it with loadDataset\(config\.task\)/);
  const other = loadDataset(resolveRunConfig({ ...SMALL, task: { ...SMALL.task, train_size: 100 } }).task);
  assert.throws(
    () => train(config, {}, other),
    /task\.train_size is 2000 but the mnist data passed in hold 100 images/,
  );
});

test('simulate: an mnist run prints test loss and accuracy; a missing dataset exits 2 with how to get it', () => {
  const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
  const cli = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', main, 'simulate', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
  const ok = cli(
    {},
    '--set',
    'task.kind=mnist',
    '--set',
    'task.train_size=200',
    '--set',
    'task.test_size=100',
    '--set',
    'task.downsample=true',
    '--set',
    'model.hidden=16',
    '--set',
    'epochs=1',
    '--set',
    'algorithm=sgd',
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /algorithm=sgd task=mnist model=mlp\(16\)\/sigmoid/);
  assert.match(ok.stdout, /epoch {2}train_loss {4}test_loss {5}test_acc/);
  const missing = cli({ AIMC_DATA_DIR: '/nonexistent/aimc-fm' }, '--set', 'task.kind=fashion-mnist');
  assert.equal(missing.status, 2);
  assert.match(
    missing.stderr,
    /\/nonexistent\/aimc-fm\/train-images-idx3-ubyte\.gz not found.*apt-get install dataset-fashion-mnist/,
  );
});
