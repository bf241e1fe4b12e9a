import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import type { ClassificationTask } from '../src/core/config/task-schema.ts';
import {
  clearDatasetCache,
  DataError,
  FASHION_MNIST_DIR,
  IDX_FILES,
  loadDataset,
  resolveDataDir,
} from '../src/data/index.ts';
import { encodeIdx, parseIdx, readIdxImages, readIdxLabels } from '../src/data/idx.ts';
import { mnistSplit, readMnistDigits } from '../src/data/mnist.ts';
import { downsample2x } from '../src/data/transform.ts';

const tmp = mkdtempSync(join(tmpdir(), 'aimc-data-'));

function task(t: Record<string, unknown>): ClassificationTask {
  return resolveRunConfig({ task: t }).task as ClassificationTask;
}

function bytes(n: number, f: (k: number) => number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, k) => f(k) & 255);
}

/** Writes a small IDX dataset: nTrain/nTest images of h x w, labels k % classes. */
function writeDataset(
  dir: string,
  nTrain: number,
  nTest: number,
  h: number,
  w: number,
  classes: number,
  gzip: boolean,
): void {
  mkdirSync(dir, { recursive: true });
  const put = (base: string, data: Uint8Array): void =>
    writeFileSync(join(dir, gzip ? `${base}.gz` : base), gzip ? gzipSync(data) : data);
  put(
    IDX_FILES.trainImages,
    encodeIdx(
      [nTrain, h, w],
      bytes(nTrain * h * w, (k) => k * 7),
    ),
  );
  put(
    IDX_FILES.trainLabels,
    encodeIdx(
      [nTrain],
      bytes(nTrain, (k) => k % classes),
    ),
  );
  put(
    IDX_FILES.testImages,
    encodeIdx(
      [nTest, h, w],
      bytes(nTest * h * w, (k) => k * 3 + 1),
    ),
  );
  put(
    IDX_FILES.testLabels,
    encodeIdx(
      [nTest],
      bytes(nTest, (k) => (k + 1) % classes),
    ),
  );
}

test('IDX round trip, plain and gzip', () => {
  for (const gzip of [false, true]) {
    const file = join(tmp, `round-trip${gzip ? '.gz' : ''}`);
    const data = bytes(3 * 4 * 5, (k) => k * 11);
    const encoded = encodeIdx([3, 4, 5], data);
    writeFileSync(file, gzip ? gzipSync(encoded) : encoded);
    const img = readIdxImages(file);
    assert.deepEqual([img.n, img.height, img.width], [3, 4, 5]);
    assert.deepEqual(Array.from(img.pixels), Array.from(data));
    assert.equal(img.pixels.constructor, Uint8Array);
    const labelFile = join(tmp, `labels${gzip ? '.gz' : ''}`);
    writeFileSync(
      labelFile,
      gzip ? gzipSync(encodeIdx([3], Uint8Array.of(2, 0, 1))) : encodeIdx([3], Uint8Array.of(2, 0, 1)),
    );
    assert.deepEqual(Array.from(readIdxLabels(labelFile)), [2, 0, 1]);
  }
});

test('IDX validation: every malformed file is rejected with its name and the problem', () => {
  const good = encodeIdx(
    [2, 2, 2],
    bytes(8, (k) => k),
  );
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['bad-gzip', Uint8Array.of(0x1f, 0x8b, 1, 2, 3), /bad-gzip: not a valid gzip file/],
    ['short', Uint8Array.of(0, 0), /short: 2 bytes, too short for an IDX header/],
    [
      'magic',
      Uint8Array.from([0x50, 0x4b, 3, 4, ...good.subarray(4)]),
      /magic: bad magic number 0x504b0304: an IDX file starts with two zero bytes/,
    ],
    [
      'float',
      Uint8Array.from([0, 0, 0x0d, ...good.subarray(3)]),
      /float: data type 0x0d \(float data\) is not supported; expected 0x08/,
    ],
    [
      'unknown-type',
      Uint8Array.from([0, 0, 0x42, ...good.subarray(3)]),
      /unknown-type: data type 0x42 \(an unknown data type\)/,
    ],
    ['no-dims', Uint8Array.of(0, 0, 8, 0), /no-dims: the header gives 0 dimensions/],
    ['cut-header', good.subarray(0, 10), /cut-header: truncated header: 3 dimensions need 16 bytes, the file has 10/],
    ['zero-dim', encodeIdx([2, 0, 2], new Uint8Array(0)), /zero-dim: dimension 1 has size 0/],
    [
      'truncated',
      good.subarray(0, good.length - 1),
      /truncated: truncated: dimensions 2 x 2 x 2 need 8 data bytes, the file has 7/,
    ],
    [
      'trailing',
      Uint8Array.from([...good, 9]),
      /trailing: trailing bytes: dimensions 2 x 2 x 2 need 8 data bytes, the file has 9/,
    ],
  ];
  for (const [name, data, re] of cases) {
    assert.throws(
      () => parseIdx(data, name),
      (e: unknown) => e instanceof DataError && re.test(e.message),
      name,
    );
  }
  const labelsAsImages = join(tmp, 'labels-as-images');
  writeFileSync(
    labelsAsImages,
    encodeIdx(
      [4],
      bytes(4, (k) => k),
    ),
  );
  assert.throws(
    () => readIdxImages(labelsAsImages),
    /labels-as-images: an image file has 3 dimensions \(images x rows x columns\), this one has 1 \(4\)/,
  );
  const imagesAsLabels = join(tmp, 'images-as-labels');
  writeFileSync(imagesAsLabels, good);
  assert.throws(() => readIdxLabels(imagesAsLabels), /images-as-labels: a label file has 1 dimension, this one has 3/);
  assert.throws(() => readIdxImages(join(tmp, 'nope')), /nope: cannot read/);
});

