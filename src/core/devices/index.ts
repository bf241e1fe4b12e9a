/** Device factory: one resolved DeviceParams -> the per-tile device of `size` weights. */
import type { Rng } from '../rng.ts';
import type { PulsedDevice } from './base.ts';
import { ConstantStepDevice } from './constant-step.ts';
import { ExpDevice } from './exp.ts';
import { ExpStepDevice } from './exp-step.ts';
import { IdealDevice } from './ideal.ts';
import { createLinearStep } from './linear-step.ts';
import type { DeviceParams } from './params.ts';
import { PiecewiseDevice } from './piecewise.ts';
import { PowDevice } from './pow.ts';
import { createSoftbounds } from './softbounds.ts';

export type { PulsedDevice } from './base.ts';

/**
 * Builds a device of `size` weights: its hidden parameters (device-to-device variation) are drawn
 * from `variation`, its per-pulse noise from `noise`, so the two never shift each other.
 */
export function createDevice(p: DeviceParams, size: number, variation: Rng, noise: Rng): PulsedDevice {
  switch (p.kind) {
    case 'ideal':
      return new IdealDevice(p, size, variation, noise);
    case 'constant-step':
      return new ConstantStepDevice(p, size, variation, noise);
    case 'softbounds':
      return createSoftbounds(p, size, variation, noise);
    case 'linear-step':
      return createLinearStep(p, size, variation, noise);
    case 'exp-step':
      return new ExpStepDevice(p, size, variation, noise);
    case 'pow':
      return new PowDevice(p, size, variation, noise);
    case 'exp':
      return new ExpDevice(p, size, variation, noise);
    case 'piecewise':
      return new PiecewiseDevice(p, size, variation, noise);
  }
}
