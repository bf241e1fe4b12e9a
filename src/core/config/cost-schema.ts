/**
 * The `cost` section of a RunConfig: the hardware constants the cost estimates (update_ns,
 * energy_nj, storage_bytes; src/cost, docs/cost.md) price a run's counts with. Defaults are the
 * papers' (src/cost/constants.ts PAPER_COSTS). Every field is left out of the canonical config at
 * its default and the section with them, so runs from before the section keep their hashes; a
 * changed constant changes only the estimates, never the training.
 */
import { type CostConstants, PAPER_COSTS } from '../../cost/constants.ts';
import { group, type GroupSpec, num } from './schema.ts';

const AT_DEFAULT = { omitAtDefault: true } as const;

const FIELDS: Record<keyof CostConstants, ReturnType<typeof num>> = {
  pulse_ns: num(
    'Duration of one pulse slot t_sp, ns. Default: the residual paper (Li et al. 2025, Table 5) and the c-TTv2 ' +
      'paper (Rasch et al. 2024, Table 1), 5 ns.',
    PAPER_COSTS.pulse_ns,
    { gt: 0, ...AT_DEFAULT },
  ),
  read_ns: num(
    "Duration of one analog read t_M (a transfer's column read), ns. Default: both papers' runtime tables, 40 ns.",
    PAPER_COSTS.read_ns,
    { gt: 0, ...AT_DEFAULT },
  ),
  digital_gflops: num(
    "Digital floating-point throughput of one tile, GFLOPS (FP operations per ns). Default: both papers' 0.7 " +
      'TFLOPS shared by 4 tiles, 175.',
    PAPER_COSTS.digital_gflops,
    { gt: 0, ...AT_DEFAULT },
  ),
  pulse_fj: num(
    "Energy of one device pulse, fJ. Default from the residual paper's Table 8: a pulse-update power of 0.1107 " +
      'W over one 5-ns slot spread over its 198,760 synapses, 2.785 fJ.',
    PAPER_COSTS.pulse_fj,
    { min: 0, ...AT_DEFAULT },
  ),
  read_fj: num(
    "Energy per weight of one forward read of an array, fJ; a transfer's column read is charged as one forward " +
      'read of its array, as the residual paper does. Default: its Table 8, 7.29 nJ per forward pass of 198,760 ' +
      'weights, 36.68 fJ.',
    PAPER_COSTS.read_fj,
    { min: 0, ...AT_DEFAULT },
  ),
  backward_fj: num(
    "Energy per weight of one backward (transposed) read of an array, fJ. Default: the residual paper's Table " +
      '8, 2.15 nJ per backward pass of 198,760 weights, 10.82 fJ.',
    PAPER_COSTS.backward_fj,
    { min: 0, ...AT_DEFAULT },
  ),
  flop_pj: num(
    "Energy of one digital floating-point operation, pJ. Neither paper gives one (the residual paper's " +
      'mixed-precision energies are measured totals of other hardware): 0 leaves digital work out of energy_nj.',
    PAPER_COSTS.flop_pj,
    { min: 0, ...AT_DEFAULT },
  ),
  bytes_per_element: num(
    "Bytes per stored digital element (storage_bytes). Default: the c-TTv2 paper's 8-bit numbers, 1.",
    PAPER_COSTS.bytes_per_element,
    { gt: 0, ...AT_DEFAULT },
  ),
};

export const COST_SCHEMA: GroupSpec = {
  ...group("Hardware constants of the cost estimates (docs/cost.md); every run, the defaults are the papers'.", FIELDS),
  omitWhenEmpty: true,
};