test('an IDX dataset directory: loaded, subset, down-sampled, cached; inconsistent files are named', () => {
  for (const gzip of [false, true]) {
    const dir = join(tmp, gzip ? 'ds-gz' : 'ds-plain');
    writeDataset(dir, 12, 5, 4, 6, 3, gzip);
    const t = task({ kind: 'idx', data_dir: dir });
    const d = loadDataset(t);
    assert.deepEqual([d.height, d.width, d.channels, d.classes, d.train.n, d.test.n], [4, 6, 1, 3, 12, 5]);
    assert.equal(d.train.scale, 1 / 255);
    assert.deepEqual(Array.from(d.train.pixels.subarray(0, 4)), [0, 7, 14, 21]);
    assert.deepEqual(Array.from(d.test.labels), [1, 2, 0, 1, 2]);
    assert.equal(loadDataset(t), d, 'cached');
    const sub = loadDataset(task({ kind: 'idx', data_dir: dir, train_size: 5, test_size: 2 }));
    assert.deepEqual([sub.train.n, sub.test.n], [5, 2]);
    assert.deepEqual(
      Array.from(sub.train.pixels),
      Array.from(d.train.pixels.subarray(0, 5 * 24)),
      'the first train_size images',
    );
    const ds = loadDataset(task({ kind: 'idx', data_dir: dir, downsample: true }));
    assert.deepEqual([ds.height, ds.width], [2, 3]);
    const p = d.train.pixels;
    assert.equal(ds.train.pixels[0], (p[0] + p[1] + p[6] + p[7]) / 4);
    assert.throws(
      () => loadDataset(task({ kind: 'idx', data_dir: dir, train_size: 13 })),
      /task\.train_size is 13 but there are only 12 images/,
    );
  }
  const bad = join(tmp, 'ds-bad');
  writeDataset(bad, 4, 2, 3, 3, 2, false);
  writeFileSync(
    join(bad, IDX_FILES.trainLabels),
    encodeIdx(
      [3],
      bytes(3, () => 0),
    ),
  );
  assert.throws(
    () => loadDataset(task({ kind: 'idx', data_dir: bad })),
    /train-labels-idx1-ubyte: 3 labels for the 4 images of .*train-images-idx3-ubyte/,
  );
  writeFileSync(
    join(bad, IDX_FILES.trainLabels),
    encodeIdx(
      [4],
      bytes(4, () => 0),
    ),
  );
  writeFileSync(
    join(bad, IDX_FILES.testImages),
    encodeIdx(
      [2, 2, 2],
      bytes(8, () => 0),
    ),
  );
  assert.throws(
    () => loadDataset(task({ kind: 'idx', data_dir: bad })),
    /t10k-images-idx3-ubyte: images are 2x2, those of .* 3x3/,
  );
});

test(
  'fashion-mnist: the directory comes from task.data_dir, AIMC_DATA_DIR, then the Debian default; a missing one ' +
    'says how to get it',
  () => {
    const fm = task({ kind: 'fashion-mnist' });
    assert.equal(resolveDataDir(fm, {}), FASHION_MNIST_DIR);
    assert.equal(resolveDataDir(fm, { AIMC_DATA_DIR: '/data/fm' }), '/data/fm');
    assert.equal(
      resolveDataDir(task({ kind: 'fashion-mnist', data_dir: '/cfg/fm' }), { AIMC_DATA_DIR: '/data/fm' }),
      '/cfg/fm',
    );
    assert.throws(
      () => resolveDataDir(task({ kind: 'idx' }), {}),
      /task\.kind idx needs the directory of its IDX files: set task\.data_dir or the AIMC_DATA_DIR/,
    );
    const missing = join(tmp, 'no-such-dir');
    assert.throws(
      () => loadDataset(fm, { env: { AIMC_DATA_DIR: missing } }),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.includes(join(missing, 'train-images-idx3-ubyte.gz')) &&
        /apt-get install dataset-fashion-mnist/.test(e.message) &&
        /task\.data_dir or AIMC_DATA_DIR/.test(e.message),
    );
    const dir = join(tmp, 'fm');
    writeDataset(dir, 6, 3, 28, 28, 10, true);
    const d = loadDataset(fm, { env: { AIMC_DATA_DIR: dir } });
    assert.deepEqual([d.name, d.classes, d.train.n, d.test.n], ['fashion-mnist', 10, 6, 3]);
  },
);

