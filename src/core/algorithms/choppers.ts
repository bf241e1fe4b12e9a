/**
 * Per-input sign choppers of c-TTv2 and AGAD (docs/science.md §8.7): the fast array integrates
 * chop_j * gradient (the x side is modulated), reads are demodulated by the same sign, so any
 * constant offset of the fast array (reference error, device drift) enters with alternating
 * sign and averages out.
 */
export class Choppers {
  /** +1 or -1 per input column. */
  readonly sign: Float32Array;

  constructor(cols: number) {
    this.sign = new Float32Array(cols).fill(1);
  }

  flip(k: number): void {
    this.sign[k] = -this.sign[k];
  }

  /** xc[b] = chop (.) x[b] for b < batch. */
  modulate(x: Float32Array, xc: Float32Array, batch: number): void {
    const cols = this.sign.length;
    for (let b = 0; b < batch; b++) {
      const o = b * cols;
      for (let j = 0; j < cols; j++) xc[o + j] = x[o + j] * this.sign[j];
    }
  }
}
