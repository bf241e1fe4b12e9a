/**
 * The hardware constants of the cost model (docs/cost.md), with the papers' values as defaults.
 * A run overrides any of them in its `cost` section (src/core/config/cost-schema.ts), so a device
 * researcher can put in their own device; the defaults are those of the residual paper (Li et al.
 * 2025, Appendix I, Tables 5 and 8) and the c-TTv2 paper (Rasch et al. 2024, Table 1).
 */

export interface CostConstants {
  /** Duration of one pulse slot t_sp, ns. */
  pulse_ns: number;
  /** Duration of one analog read t_M (a transfer's column read, one MVM), ns. */
  read_ns: number;
  /** Digital floating-point throughput available to one tile, GFLOPS (= FP operations per ns). */
  digital_gflops: number;
  /** Energy of one device pulse, fJ. */
  pulse_fj: number;
  /** Energy per weight of one forward read of an array (a transfer's column read is charged the same), fJ. */
  read_fj: number;
  /** Energy per weight of one backward (transposed) read of an array, fJ. */
  backward_fj: number;
  /** Energy of one digital floating-point operation, pJ. */
  flop_pj: number;
  /** Bytes per stored digital element. */
  bytes_per_element: number;
}

/** The synapses of the residual paper's energy example (Table 8): a 785-250-10 perceptron, biases as inputs. */
export const TABLE8_SYNAPSES = 785 * 250 + 251 * 10;

/**
 * The papers' constants. Timing: both papers' runtime tables (t_sp 5 ns, t_M 40 ns, 0.7 TFLOPS
 * shared by 4 tiles = 175 GFLOPS). Energy: the residual paper's Table 8 for its 198,760-synapse
 * perceptron, per weight and rounded to four digits: a pulse-update power of 0.1107 W over one
 * 5-ns slot spread over every synapse (0.1107 W x 5 ns / 198,760 = 2.785 fJ), a forward pass
 * 7.29 nJ (36.68 fJ per weight), a backward pass 2.15 nJ (10.82 fJ per weight). Neither paper gives
 * an energy per digital operation: 0. Storage: 1 byte per element (the c-TTv2 paper's 8-bit numbers).
 */
export const PAPER_COSTS: Readonly<CostConstants> = {
  pulse_ns: 5,
  read_ns: 40,
  digital_gflops: 175,
  pulse_fj: 2.785,
  read_fj: 36.68,
  backward_fj: 10.82,
  flop_pj: 0,
  bytes_per_element: 1,
};

/** The constants of a run: its `cost` section over the papers' defaults. */
export function costConstants(overrides: Partial<CostConstants> | undefined): CostConstants {
  return { ...PAPER_COSTS, ...overrides };
}
