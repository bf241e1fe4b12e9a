/**
 * The digital buffer of TT-v2, c-TTv2, AGAD and residual learning v2 (docs/science.md §8.6-§8.10;
 * RL-v2's leak is eq. 14 of the response-function paper): reads of the fast array accumulate per
 * element, in units of the write threshold; where an entry reaches 1 in magnitude, trunc(h) single
 * pulses (at most maxSteps) are due on the slow array and the entry keeps h * momentum (forget) or
 * h - (1 - momentum) n. A leak (decay < 1) turns the sum into a moving average (RL-v2).
 */
export interface BufferRule {
  /** Multiplies the old entry before adding (1: TT-v2 sum; 1 - beta: RL-v2 leaky average). */
  decay: number;
  momentum: number;
  forget: boolean;
  /** Largest number of pulses one write may ask for (aihwkit transfer desired_bl, 1). */
  maxSteps: number;
}

export class ThresholdBuffer {
  readonly rows: number;
  readonly cols: number;
  /** Entries in threshold units, row-major. */
  readonly h: Float64Array;

  constructor(rows: number, cols: number) {
    this.rows = rows;
    this.cols = cols;
    this.h = new Float64Array(rows * cols);
  }

  /**
   * Adds scale * input[i] to the entries of column k and fills counts[i] with the signed pulses
   * due (0 where below threshold). Returns how many entries fired.
   */
  accumulateColumn(
    k: number,
    input: Float32Array | Float64Array,
    scale: number,
    rule: BufferRule,
    counts: Int32Array,
  ): number {
    const { h, cols } = this;
    let fired = 0;
    for (let i = 0; i < this.rows; i++) {
      const at = i * cols + k;
      let v = rule.decay * h[at] + scale * input[i];
      let n = 0;
      if (v >= 1 || v <= -1) {
        n = Math.trunc(v);
        if (n > rule.maxSteps) n = rule.maxSteps;
        else if (n < -rule.maxSteps) n = -rule.maxSteps;
        v = rule.forget ? v * rule.momentum : v - (1 - rule.momentum) * n;
        fired++;
      }
      h[at] = v;
      counts[i] = n;
    }
    return fired;
  }

  /**
   * RL-v2's moving average (eq. 14-15): entries of column k become decay * h + scale *
   * input[i] and are never reset; counts[i] is the sign of the entry where it exceeds 1 in
   * magnitude (one pulse per read), else 0. Returns how many entries fired.
   */
  averageColumn(k: number, input: Float32Array, scale: number, decay: number, counts: Int32Array): number {
    const { h, cols } = this;
    let fired = 0;
    for (let i = 0; i < this.rows; i++) {
      const at = i * cols + k;
      const v = decay * h[at] + scale * input[i];
      h[at] = v;
      counts[i] = v > 1 ? 1 : v < -1 ? -1 : 0;
      if (counts[i] !== 0) fired++;
    }
    return fired;
  }
}
