/**
 * Hyper-parameters of the training algorithms (top-level RunConfig fields). Each applies only
 * to the algorithms named in its `when`, so a field given to an algorithm that has no such
 * parameter is an error. Defaults and their sources are in the doc strings (docs/config.md).
 */
import { bool, type FieldSpec, num, oneOf, type Plain } from './schema.ts';

export const ALGORITHMS = ['sgd', 'analog-sgd', 'tiki-taka', 'ttv2', 'c-ttv2', 'agad', 'mp', 'rlv2', 'residual'] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

/** Algorithms that move a fast (gradient) array's content into slower arrays by column transfers. */
const TRANSFER = ['tiki-taka', 'ttv2', 'c-ttv2', 'agad', 'rlv2', 'residual'] as const;
const BUFFERED = ['ttv2', 'c-ttv2', 'agad', 'rlv2'] as const;
const CHOPPED = ['c-ttv2', 'agad'] as const;

const algo = (root: Plain): AlgorithmName => root.algorithm as AlgorithmName;
function only(names: readonly AlgorithmName[]): { when: (root: Plain) => boolean; whenDoc: string } {
  return { when: (root) => names.includes(algo(root)), whenDoc: `algorithm ${names.join(' | ')}` };
}
function per(values: Partial<Record<AlgorithmName, number>>, fallback: number): (root: Plain) => number {
  return (root) => values[algo(root)] ?? fallback;
}

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
    'Mixing weight of the fast array in the effective weight W = gamma * A + C (TT-v1: gamma = 0 is classic Tiki-Taka, gamma > 0 is residual learning of the response-function paper; rlv2: W + gamma P; c-ttv2/agad: gamma * de-chopped A).',
    per({ rlv2: 0.2 }, 0),
    { min: 0, ...only(['tiki-taka', 'ttv2', 'c-ttv2', 'agad', 'rlv2']) },
  ),
  fast_lr: num(
    'Learning rate of the pulsed gradient update onto the fast array (aihwkit fast_lr). Defaults from the papers\' runs: TT-v1 0.01, TT-v2 family 0.1, residual 1.',
    per({ 'tiki-taka': 0.01, residual: 1 }, 0.1),
    { gt: 0, ...only(TRANSFER) },
  ),
  scale_fast_lr: bool('Multiply fast_lr by the scheduled SGD lr (aihwkit HEAD). false: constant fast_lr, as in the aihwkit releases the papers used.', false, only(TRANSFER)),
  auto_scale: bool(
    'Scale the fast lr by desired_bl * dw_min_A / (m_x m_d) with running abs-max averages of x and d (c-TTv2 paper eq. 15, aihwkit auto_scale), so the pulses per update stay about fast_lr * desired_bl.',
    false,
    only(CHOPPED),
  ),
  transfer_lr: num(
    'Learning rate of transfers into the slow array (residual: of the transfers from the gradient tile side, growing per level, see transfer_lr_growth).',
    per({ 'tiki-taka': 0.1, residual: 0.1, rlv2: 0.5 }, 1),
    { gt: 0, ...only([...TRANSFER, 'mp']) },
  ),
  scale_transfer_lr: bool('Multiply transfer_lr by the scheduled SGD lr (aihwkit default true; the residual paper uses false).', (root) => algo(root) !== 'residual', only(TRANSFER)),
  transfer_every: num(
    'Transfer period: one column every transfer_every units (see transfer_units); residual: the period of the gradient tile, growing per level (transfer_every_growth); mp: in mini-batches.',
    per({ residual: 2 }, 1),
    { gt: 0, ...only([...TRANSFER, 'mp']) },
  ),
  transfer_units: oneOf(
    'Unit of transfer_every: batches = ceil(transfer_every * batch_size) sample updates (aihwkit units_in_mbatch), samples = sample updates. Default: samples for c-ttv2 and agad, batches otherwise (aihwkit defaults).',
    ['batches', 'samples'],
    (root) => (CHOPPED.includes(algo(root) as (typeof CHOPPED)[number]) ? 'samples' : 'batches'),
    only(TRANSFER),
  ),
  reference: oneOf(
    'Reference of the fast array(s): ideal = read against each device\'s symmetric point (zero shifting), offset = that point plus a programming error N(0, sigma_r^2), none = raw conductance.',
    ['ideal', 'offset', 'none'],
    'ideal',
    only(TRANSFER),
  ),
  sigma_r: num('Std of the reference programming error (reference: offset), in weight units (c-TTv2 paper: 0.1-0.5).', 0.1, {
    min: 0,
    when: (root) => TRANSFER.includes(algo(root) as (typeof TRANSFER)[number]) && root.reference === 'offset',
    whenDoc: 'reference offset',
  }),
  momentum: num('Fraction of a digital buffer entry kept after it fires (aihwkit momentum; TT-v2 python default 0.1, chopped 0).', per({ ttv2: 0.1 }, 0), { min: 0, max: 1, ...only(BUFFERED) }),
  forget_buffer: bool('After a write, the buffer entry becomes h * momentum (true) or h - (1 - momentum) * n (false).', true, only(BUFFERED)),
  buffer_granularity: num('Buffer threshold in units of dw_min of the fast array (aihwkit thres_scale / buffer_granularity).', 1, { gt: 0, ...only(BUFFERED) }),
  auto_granularity: num('c-ttv2/agad: if > 0, the threshold scales with dw_min_A * auto_granularity / (in_size * transfer_every) (aihwkit auto_granularity).', 0, {
    min: 0,
    ...only(CHOPPED),
  }),
  buffer_leak: num('rlv2: leak beta of the digital buffer H <- (1 - beta) H + beta * read (residual-learning v2, eq. 14).', 0.1, { gt: 0, max: 1, ...only(['rlv2']) }),
  chop_prob: num('c-ttv2: probability to flip a column\'s chopper after its read; agad: 1 / chopper period in full sweeps.', 0.1, { gt: 0, max: 1, ...only(CHOPPED) }),
  tail_weightening: num('agad: weight of recent reads in the running mean, beta = min(tail_weightening / period, 1) (aihwkit python default 5).', 5, { gt: 0, ...only(['agad']) }),
  mp_granularity: num('mp: the step eps of the digital accumulator chi (null: the device granularity, aihwkit default).', null, { nullable: true, gt: 0, ...only(['mp']) }),
  n_tiles: num('residual: number of tiles, the gradient tile included (the paper\'s "N + 1").', 3, { integer: true, min: 1, max: 12, ...only(['residual']) }),
  tile_gamma: num('residual: scale between consecutive tiles, Wbar = sum_n gamma^n W^(n) (best slightly above 1 / n_states).', 0.5, { gt: 0, max: 1, ...only(['residual']) }),
  transfer_every_growth: num('residual: transfer period of tile n (from the gradient side) = transfer_every * growth^n (paper MNIST: 2 * 5^n).', 5, { min: 1, ...only(['residual']) }),
  transfer_lr_growth: num('residual: transfer lr from tile n (from the gradient side) = transfer_lr * growth^(n_tiles - 1 - n) (paper: 0.1 * 1.2^n, largest on the gradient side).', 1.2, { gt: 0, ...only(['residual']) }),
  warm_start: bool('residual: warm start of Algorithm 1: the gradient tile fills the tiles from the most significant down, switching on a loss plateau, before the cascade runs.', false, only(['residual'])),
};
