/**
 * The papers' analytic rates per sample (the residual paper's Table 5, Li et al. 2025, Appendix
 * I; the c-TTv2 paper's Table 1, Rasch et al. 2024): what their complexity rows say one layer
 * does per input sample, as a LayerActivity of one sample that model.ts prices like a run's
 * measured counts. docs/cost.md sets them beside the papers' numbers; test/cost.test.ts checks
 * that the tables come out.
 */
import type { LayerActivity } from './activity.ts';
import { BUFFER_OPS, outerProductOps, scalingOps } from './digital-ops.ts';

/** The papers' analytic inputs besides the constants (constants.ts). */
export interface PaperInputs {
  /** transfer period n_s: a column is read and written every n_s samples (residual: tile n every n_s^n) */
  n_s: number;
  /** mean length of a gradient update's pulse train, l_avg (the c-TTv2 paper: l_max) */
  l_avg: number;
  /** mixed precision: samples per write of chi, its batch B */
  B: number;
}

/** Both papers' runtime tables: D = 512, B = 100, n_s = 2, l_avg = 5. */
export const PAPER_INPUTS: Readonly<PaperInputs> = { n_s: 2, l_avg: 5, B: 100 };

/** The algorithms the papers' tables price. */
export type PaperAlgorithm = 'analog-sgd' | 'ttv2' | 'c-ttv2' | 'agad' | 'mp' | 'residual';

/**
 * One sample of a rows x cols layer by the papers' complexity rows. Their formulas are written for
 * D x D; for other shapes they use D = the larger side for the vector terms (that reproduces the
 * residual paper's Table 7), and we keep rows x cols for the matrix terms (buffers, chi) and rows
 * for mixed precision's row-by-row writes.
 *
 * - analog-sgd: l_avg slots; the update's 2D scaling; stores x and d (2D).
 * - ttv2, c-ttv2: l_avg + 1/n_s slots (a transfer writes single pulses), 1/n_s reads, 2D + 2D/n_s
 *   operations (the buffer), stores the buffer and 2D.
 * - agad: as ttv2 with 2D + 6D/n_s operations and three matrices (buffer, P, P_ref).
 * - mp: rows/B slots (chi written row by row once per B samples), 2 rows cols + rows operations,
 *   stores chi and B samples of x and d (2DB).
 * - residual: the paper's bound for infinitely many tiles, tile n transferred every n_s^n samples:
 *   l_avg n_s/(n_s - 1) slots, 1/(n_s - 1) reads, 2D operations (the transfers' scaling left out),
 *   stores 2D.
 *
 * Energy as the residual paper's Table 8 charges it: every device of the array in every slot
 * (power x time: pulses = rows cols slots), each read a forward read of the whole array, and
 * forward and backward through `tiles` arrays (its N tiles; 1 for the others).
 */
export function paperActivity(
  algorithm: PaperAlgorithm,
  rows: number,
  cols: number,
  inputs: PaperInputs,
  tiles = 1,
): LayerActivity {
  const { n_s, l_avg, B } = inputs;
  const D = Math.max(rows, cols);
  const vectors = 2 * D;
  const matrix = rows * cols;
  let slots: number;
  let reads = 0;
  let flops = scalingOps(D, D);
  let storedElements = vectors;
  switch (algorithm) {
    case 'analog-sgd':
      slots = l_avg;
      break;
    case 'ttv2':
    case 'c-ttv2':
      slots = l_avg + 1 / n_s;
      reads = 1 / n_s;
      flops += (BUFFER_OPS.sum * D) / n_s;
      storedElements += matrix;
      break;
    case 'agad':
      slots = l_avg + 1 / n_s;
      reads = 1 / n_s;
      flops += (BUFFER_OPS.dynamic * D) / n_s;
      storedElements += 3 * matrix;
      break;
    case 'mp':
      slots = rows / B;
      flops = outerProductOps(rows, cols);
      storedElements = matrix + vectors * B;
      break;
    case 'residual':
      slots = (l_avg * n_s) / (n_s - 1);
      reads = 1 / (n_s - 1);
      break;
  }
  return {
    rows,
    cols,
    backward: true,
    samples: 1,
    arraysRead: tiles,
    slots,
    pulses: matrix * slots,
    reads,
    flops,
    storedElements,
  };
}
