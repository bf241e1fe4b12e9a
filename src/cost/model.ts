/**
 * The cost model (docs/cost.md): layer activity and hardware constants in, update time, energy
 * and digital storage out. One set of formulas for the counts a run measured and for the papers'
 * analytic rates (analytic.ts), so the papers' tables check the formulas the runs use.
 *
 *   update time of a layer per vector update = (slots t_sp + reads t_M + flops / F) / samples
 *   update_ns     = the slowest layer's (the layers of a network update in parallel)
 *   energy_nj     = sum over layers of pulses E_p + (transfer reads + forward reads) W E_f
 *                   + backward reads W E_b + digital ops E_op, per training image
 *   storage_bytes = sum over layers of stored digital elements x bytes per element
 *
 * with W = rows x cols the weights of an array, forward reads = vectors x arrays read.
 */
import type { LayerActivity } from './activity.ts';
import type { CostConstants } from './constants.ts';
import { matVecOps } from './digital-ops.ts';

export interface CostEstimate {
  /** update time per vector update of the slowest layer, ns (absent before the first update) */
  update_ns?: number;
  /** energy per training image, nJ (absent before the first image) */
  energy_nj?: number;
  /** digital storage of the updates, bytes */
  storage_bytes: number;
}

/** The three parts of a layer's update time per vector update, ns. */
export interface UpdateTimeParts {
  pulses: number;
  reads: number;
  digital: number;
}

/** A layer's update time per vector update by part; undefined before its first update. */
export function layerUpdateParts(a: LayerActivity, k: CostConstants): UpdateTimeParts | undefined {
  if (!(a.samples > 0)) return undefined;
  return {
    pulses: (a.slots * k.pulse_ns) / a.samples,
    reads: (a.reads * k.read_ns) / a.samples,
    digital: a.flops / k.digital_gflops / a.samples,
  };
}

/** A layer's update time per vector update, ns: pulse slots, transfer reads and digital work, one after another. */
export function layerUpdateNs(a: LayerActivity, k: CostConstants): number | undefined {
  const p = layerUpdateParts(a, k);
  return p === undefined ? undefined : p.pulses + p.reads + p.digital;
}

/** The parts of a layer's energy over its counts, nJ. */
export interface EnergyParts {
  /** device pulses of every update (gradient and transfer writes) */
  pulses: number;
  /** transfers' column reads, each charged as a forward read of the array */
  transferReads: number;
  /** forward passes of the training vectors through every array read */
  forward: number;
  /** backward passes */
  backward: number;
  /** digital operations (updates; the passes of a digital layer) */
  digital: number;
}

/** A layer's energy over its counts by part, nJ. */
export function layerEnergyParts(a: LayerActivity, k: CostConstants): EnergyParts {
  const weights = a.rows * a.cols;
  const forwardReads = a.samples * a.arraysRead;
  const backwardReads = a.backward ? forwardReads : 0;
  const passOps = a.arraysRead === 0 ? (a.samples + (a.backward ? a.samples : 0)) * matVecOps(a.rows, a.cols) : 0;
  const fj = 1e-6; // nJ per fJ
  return {
    pulses: a.pulses * k.pulse_fj * fj,
    transferReads: a.reads * weights * k.read_fj * fj,
    forward: forwardReads * weights * k.read_fj * fj,
    backward: backwardReads * weights * k.backward_fj * fj,
    digital: (a.flops + passOps) * k.flop_pj * 1e-3,
  };
}

/** A layer's energy over its counts, nJ. */
export function layerEnergyNj(a: LayerActivity, k: CostConstants): number {
  const p = layerEnergyParts(a, k);
  return p.pulses + p.transferReads + p.forward + p.backward + p.digital;
}

/** A layer's digital storage, bytes. */
export function layerStorageBytes(a: LayerActivity, k: CostConstants): number {
  return a.storedElements * k.bytes_per_element;
}

/** The estimates of a run from its layers' counts so far and the training images (samples) they cover. */
export function estimateCost(layers: readonly LayerActivity[], images: number, k: CostConstants): CostEstimate {
  let update: number | undefined;
  let energy = 0;
  let storage = 0;
  for (const a of layers) {
    const t = layerUpdateNs(a, k);
    if (t !== undefined && (update === undefined || t > update)) update = t;
    energy += layerEnergyNj(a, k);
    storage += layerStorageBytes(a, k);
  }
  const out: CostEstimate = { storage_bytes: storage };
  if (update !== undefined) out.update_ns = update;
  if (images > 0) out.energy_nj = energy / images;
  return out;
}
