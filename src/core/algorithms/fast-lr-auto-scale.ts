/**
 * Gradient-magnitude independent learning rate of the fast array (c-TTv2 paper eq. 15, aihwkit
 * auto_scale): lr_A = fast_lr * desired_bl * dw_min_A / (m_x m_d), with m_x, m_d running
 * averages of max|x| and max|d| (momentum 0.99, per sample tau = 0.01 / batch). The expected
 * pulses of a typical update then stay near fast_lr * desired_bl whatever the gradient scale.
 */
export class FastLrAutoScale {
  private mx = 0;
  private md = 0;
  private readonly tau: number;
  private readonly numerator: number;

  constructor(fastLr: number, desiredBl: number, granularity: number, samplesPerBatch: number) {
    this.tau = 0.01 / samplesPerBatch;
    this.numerator = fastLr * desiredBl * granularity;
  }

  /** Updates the averages with one sample and returns the fast lr for it. */
  observe(x: Float32Array, xOff: number, cols: number, d: Float32Array, dOff: number, rows: number): number {
    this.mx = FastLrAutoScale.ema(this.mx, absMax(x, xOff, cols), this.tau);
    this.md = FastLrAutoScale.ema(this.md, absMax(d, dOff, rows), this.tau);
    return this.mx > 0 && this.md > 0 ? this.numerator / (this.mx * this.md) : this.numerator;
  }

  private static ema(m: number, v: number, tau: number): number {
    if (m <= 0) return v;
    return v > 0 ? (1 - tau) * m + tau * v : m;
  }
}

function absMax(v: Float32Array, off: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(v[off + i]);
    if (a > m) m = a;
  }
  return m;
}
