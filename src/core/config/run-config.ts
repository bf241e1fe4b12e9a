/**
 * RunConfig: the complete description of one simulation run. `resolveRunConfig` turns a user's
 * partial config (from --set, a JSON file or a sweep) into the canonical, fully defaulted and
 * validated form; unknown keys and fields that do not apply are errors, never ignored.
 */
import type { CostConstants } from '../../cost/constants.ts';
import { DEVICE_SCHEMA, type DeviceParams, finishDevice, prepareDevice } from '../devices/params.ts';
import { IO_DEFAULTS, type IoConfig, type TransferIoConfig } from '../io.ts';
import type { UpdateConfig } from '../pulse-trains.ts';
import {
  bool,
  ConfigError,
  type FieldSpec,
  group,
  type GroupSpec,
  num,
  oneOf,
  type Plain,
  resolveGroup,
} from './schema.ts';
import {
  isLeastSquares,
  type LrScheduleConfig,
  type ModelConfig,
  TASK_SCHEMA,
  type TaskConfig,
  TRAINING_SECTIONS,
} from './task-schema.ts';
import {
  ALGORITHM_FIELDS,
  ALGORITHMS,
  type AlgorithmName,
  type AlgorithmParams,
  TRANSFER_ALGORITHMS,
} from './algorithm-schema.ts';
import { COST_SCHEMA } from './cost-schema.ts';

export { ALGORITHMS, type AlgorithmName } from './algorithm-schema.ts';

export interface RunConfig extends AlgorithmParams {
  seed: number;
  algorithm: AlgorithmName;
  lr: number;
  batch_size: number;
  epochs: number;
  task: TaskConfig;
  /** classification tasks only */
  model?: ModelConfig;
  lr_schedule: LrScheduleConfig;
  /** least-squares only (classification models use model.init_scale) */
  init?: { kind: 'zero' | 'uniform' | 'normal'; scale: number };
  device?: DeviceParams;
  io?: IoConfig;
  /** transfer algorithms only: the IO of their column reads */
  transfer_io?: TransferIoConfig;
  update?: UpdateConfig;
  /**
   * Hardware constants of the cost estimates (docs/cost.md): only those that differ from the
   * papers' defaults; absent when none does (src/cost/constants.ts costConstants fills them in).
   */
  cost?: Partial<CostConstants>;
}

const isAnalog = (root: Plain): boolean => root.algorithm !== 'sgd';

/**
 * The fields of an IO section (`io`, or `transfer_io` without the management fields, which a
 * one-hot read does not use); the noisy fields apply when the section's kind is noisy.
 * Defaults are aihwkit's IOParameters (IO_DEFAULTS).
 */
function ioFields(
  section: 'io' | 'transfer_io',
  kindDefault: string | ((root: Plain) => string),
  kindDoc: string,
): Record<string, FieldSpec> {
  const noisy = { when: (root: Plain) => (root[section] as Plain).kind === 'noisy', whenDoc: `${section}.kind noisy` };
  const fields: Record<string, FieldSpec> = {
    kind: oneOf(kindDoc, ['ideal', 'noisy'], kindDefault),
    inp_res: num(
      'Relative DAC step (> 1: number of steps; <= 0: no quantisation). 1/126 is 7 bit.',
      IO_DEFAULTS.inp_res,
      noisy,
    ),
    inp_bound: num('DAC range [-inp_bound, inp_bound].', IO_DEFAULTS.inp_bound, { gt: 0, ...noisy }),
    inp_noise: num('Additive Gaussian input noise after the DAC.', IO_DEFAULTS.inp_noise, { min: 0, ...noisy }),
    inp_sto_round: bool('Stochastic rounding in the DAC.', IO_DEFAULTS.inp_sto_round, noisy),
    out_res: num('Relative ADC step (> 1: number of steps; <= 0: none). 1/510 is 9 bit.', IO_DEFAULTS.out_res, noisy),
    out_bound: num('ADC range [-out_bound, out_bound] (<= 0: unbounded).', IO_DEFAULTS.out_bound, noisy),
    out_noise: num('Additive Gaussian output noise std (before the ADC).', IO_DEFAULTS.out_noise, { min: 0, ...noisy }),
    out_sto_round: bool('Stochastic rounding in the ADC.', IO_DEFAULTS.out_sto_round, noisy),
  };
  if (section === 'transfer_io') return fields;
  return {
    ...fields,
    noise_management: oneOf(
      'Scale inputs by their abs-max before the DAC.',
      ['none', 'abs-max'],
      IO_DEFAULTS.noise_management,
      noisy,
    ),
    nm_thres: num('Cap of the abs-max noise-management factor (0: none).', IO_DEFAULTS.nm_thres, { min: 0, ...noisy }),
    bound_management: oneOf(
      'Iteratively halve the input when an output saturates (forward only).',
      ['none', 'iterative'],
      IO_DEFAULTS.bound_management,
      noisy,
    ),
    max_bm_factor: num('Largest bound-management reduction factor.', IO_DEFAULTS.max_bm_factor, { min: 1, ...noisy }),
    max_bm_res: num(
      'Bound management stops when the reduction would exceed max_bm_res / input step.',
      IO_DEFAULTS.max_bm_res,
      { gt: 0, ...noisy },
    ),
  };
}

