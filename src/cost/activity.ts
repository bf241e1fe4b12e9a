/**
 * What the cost model reads of one weight layer: the counts of its training so far (measured by
 * the algorithms and tiles, `TrainableMatrix.costCounts`) or the papers' analytic rates per
 * sample (analytic.ts). Counts are cumulative; rates may be fractional.
 */

/** The counts one layer's algorithm reports (TrainableMatrix.costCounts). */
export interface LayerCounters {
  /** vector updates applied: the gradient's rank-1 updates (images, times the patches of a conv layer) */
  samples: number;
  /** analog arrays that the forward and the backward pass read once per vector each; 0 for a digital layer */
  arraysRead: number;
  /**
   * pulse slots spent by the updates of every array of the layer: the train length BL of each
   * stochastic update (gradient and pulsed transfers), and the largest pulse count of each
   * deterministic write (a threshold-buffer column, a mixed-precision row)
   */
  slots: number;
  /** device pulses (coincidences and single writes), every array */
  pulses: number;
  /** column reads of transfers */
  reads: number;
  /** digital floating-point operations of the updates (digital-ops.ts) */
  flops: number;
  /** digital elements the update keeps: the current x and d, buffers, accumulators, digital weights */
  storedElements: number;
}

/** One layer as the cost model sees it: its counters, its shape and whether it runs a backward pass. */
export interface LayerActivity extends LayerCounters {
  /** outputs (rows of W) */
  rows: number;
  /** inputs (columns of W) */
  cols: number;
  /** whether the layer's backward pass runs (not in the first layer, nor in least squares) */
  backward: boolean;
}
