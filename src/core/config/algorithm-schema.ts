/**
 * Hyper-parameters of the training algorithms (top-level RunConfig fields). Each applies only
 * to the algorithms named in its `when`, so a field given to an algorithm that has no such
 * parameter is an error. Defaults and their sources are in the doc strings (docs/config.md).
 */
import { bool, type FieldSpec, num, oneOf, type Plain } from './schema.ts';

export const ALGORITHMS = [
  'sgd',
  'analog-sgd',
  'tiki-taka',
  'ttv2',
  'c-ttv2',
  'agad',
  'mp',
  'rlv2',
  'residual',
] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

/** Algorithms that move a fast (gradient) array's content into slower arrays by column transfers. */
export const TRANSFER_ALGORITHMS: readonly AlgorithmName[] = [
  'tiki-taka',
  'ttv2',
  'c-ttv2',
  'agad',
  'rlv2',
  'residual',
];
const BUFFERED = ['ttv2', 'c-ttv2', 'agad', 'rlv2'] as const;
const CHOPPED = ['c-ttv2', 'agad'] as const;

const algo = (root: Plain): AlgorithmName => root.algorithm as AlgorithmName;
function only(names: readonly AlgorithmName[]): { when: (root: Plain) => boolean; whenDoc: string } {
  return { when: (root) => names.includes(algo(root)), whenDoc: `algorithm ${names.join(' | ')}` };
}
function per(values: Partial<Record<AlgorithmName, number>>, fallback: number): (root: Plain) => number {
  return (root) => values[algo(root)] ?? fallback;
}

/** The buffers that are reset when they fire (momentum, forget_buffer): all but rlv2's moving average. */
const resetBuffers = {
  when: (root: Plain) =>
    BUFFERED.includes(algo(root) as (typeof BUFFERED)[number]) &&
    !(algo(root) === 'rlv2' && root.rlv2_transfer !== 'reset-on-write'),
  whenDoc: 'algorithm ttv2 | c-ttv2 | agad, or rlv2 with rlv2_transfer reset-on-write',
};

export interface AlgorithmParams {
  gamma?: number;
  fast_lr?: number;
  scale_fast_lr?: boolean;
  auto_scale?: boolean;
  transfer_lr?: number;
  scale_transfer_lr?: boolean;
  transfer_every?: number;
  transfer_units?: 'batches' | 'samples';
  reference?: 'ideal' | 'offset' | 'none';
  sigma_r?: number;
  momentum?: number;
  forget_buffer?: boolean;
  buffer_granularity?: number;
  auto_granularity?: number;
  buffer_leak?: number;
  rlv2_transfer?: 'moving-average' | 'reset-on-write';
  chop_prob?: number;
  tail_weightening?: number;
  mp_granularity?: number | null;
  n_tiles?: number;
  tile_gamma?: number;
  transfer_every_growth?: number;
  transfer_lr_growth?: number;
  warm_start?: boolean;
}

