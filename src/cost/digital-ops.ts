/**
 * How many digital floating-point operations each event of an update costs, counted as the
 * papers' complexity tables count them (the residual paper's Table 5, the c-TTv2 paper's Table 1;
 * docs/cost.md). The algorithms count events; these rules turn them into operations, for the
 * measured counters and the papers' analytic inputs alike.
 */

/**
 * The abs-max scaling of one stochastic rank-1 update (update management): max|x_j| over the
 * columns and max|d_i| over the rows, one operation per element (the papers' 2D).
 */
export function scalingOps(rows: number, cols: number): number {
  return rows + cols;
}

/**
 * The scaling of one pulsed column write (a Tiki-Taka or residual transfer): max|d_i| of the
 * column read; the one-hot input needs none. The papers' residual column leaves it out (O(2D)).
 */
export function columnWriteOps(rows: number): number {
  return rows;
}

/**
 * Operations per element of a read column that enters a digital buffer:
 * - `sum` (TT-v2, c-TTv2): h += s z, a multiply and an add (the papers' 2D / n_s; a chopper sign is free);
 * - `leaky` (RL-v2): h = (1 - beta) h + beta s z, two multiplies and an add;
 * - `dynamic` (AGAD): z - p_ref, h += s (z - p_ref), p += beta (z - p): six (the c-TTv2 paper's 6N / n_s).
 */
export const BUFFER_OPS = { sum: 2, leaky: 3, dynamic: 6 } as const;
export type BufferKind = keyof typeof BUFFER_OPS;

/**
 * A digital outer-product update of a rows x cols matrix (mixed precision's chi += lr d x^T,
 * digital SGD's W -= lr d x^T): lr d_i per row, then a multiply and an add per element (the
 * residual paper's 2D^2 + D for mixed precision).
 */
export function outerProductOps(rows: number, cols: number): number {
  return 2 * rows * cols + rows;
}

/** A digital matrix-vector product (forward or backward of a digital layer): a multiply and an add per weight. */
export function matVecOps(rows: number, cols: number): number {
  return 2 * rows * cols;
}