test("mnist: the package's 10,000 digits as bytes, 28x28, about 1,000 per class", () => {
  const digits = readMnistDigits();
  assert.equal(digits.n, 10000);
  assert.equal(digits.pixels.length, 10000 * 784);
  const counts = new Array(10).fill(0);
  for (const l of digits.labels) counts[l]++;
  assert.ok(
    counts.every((c) => c > 800 && c < 1200),
    String(counts),
  );
  assert.equal(Math.max(...digits.pixels.subarray(0, 784)), 255);
});

test('mnist split: fixed, disjoint, sized as configured; the test set does not depend on train_size', () => {
  clearDatasetCache();
  const a = mnistSplit(8000, 2000);
  const b = mnistSplit(8000, 2000);
  assert.deepEqual(a, b);
  const all = new Set([...a.train, ...a.test]);
  assert.equal(all.size, 10000, 'disjoint and complete');
  const small = mnistSplit(500, 2000);
  assert.deepEqual(small.test, a.test);
  assert.deepEqual(small.train, a.train.subarray(0, 500));
  assert.equal(mnistSplit(null, 2000).train.length, 8000);
  assert.equal(mnistSplit(7000, null).test.length, 3000);
  assert.throws(() => mnistSplit(9000, 2000), /cannot split 10000 digits into 9000 training and 2000 test digits/);

  const d = loadDataset(task({ kind: 'mnist' }));
  assert.deepEqual([d.train.n, d.test.n, d.height, d.width, d.classes], [8000, 2000, 28, 28, 10]);
  const digits = readMnistDigits();
  for (const k of [0, 1234, 7999]) {
    const s = a.train[k];
    assert.deepEqual(d.train.pixels.subarray(k * 784, (k + 1) * 784), digits.pixels.subarray(s * 784, (s + 1) * 784));
    assert.equal(d.train.labels[k], digits.labels[s]);
  }
  const counts = new Array(10).fill(0);
  for (const l of d.test.labels) counts[l]++;
  assert.ok(
    counts.every((c) => c > 120),
    `every class in the test set: ${counts}`,
  );
  const sub = loadDataset(task({ kind: 'mnist', train_size: 300, test_size: 100 }));
  assert.deepEqual([sub.train.n, sub.test.n], [300, 100]);
  assert.deepEqual(sub.train.pixels, d.train.pixels.subarray(0, 300 * 784));
  clearDatasetCache();
  assert.deepEqual(
    loadDataset(task({ kind: 'mnist', train_size: 300, test_size: 100 })).test.labels,
    sub.test.labels,
    'same split after a reload',
  );
});

test('down-sampling: 2x2 averages of a known image; mnist down-sampled matches its full-size digits', () => {
  // 4x5 image: the last column is dropped (floor), as MaxPool/AvgPool do
  const img = Uint8Array.of(0, 4, 8, 12, 99, 16, 20, 24, 28, 99, 1, 2, 3, 4, 99, 5, 6, 7, 8, 99);
  assert.deepEqual(Array.from(downsample2x(img, 1, 4, 5)), [10, 18, 3.5, 5.5]);
  const two = downsample2x(Uint8Array.from([...img, ...img.map((v) => 255 - v)]), 2, 4, 5);
  assert.deepEqual(Array.from(two.subarray(4)), [245, 237, 251.5, 249.5]);

  const full = loadDataset(task({ kind: 'mnist', train_size: 50, test_size: 20 }));
  const ds = loadDataset(task({ kind: 'mnist', train_size: 50, test_size: 20, downsample: true }));
  assert.deepEqual([ds.height, ds.width, ds.train.n, ds.test.n], [14, 14, 50, 20]);
  assert.deepEqual(ds.train.labels, full.train.labels);
  const k = 17;
  const p = full.train.pixels.subarray(k * 784, (k + 1) * 784);
  for (const [i, j] of [
    [0, 0],
    [7, 7],
    [5, 9],
    [13, 13],
  ]) {
    const expect =
      (p[2 * i * 28 + 2 * j] +
        p[2 * i * 28 + 2 * j + 1] +
        p[(2 * i + 1) * 28 + 2 * j] +
        p[(2 * i + 1) * 28 + 2 * j + 1]) /
      4;
    assert.equal(ds.train.pixels[k * 196 + i * 14 + j], expect);
  }
  assert.equal(ds.train.scale, 1 / 255);
  let max = 0;
  for (const v of ds.test.pixels) max = Math.max(max, v * ds.test.scale);
  assert.ok(max <= 1 && max > 0.9, `inputs scaled to [0, 1], max ${max}`);
});
