/**
 * Device configuration: every field, its default and range (one place), the named presets, and
 * the resolution of a user's `device` section into a complete, validated DeviceParams.
 * Formulas and defaults follow aihwkit's device models and presets (docs/science.md §3-§4,
 * docs/papers.md §6); deliberate differences are documented in docs/config.md.
 */
import { bool, ConfigError, group, type GroupSpec, num, numList, oneOf, type Plain } from '../config/schema.ts';

export const DEVICE_KINDS = [
  'ideal',
  'constant-step',
  'softbounds',
  'linear-step',
  'exp-step',
  'pow',
  'exp',
  'piecewise',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** The fully resolved device parameters a tile is built from (canonical config `device`). */
export interface DeviceParams {
  kind: DeviceKind;
  preset: string | null;
  n_states: number;
  dw_min: number;
  w_min: number;
  w_max: number;
  // absent for `ideal` (which has no asymmetry, noise or variation)
  asymmetry?: number;
  dw_min_std?: number;
  mult_noise?: boolean;
  write_noise_std?: number;
  dw_min_dtod?: number;
  dw_min_dtod_log_normal?: boolean;
  up_down_dtod?: number;
  w_max_dtod?: number;
  w_min_dtod?: number;
  // softbounds
  reference_std?: number;
  subtract_symmetric_point?: boolean;
  // linear-step and exp-step
  gamma_up?: number;
  gamma_down?: number;
  // linear-step
  gamma_up_dtod?: number;
  gamma_down_dtod?: number;
  mean_bound_reference?: boolean;
  // exp-step
  a?: number;
  b?: number;
  A_up?: number;
  A_down?: number;
  dw_min_std_add?: number;
  dw_min_std_slope?: number;
  // pow and exp
  gamma_res?: number;
  // piecewise
  piecewise_up?: number[];
  piecewise_down?: number[];
}

const kindOf = (root: Plain): DeviceKind => (root.device as Plain).kind as DeviceKind;
const only =
  (...kinds: DeviceKind[]) =>
  (root: Plain): boolean =>
    kinds.includes(kindOf(root));
const notIdeal = (root: Plain): boolean => kindOf(root) !== 'ideal';
const onlyDoc = (...kinds: string[]): string => `device.kind ${kinds.join(' | ')}`;
const NON_IDEAL = 'device.kind other than ideal';

/** Default step when neither n_states nor dw_min is given (aihwkit's dw_min). */
export const DEFAULT_DW_MIN = 0.001;

/**
 * Presets (aihwkit's device presets and the papers' device; docs/science.md §3.9). aihwkit's
 * one-sided `up_down` bias u (up step dw, down step dw*(1-u)) is mapped onto our symmetric
 * asymmetry with the same mean steps: c = u / (2 - u) and dw_min * (1 - u/2).
 */
function oneSided(dwMin: number, upDown: number): { dw_min: number; asymmetry: number } {
  return { dw_min: dwMin * (1 - upDown / 2), asymmetry: upDown / (2 - upDown) };
}

export const DEVICE_PRESETS: Readonly<Record<string, Plain>> = {
  // The residual-learning and response-function papers: aihwkit SoftBounds on [-1, 1].
  'softbounds-papers': {
    kind: 'softbounds',
    w_min: -1,
    w_max: 1,
    dw_min: 0.001,
    dw_min_std: 0.3,
    mult_noise: true,
    dw_min_dtod: 0.3,
    up_down_dtod: 0.01,
    w_max_dtod: 0.3,
    w_min_dtod: 0.3,
  },
  'reram-es': {
    kind: 'exp-step',
    ...oneSided(0.00135, 0.259359),
    w_min: -1,
    w_max: 1,
    dw_min_dtod: 0.2,
    up_down_dtod: 0.05,
    w_max_dtod: 0.3,
    w_min_dtod: 0.3,
    dw_min_std: 5.0,
    write_noise_std: 75,
    a: -0.5,
    b: -0.5,
    gamma_up: 5,
    gamma_down: 5,
    A_up: -1.18445,
    A_down: -0.081404,
  },
  'reram-sb': {
    kind: 'softbounds',
    dw_min: 0.002,
    w_min: -0.75,
    w_max: 1.25,
    dw_min_dtod: 0.3,
    up_down_dtod: 0.01,
    w_max_dtod: 0.24,
    w_min_dtod: 0.4,
    dw_min_std: 3.75,
    write_noise_std: 56,
    mult_noise: false,
  },
  capacitor: {
    kind: 'linear-step',
    dw_min: 0.005,
    w_min: -1,
    w_max: 1,
    dw_min_dtod: 0.1,
    up_down_dtod: 0.06,
    w_max_dtod: 0.07,
    w_min_dtod: 0.07,
    dw_min_std: 0.3,
    mult_noise: false,
    gamma_up: 0.05,
    gamma_down: 0.05,
    gamma_up_dtod: 0.01,
    gamma_down_dtod: 0.01,
    mean_bound_reference: true,
  },
  ecram: {
    kind: 'linear-step',
    dw_min: 0.002,
    w_min: -0.8276,
    w_max: 1.1724,
    dw_min_dtod: 0.1,
    up_down_dtod: 0.01,
    w_max_dtod: 0.05,
    w_min_dtod: 0.05,
    dw_min_std: 0.3,
    mult_noise: true,
    gamma_up: 0.1153,
    gamma_down: 0.5085,
    gamma_up_dtod: 0.05,
    gamma_down_dtod: 0.05,
    mean_bound_reference: true,
  },
  'ecram-mo': {
    kind: 'linear-step',
    dw_min: 2.8214e-4,
    w_min: -0.8286,
    w_max: 1.1714,
    dw_min_dtod: 0.1,
    up_down_dtod: 0.01,
    w_max_dtod: 0.05,
    w_min_dtod: 0.05,
    dw_min_std: 2.0,
    mult_noise: true,
    gamma_up: 0.4152,
    gamma_down: 0.7342,
    gamma_up_dtod: 0.05,
    gamma_down_dtod: 0.05,
    mean_bound_reference: true,
  },
  idealized: {
    kind: 'constant-step',
    dw_min: 0.0002,
    w_min: -1,
    w_max: 1,
    dw_min_dtod: 0.3,
    up_down_dtod: 0,
    w_max_dtod: 0.3,
    w_min_dtod: 0.3,
    dw_min_std: 0.3,
  },
  'gokmen-vlasov': {
    kind: 'constant-step',
    dw_min: 0.0016,
    w_min: -1,
    w_max: 1,
    dw_min_dtod: 0.3,
    up_down_dtod: 0.01,
    w_max_dtod: 0.3,
    w_min_dtod: 0.3,
    dw_min_std: 0.3,
  },
  pcm: {
    kind: 'exp-step',
    dw_min: 0.01,
    w_min: 0,
    w_max: 2,
    dw_min_dtod: 0.2,
    up_down_dtod: 0.05,
    w_max_dtod: 0.1,
    w_min_dtod: 0,
    dw_min_std: 0.6,
    a: -1,
    b: 0,
    gamma_up: 2.5,
    gamma_down: 2.5,
    A_up: -27.235,
    A_down: -2.235,
    dw_min_std_add: 0.042,
    dw_min_std_slope: 0.108,
  },
  'reram-array-om': {
    kind: 'softbounds',
    dw_min: 0.0949,
    w_min: -1,
    w_max: 1,
    dw_min_dtod: 0.7829,
    dw_min_dtod_log_normal: true,
    up_down_dtod: 0.01,
    w_max_dtod: 0.3499,
    w_min_dtod: 0.5695,
    dw_min_std: 0.4158,
    write_noise_std: 1.4113,
    mult_noise: false,
    subtract_symmetric_point: true,
    reference_std: 0.05,
  },
  'reram-array-hfo2': {
    kind: 'softbounds',
    dw_min: 0.4622,
    w_min: -1,
    w_max: 1,
    dw_min_dtod: 0.7125,
    dw_min_dtod_log_normal: true,
    up_down_dtod: 0.01,
    w_max_dtod: 0.4295,
    w_min_dtod: 0.599,
    dw_min_std: 0.2174,
    write_noise_std: 0.5841,
    mult_noise: false,
    subtract_symmetric_point: true,
    reference_std: 0.05,
  },
};
export const DEVICE_SCHEMA: GroupSpec = group('Device: the conductance response of every weight of an analog tile.', {
  kind: oneOf('Response-function family (docs/science.md §3).', DEVICE_KINDS, 'softbounds'),
  preset: oneOf(
    'Named preset whose fields are applied first; any field given next to it overrides it.',
    Object.keys(DEVICE_PRESETS),
    null,
    { nullable: true },
  ),
  n_states: num(
    'Number of conductance states, (w_max - w_min) / dw_min. Give n_states or dw_min (both only when they agree).',
    null,
    { nullable: true, min: 2 },
  ),
  dw_min: num(
    `Mean step of one pulse at the step reference point, in weight units (default ${DEFAULT_DW_MIN} when ` +
      `n_states is not given).`,
    null,
    { nullable: true, gt: 0 },
  ),
  w_min: num('Lower bound of the weight range (must be <= 0).', -1, { max: 0 }),
  w_max: num('Upper bound of the weight range (must be >= 0 and > w_min).', 1, { min: 0 }),
  asymmetry: num(
    'Up/down asymmetry c: up steps scale by (1 + c), down steps by (1 - c). Softbounds symmetric point = c * ' +
      'w_max for symmetric bounds.',
    0,
    { min: -0.99, max: 0.99, when: notIdeal, whenDoc: NON_IDEAL },
  ),
  dw_min_std: num('Cycle-to-cycle noise of each pulse, relative to dw_min (fresh normal per pulse).', 0.3, {
    min: 0,
    when: notIdeal,
    whenDoc: NON_IDEAL,
  }),
  mult_noise: bool(
    'Cycle-to-cycle noise multiplies the step, dw_min*q(w)*(1 + std*xi) (aihwkit SoftBounds); false: additive, ' +
      'dw_min*(q(w) + std*xi) (the response-function and c-TTv2 papers; docs/science.md §4.2).',
    false,
    {
      when: only('softbounds', 'linear-step', 'pow', 'exp', 'piecewise'),
      whenDoc: onlyDoc('softbounds', 'linear-step', 'pow', 'exp', 'piecewise'),
    },
  ),
  write_noise_std: num(
    'Write noise: the visible weight is the hidden weight plus write_noise_std * dw_min * xi, redrawn whenever ' +
      'the weight is written (aihwkit write noise; docs/science.md §4.3).',
    0,
    { min: 0, when: notIdeal, whenDoc: NON_IDEAL },
  ),
  dw_min_dtod: num('Device-to-device relative spread of the step size (gain = 1 + dw_min_dtod * xi).', 0.3, {
    min: 0,
    when: notIdeal,
    whenDoc: NON_IDEAL,
  }),
  dw_min_dtod_log_normal: bool('Log-normal gain exp(dw_min_dtod * xi) instead of 1 + dw_min_dtod * xi.', false, {
    when: notIdeal,
    whenDoc: NON_IDEAL,
  }),
  up_down_dtod: num('Device-to-device spread of the up/down asymmetry (additive to c).', 0.01, {
    min: 0,
    when: notIdeal,
    whenDoc: NON_IDEAL,
  }),
  w_max_dtod: num('Device-to-device relative spread of w_max.', 0.3, { min: 0, when: notIdeal, whenDoc: NON_IDEAL }),
  w_min_dtod: num('Device-to-device relative spread of w_min.', 0.3, { min: 0, when: notIdeal, whenDoc: NON_IDEAL }),
  reference_std: num(
    'Differential read against a fixed reference conductance drawn once per weight with this std (aihwkit ' +
      'SoftBoundsReference); 0 = no reference.',
    0,
    { min: 0, when: only('softbounds'), whenDoc: onlyDoc('softbounds') },
  ),
  subtract_symmetric_point: bool(
    "Program the reference at each device's symmetric point, so that w = 0 is the symmetric point (zero shifting).",
    false,
    { when: only('softbounds'), whenDoc: onlyDoc('softbounds') },
  ),
  gamma_up: num(
    'linear-step: relative step decrease at w_max (aihwkit gamma_up); exp-step: exponent gamma_up.',
    (root) => (kindOf(root) === 'exp-step' ? 12.44625 : 0),
    { min: 0, when: only('linear-step', 'exp-step'), whenDoc: onlyDoc('linear-step', 'exp-step') },
  ),
  gamma_down: num(
    'linear-step: relative step decrease at w_min; exp-step: exponent gamma_down.',
    (root) => (kindOf(root) === 'exp-step' ? 12.78785 : 0),
    { min: 0, when: only('linear-step', 'exp-step'), whenDoc: onlyDoc('linear-step', 'exp-step') },
  ),
  gamma_up_dtod: num('Device-to-device spread of gamma_up.', 0.05, {
    min: 0,
    when: only('linear-step'),
    whenDoc: onlyDoc('linear-step'),
  }),
  gamma_down_dtod: num('Device-to-device spread of gamma_down.', 0.05, {
    min: 0,
    when: only('linear-step'),
    whenDoc: onlyDoc('linear-step'),
  }),
  mean_bound_reference: bool("Slopes refer to the mean bounds (true) or to each device's sampled bounds.", true, {
    when: only('linear-step'),
    whenDoc: onlyDoc('linear-step'),
  }),
  a: num('exp-step: z = 2 a w / (b_max - b_min) + b.', 0.244, { when: only('exp-step'), whenDoc: onlyDoc('exp-step') }),
  b: num('exp-step: offset b of z.', 0.2425, { when: only('exp-step'), whenDoc: onlyDoc('exp-step') }),
  A_up: num('exp-step: up factor y_up = max(1 - A_up e^(gamma_up z), 0).', 0.00081, {
    when: only('exp-step'),
    whenDoc: onlyDoc('exp-step'),
  }),
  A_down: num('exp-step: down factor y_down = max(1 - A_down e^(-gamma_down z), 0).', 0.36833, {
    when: only('exp-step'),
    whenDoc: onlyDoc('exp-step'),
  }),
  dw_min_std_add: num('exp-step: additive part of the complex noise model.', 0, {
    min: 0,
    when: only('exp-step'),
    whenDoc: onlyDoc('exp-step'),
  }),
  dw_min_std_slope: num('exp-step: |w|-proportional part of the complex noise model.', 0, {
    min: 0,
    when: only('exp-step'),
    whenDoc: onlyDoc('exp-step'),
  }),
  gamma_res: num('pow: exponent g of (1 - w/w_max)^g; exp: rate g of (e^(g(1 - w/w_max)) - 1)/(e^g - 1).', 1, {
    gt: 0,
    when: only('pow', 'exp'),
    whenDoc: onlyDoc('pow', 'exp'),
  }),
  piecewise_up: numList('piecewise: q+ at evenly spaced w from w_min to w_max (linear interpolation).', [1, 1], {
    minLength: 1,
    min: 0,
    when: only('piecewise'),
    whenDoc: onlyDoc('piecewise'),
  }),
  piecewise_down: numList('piecewise: q- at the same nodes (same length as piecewise_up).', [1, 1], {
    minLength: 1,
    min: 0,
    when: only('piecewise'),
    whenDoc: onlyDoc('piecewise'),
  }),
});

/**
 * Prepares the user's raw `device` section: the preset, if any, goes under the user's fields
 * (a user's n_states replaces the preset's dw_min). n_states and dw_min are two spellings of
 * one quantity, checked in finishDevice.
 */
export function prepareDevice(device: unknown, path: string): unknown {
  if (typeof device !== 'object' || device === null || Array.isArray(device)) return device;
  const user = device as Plain;
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  const name = user.preset;
  if (name === undefined || name === null) return device;
  if (typeof name !== 'string' || !(name in DEVICE_PRESETS)) {
    throw new ConfigError(
      `${path}.preset`,
      `expected one of ${Object.keys(DEVICE_PRESETS).join(', ')}, got ${JSON.stringify(name)}`,
    );
  }
  const preset: Plain = { ...DEVICE_PRESETS[name] };
  if (user.kind !== undefined && user.kind !== preset.kind) {
    throw new ConfigError(
      `${path}.kind`,
      `preset ${name} is a ${String(preset.kind)} device; remove kind or the preset`,
    );
  }
  if (given(user.n_states)) delete preset.dw_min;
  return { ...preset, ...user };
}

/**
 * Cross-field rules after per-field validation; fills n_states and dw_min from each other.
 * Both may be given only when they agree (a resolved config, as a worker receives it, must
 * resolve to itself).
 */
export function finishDevice(d: Plain, path: string): void {
  const wMin = d.w_min as number;
  const wMax = d.w_max as number;
  if (!(wMin < wMax)) throw new ConfigError(`${path}.w_min`, `w_min must be < w_max, got w_min=${wMin}, w_max=${wMax}`);
  const span = wMax - wMin;
  if (d.n_states !== null && d.dw_min !== null) {
    const implied = span / (d.n_states as number);
    if (Math.abs(implied - (d.dw_min as number)) > 1e-9 * implied) {
      throw new ConfigError(
        `${path}.n_states`,
        `give n_states or dw_min, not both (they disagree: (w_max - w_min) / n_states = ${implied}, dw_min = ` +
          `${d.dw_min as number})`,
      );
    }
  } else if (d.n_states !== null) d.dw_min = span / (d.n_states as number);
  else {
    if (d.dw_min === null) d.dw_min = DEFAULT_DW_MIN;
    d.n_states = span / (d.dw_min as number);
  }
  if (d.kind === 'piecewise') {
    const up = d.piecewise_up as number[];
    const down = d.piecewise_down as number[];
    if (up.length !== down.length) {
      throw new ConfigError(
        `${path}.piecewise_down`,
        `must have as many nodes as piecewise_up (${up.length}), got ${down.length}`,
      );
    }
  }
}