export const ALGORITHM_FIELDS: Readonly<Record<string, FieldSpec>> = {
  gamma: num(
    'Mixing weight of the fast array in the effective weight W = gamma * A + C (TT-v1: gamma = 0 is classic ' +
      'Tiki-Taka, gamma > 0 is residual learning of the response-function paper; rlv2: W + gamma P; c-ttv2/agad: ' +
      'gamma * de-chopped A).',
    per({ rlv2: 0.2 }, 0),
    { min: 0, ...only(['tiki-taka', 'ttv2', 'c-ttv2', 'agad', 'rlv2']) },
  ),
  fast_lr: num(
    "Learning rate of the pulsed gradient update onto the fast array (aihwkit fast_lr; default 1, aihwkit's " +
      "compound default, also the residual and response-function papers' runs). The residual paper's baselines " +
      'used TT-v1 0.01 and TT-v2 0.1 (MNIST) / 0.05 (Fashion-MNIST).',
    1,
    { gt: 0, ...only(TRANSFER_ALGORITHMS) },
  ),
  scale_fast_lr: bool(
    'Multiply fast_lr by the scheduled SGD lr (aihwkit HEAD). false: constant fast_lr, as in the aihwkit ' +
      'releases the papers used.',
    false,
    only(TRANSFER_ALGORITHMS),
  ),
  auto_scale: bool(
    'Scale the fast lr by desired_bl * dw_min_A / (m_x m_d) with running abs-max averages of x and d (c-TTv2 ' +
      'paper eq. 15, aihwkit auto_scale), so the pulses per update stay about fast_lr * desired_bl.',
    false,
    only(CHOPPED),
  ),
  transfer_lr: num(
    "Learning rate of transfers into the slow array (default 1, aihwkit's compound default; the residual " +
      "paper's TT-v1 baseline used 0.1). residual: of the transfers from the gradient tile side, growing per " +
      'level (transfer_lr_growth; paper 0.1). rlv2: scales the reads into the moving average (1: H averages the ' +
      'residual array itself, eq. 14).',
    per({ residual: 0.1 }, 1),
    { gt: 0, ...only([...TRANSFER_ALGORITHMS, 'mp']) },
  ),
  scale_transfer_lr: bool(
    'Multiply transfer_lr by the scheduled SGD lr (aihwkit default true; false for residual and rlv2, whose ' +
      'papers ran an unscaled transfer lr).',
    (root) => algo(root) !== 'residual' && algo(root) !== 'rlv2',
    only(TRANSFER_ALGORITHMS),
  ),
  transfer_every: num(
    'Transfer period: one column every transfer_every units (see transfer_units); residual: the period of the ' +
      'gradient tile, growing per level (transfer_every_growth); mp: in mini-batches.',
    per({ residual: 2 }, 1),
    { gt: 0, ...only([...TRANSFER_ALGORITHMS, 'mp']) },
  ),
  transfer_units: oneOf(
    'Unit of transfer_every: batches = ceil(transfer_every * batch_size) sample updates (aihwkit ' +
      'units_in_mbatch), samples = sample updates. Default: samples for c-ttv2 and agad, batches otherwise ' +
      '(aihwkit defaults).',
    ['batches', 'samples'],
    (root) => (CHOPPED.includes(algo(root) as (typeof CHOPPED)[number]) ? 'samples' : 'batches'),
    only(TRANSFER_ALGORITHMS),
  ),
  reference: oneOf(
    "Reference of the fast array(s): ideal = read against each device's symmetric point (zero shifting), " +
      'offset = that point plus a programming error N(0, sigma_r^2), none = raw conductance.',
    ['ideal', 'offset', 'none'],
    'ideal',
    only(TRANSFER_ALGORITHMS),
  ),
  sigma_r: num(
    'Std of the reference programming error (reference: offset), in weight units (c-TTv2 paper: 0.1-0.5).',
    0.1,
    {
      min: 0,
      when: (root) => TRANSFER_ALGORITHMS.includes(algo(root)) && root.reference === 'offset',
      whenDoc: 'reference offset',
    },
  ),
  rlv2_transfer: oneOf(
    "rlv2: moving-average = the paper's eqs. 14-15 (H a moving average of the reads, never reset; one pulse in " +
      'the sign of H per read where |H| > the threshold); reset-on-write = the TT-v2-like rule (an entry that ' +
      'reaches the threshold fires and is reset).',
    ['moving-average', 'reset-on-write'],
    'moving-average',
    only(['rlv2']),
  ),
  momentum: num(
    'Fraction of a digital buffer entry kept after it fires (aihwkit momentum; TT-v2 python default 0.1, chopped 0).',
    per({ ttv2: 0.1 }, 0),
    { min: 0, max: 1, ...resetBuffers },
  ),
  forget_buffer: bool(
    'After a write, the buffer entry becomes h * momentum (true) or h - (1 - momentum) * n (false).',
    true,
    resetBuffers,
  ),
  buffer_granularity: num(
    'Buffer threshold in units of a dw_min: of the slow array W for ttv2 and rlv2 (aihwkit BufferedTransfer ' +
      'thres_scale), of the fast array A for c-ttv2 and agad (aihwkit ChoppedTransfer buffer_granularity).',
    1,
    { gt: 0, ...only(BUFFERED) },
  ),
  auto_granularity: num(
    'c-ttv2/agad: if > 0, the threshold scales with dw_min_A * auto_granularity / (in_size * transfer_every) ' +
      '(aihwkit auto_granularity).',
    0,
    {
      min: 0,
      ...only(CHOPPED),
    },
  ),
  buffer_leak: num(
    'rlv2: leak beta of the digital buffer H <- (1 - beta) H + beta * read (residual-learning v2, eq. 14).',
    0.1,
    { gt: 0, max: 1, ...only(['rlv2']) },
  ),
  chop_prob: num(
    "c-ttv2: probability to flip a column's chopper after its read; agad: 1 / chopper period in full sweeps.",
    0.1,
    { gt: 0, max: 1, ...only(CHOPPED) },
  ),
  tail_weightening: num(
    'agad: weight of recent reads in the running mean, beta = min(tail_weightening / period, 1) (aihwkit ' +
      'python default 5).',
    5,
    { gt: 0, ...only(['agad']) },
  ),
  mp_granularity: num(
    'mp: the step eps of the digital accumulator chi (null: the device granularity, aihwkit default).',
    null,
    { nullable: true, gt: 0, ...only(['mp']) },
  ),
  n_tiles: num('residual: number of tiles, the gradient tile included (the paper\'s "N + 1").', 3, {
    integer: true,
    min: 1,
    max: 12,
    ...only(['residual']),
  }),
  tile_gamma: num(
    'residual: scale between consecutive tiles, Wbar = sum_n gamma^n W^(n) (best slightly above 1 / n_states).',
    0.5,
    { gt: 0, max: 1, ...only(['residual']) },
  ),
  transfer_every_growth: num(
    'residual: transfer period of tile n (from the gradient side) = transfer_every * growth^n (paper MNIST: 2 * 5^n).',
    5,
    { min: 1, ...only(['residual']) },
  ),
  transfer_lr_growth: num(
    'residual: transfer lr from tile n (from the gradient side) = transfer_lr * growth^(n_tiles - 1 - n) ' +
      '(paper: 0.1 * 1.2^n, largest on the gradient side).',
    1.2,
    { gt: 0, ...only(['residual']) },
  ),
  warm_start: bool(
    'residual: warm start of Algorithm 1: the gradient tile fills the tiles from the most significant down, ' +
      'switching on a loss plateau, before the cascade runs.',
    false,
    only(['residual']),
  ),
};
