/**
 * What the digital storage counts (docs/cost.md): per layer, the vectors of the current update
 * plus the algorithm's own digital state (buffers, accumulators, digital weights), which each
 * algorithm adds from the sizes of the arrays it holds. Activations kept for back-propagation
 * over a mini-batch are the same for every algorithm and left out, as in the papers.
 */

/** The current update's x (cols) and d (rows): the papers' 2D. */
export function updateVectorElements(rows: number, cols: number): number {
  return rows + cols;
}
