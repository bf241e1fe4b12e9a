/**
 * Clocks of the transfer algorithms: periods counted in vector updates, as aihwkit counts them
 * (a layer's vectorsPerBatch per mini-batch: images times conv patches), the cyclic choice of the
 * column a transfer moves, and the learning rates of the fast array and of transfers.
 */
import type { RunConfig } from '../config/run-config.ts';
import type { ClockLayer, TransferClock } from './types.ts';

/**
 * A period in sample updates: `batches` units mean ceil(every * samplesPerBatch) updates
 * (aihwkit units_in_mbatch; for conv layers a mini-batch is images x patches vectors).
 */
export function periodInSamples(every: number, units: 'batches' | 'samples', samplesPerBatch: number): number {
  return units === 'batches' ? Math.max(1, Math.ceil(every * samplesPerBatch)) : Math.max(1, Math.round(every));
}

/** The clock of the two-array algorithms: one column into `array` every basePeriod. */
export function fastSlowClocks(array: string): (config: RunConfig, layer: ClockLayer) => TransferClock[] {
  return (config, layer) => [{ array, period: basePeriod(config, layer.vectorsPerBatch), columns: 1 }];
}

/** The transfer period of the first (fastest) transfer of an algorithm. */
export function basePeriod(config: RunConfig, samplesPerBatch: number): number {
  return periodInSamples(config.transfer_every ?? 1, config.transfer_units ?? 'batches', samplesPerBatch);
}

/** Fires every `period` ticks; the first tick is number 1 (as aihwkit's update counter). */
export class PeriodicClock {
  private count = 0;
  readonly period: number;

  constructor(period: number) {
    this.period = period;
  }

  tick(): boolean {
    this.count++;
    return this.count % this.period === 0;
  }

  /** Ticks until the next one that returns true, that one included (>= 1). */
  untilDue(): number {
    return this.period - (this.count % this.period);
  }

  /** n ticks at once (n <= untilDue()): whether the last one is due. */
  advance(n: number): boolean {
    this.count += n;
    return this.count % this.period === 0;
  }
}

/** Sequential column selection 0, 1, ..., n-1, 0, ... (aihwkit n_reads_per_transfer = 1). */
export class ColumnCycler {
  private nextColumn = 0;
  readonly n: number;

  constructor(n: number) {
    this.n = n;
  }

  next(): number {
    const k = this.nextColumn;
    this.nextColumn = k + 1 === this.n ? 0 : k + 1;
    return k;
  }
}

/** The SGD-lr-scaled learning rate of transfers (aihwkit scale_transfer_lr). */
export function transferLr(config: RunConfig, lr: number): number {
  return (config.transfer_lr ?? 1) * (config.scale_transfer_lr ? lr : 1);
}

/**
 * The transfer lr of the buffered algorithms (TT-v2, c-TTv2, AGAD): with gamma > 0 aihwkit's
 * BufferedTransferCompound multiplies it by gamma_vec[from] / gamma_vec[to] = gamma / 1, so the
 * buffer integrates the fast array's contribution to the effective weight, gamma A.
 */
export function bufferedTransferLr(config: RunConfig, lr: number): number {
  const gamma = config.gamma ?? 0;
  return transferLr(config, lr) * (gamma > 0 ? gamma : 1);
}

/** The learning rate of the pulsed gradient update onto the fast array (aihwkit fast_lr). */
export function fastLr(config: RunConfig, lr: number): number {
  return (config.fast_lr ?? 1) * (config.scale_fast_lr ? lr : 1);
}
