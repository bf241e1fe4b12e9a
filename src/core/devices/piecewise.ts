/**
 * Piecewise-linear response (aihwkit PiecewiseStep; docs/science.md §3.8): user tables of q+ and q- at nodes
 * evenly spaced from b_min to b_max, linearly interpolated; one node = a constant factor.
 */
import type { Rng } from '../rng.ts';
import { populateCommon, PulsedDevice } from './base.ts';
import type { DeviceParams } from './params.ts';

export class PiecewiseDevice extends PulsedDevice {
  private readonly up: Float64Array;
  private readonly down: Float64Array;

  constructor(p: DeviceParams, size: number, variation: Rng, noise: Rng) {
    const up = Float64Array.from(p.piecewise_up ?? [1]);
    const down = Float64Array.from(p.piecewise_down ?? [1]);
    const mid = up.length >> 1;
    super(p, size, populateCommon(p, size, variation), noise, p.dw_min * 0.5 * (up[mid] + down[mid]));
    this.up = up;
    this.down = down;
  }

  private factor(table: Float64Array, w: number, i: number): number {
    const nSec = table.length - 1;
    const lo = this.bMin[i];
    const hi = this.bMax[i];
    if (nSec <= 0 || !(hi > lo)) return table[0];
    const ws = Math.max(((w - lo) / (hi - lo)) * nSec, 0);
    const k = Math.min(Math.floor(ws), nSec - 1);
    const t = Math.min(ws - k, 1);
    return (1 - t) * table[k] + t * table[k + 1];
  }

  upStep(w: number, i: number): number {
    return this.sUp[i] * this.factor(this.up, w, i);
  }

  downStep(w: number, i: number): number {
    return this.sDown[i] * this.factor(this.down, w, i);
  }
}
