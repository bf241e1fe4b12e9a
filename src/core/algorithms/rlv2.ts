/**
 * Residual learning v2 (response-function paper §5, papers.md §3.2 eqs. 14-15): the gradient is
 * taken at W + gamma P and pulsed onto the residual array P; reads of P (with IO noise) feed a
 * leaky digital buffer H <- (1 - beta) H + beta P[:, k]; entries of transfer_lr * H that reach
 * the threshold (buffer_granularity * dw_min of W) are written to W as single pulses.
 * Differences to TT-v2: the leak, and the gradient at the mixed weight.
 */
import type { RunConfig } from '../config/run-config.ts';
import { FastSlowTransfer } from './fast-slow-transfer.ts';
import { pulseColumn } from './pulse-writes.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import { transferLr } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class ResidualV2Matrix extends FastSlowTransfer {
  private readonly h: ThresholdBuffer;
  private readonly rule: BufferRule;
  private readonly beta: number;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer, 'P', 'W');
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.beta = config.buffer_leak ?? 0.1;
    this.rule = { decay: 1 - this.beta, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  protected transfer(k: number, lr: number): void {
    this.fast.readColumn(k, this.read);
    const threshold = (this.config.buffer_granularity ?? 1) * this.slow.device.granularity;
    const scale = (this.beta * Math.abs(transferLr(this.config, lr))) / threshold;
    if (this.h.accumulateColumn(k, this.read, scale, this.rule, this.counts) > 0) pulseColumn(this.slow, k, this.counts);
  }

  protected override clearDigitalState(): void {
    this.h.h.fill(0);
  }
}

export const rlv2: Algorithm = {
  name: 'rlv2',
  create: (config, layer) => new ResidualV2Matrix(config, layer),
};