const IO_SCHEMA: GroupSpec = group(
  'Forward/backward periphery of analog tiles (docs/science.md §5).',
  ioFields('io', 'ideal', 'ideal: exact W x; noisy: DAC/ADC resolution, output noise, noise and bound management.'),
  isAnalog,
  true,
);

/**
 * The reads of the transfer algorithms (one column through a one-hot input, aihwkit
 * transfer_forward): their own IO, noise and bound management off. The default kind follows
 * `io.kind`, as the papers ran them (residual paper: ideal everywhere; response-function and
 * c-TTv2 papers: aihwkit's noisy defaults everywhere); `transfer_io.kind: noisy` with an ideal
 * `io` is aihwkit's own default (noisy reads, output noise 0.06, 9-bit ADC on +-12).
 */
const TRANSFER_IO_SCHEMA: GroupSpec = group(
  'Periphery of the transfer reads of the transfer algorithms (noise and bound management off: one-hot input).',
  ioFields(
    'transfer_io',
    (root) => String((root.io as Plain | undefined)?.kind ?? 'ideal'),
    'ideal: exact reads; noisy: DAC/ADC resolution and output noise. Default: the kind of io.',
  ),
  (root) => TRANSFER_ALGORITHMS.includes(root.algorithm as AlgorithmName),
  true,
);

/** Why `update.closed_form_pulses: true` cannot apply to the run's device, if it cannot. */
function closedFormProblem(on: boolean, root: Plain): string | undefined {
  if (!on) return undefined;
  const device = root.device as Plain;
  const kind = String(device.kind);
  if (!CLOSED_FORM_KINDS.includes(kind))
    return `has no closed form for a ${kind} device (only ${CLOSED_FORM_KINDS.join(', ')})`;
  if (device.mult_noise === true)
    return 'has no closed form for multiplicative cycle-to-cycle noise (device.mult_noise: true)';
  if ((device.write_noise_std as number) > 0) return 'has no closed form with write noise (device.write_noise_std > 0)';
  return undefined;
}
const CLOSED_FORM_KINDS = ['constant-step', 'linear-step', 'softbounds'];

const UPDATE_SCHEMA: GroupSpec = group(
  'Stochastic-pulse update (docs/science.md §6).',
  {
    desired_bl: num('Pulse-train length BL (maximum with BL management).', 31, { integer: true, min: 1, max: 31 }),
    update_management: bool('Balance the x and d pulse probabilities by their abs-max.', true),
    update_bl_management: bool('Choose BL per update as min(ceil(lr xmax dmax / dw_min), desired_bl).', true),
    um_grad_scale: num('Multiplies max|d| in update management (< 1 clips d earlier).', 1, { gt: 0 }),
    closed_form_pulses: bool(
      'Apply the n pulses a weight gets in one update at once, in closed form with one normal (exact in ' +
        'distribution; a weight that could touch a bound on the way pulses one by one). ' +
        'Only constant-step, linear-step and softbounds with additive noise (mult_noise false) and no write ' +
        'noise; false: every pulse one by one with its own normal.',
      false,
      { check: closedFormProblem, omitAtDefault: true },
    ),
  },
  isAnalog,
  true,
);

export const RUN_SCHEMA: GroupSpec = group('A run.', {
  seed: num('Seed of every random stream of the run.', 0, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
  algorithm: oneOf('Training algorithm (docs/science.md §8).', ALGORITHMS, 'analog-sgd'),
  lr: num('Learning rate.', 0.01, { gt: 0 }),
  batch_size: num('Mini-batch size (updates are applied sample by sample, as aihwkit).', 1, { integer: true, min: 1 }),
  epochs: num('Number of epochs.', 10, { integer: true, min: 1 }),
  ...ALGORITHM_FIELDS,
  task: TASK_SCHEMA,
  ...TRAINING_SECTIONS,
  init: group(
    'Initial weights.',
    {
      kind: oneOf(
        'zero, or uniform in [-scale, scale], or normal with std scale.',
        ['zero', 'uniform', 'normal'],
        'zero',
      ),
      scale: num('Scale of the initial weights.', 0.1, { min: 0 }),
    },
    isLeastSquares,
  ),
  // The digital baseline has no device: its canonical config drops these sections, so one sgd
  // run serves every device setting of a sweep.
  device: { ...DEVICE_SCHEMA, when: isAnalog, dropWhenInapplicable: true },
  io: IO_SCHEMA,
  transfer_io: TRANSFER_IO_SCHEMA,
  update: UPDATE_SCHEMA,
  cost: COST_SCHEMA,
});

/**
 * Canonical RunConfig from a partial one. Throws ConfigError naming the dotted path of the
 * first offending field and what was expected.
 */
export function resolveRunConfig(input: unknown): RunConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError('', 'a run config must be a mapping of fields');
  }
  const raw = { ...(input as Plain) };
  if (raw.device !== undefined) raw.device = prepareDevice(raw.device, 'device');
  const out: Plain = {};
  resolveGroup(RUN_SCHEMA, raw, '', out, out);
  if (out.device !== undefined) finishDevice(out.device as Plain, 'device');
  const task = out.task as Plain;
  if (task.form === 'matrix' && (out.batch_size as number) > (task.n_samples as number)) {
    throw new ConfigError(
      'batch_size',
      `must be <= task.n_samples (${String(task.n_samples)}), got ${String(out.batch_size)}`,
    );
  }
  return out as unknown as RunConfig;
}
