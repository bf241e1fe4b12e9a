/**
 * TT-v2 (aihwkit BufferedTransferCompound; docs/science.md §8.6): as Tiki-Taka, but a read
 * column of the fast array A accumulates in a digital buffer H (in units of the slow array's
 * dw_min times buffer_granularity) and only entries that reach the threshold are written to the
 * slow array W, as single pulses. Effective weight W + gamma (A - R); with gamma > 0 the transfer lr
 * is multiplied by gamma, as aihwkit does (bufferedTransferLr).
 */
import { BUFFER_OPS } from '../../cost/digital-ops.ts';
import type { RunConfig } from '../config/run-config.ts';
import { FastSlowTransfer } from './fast-slow-transfer.ts';
import { pulseColumn } from './pulse-writes.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import { bufferedTransferLr, fastSlowClocks } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class Ttv2Matrix extends FastSlowTransfer {
  private readonly h: ThresholdBuffer;
  private readonly rule: BufferRule;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer, 'A', 'W');
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.rule = { decay: 1, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  /** H[:, k] += |lr_T| (A - R)[:, k] / threshold; due entries become single pulses on W. */
  protected transfer(k: number, lr: number): void {
    this.fast.readColumn(k, this.read);
    const threshold = (this.config.buffer_granularity ?? 1) * this.slow.device.granularity;
    if (
      this.h.accumulateColumn(
        k,
        this.read,
        Math.abs(bufferedTransferLr(this.config, lr)) / threshold,
        this.rule,
        this.counts,
      ) > 0
    ) {
      pulseColumn(this.slow, k, this.counts);
    }
  }

  protected override clearDigitalState(): void {
    this.h.h.fill(0);
  }

  protected override bufferOps(): number {
    return BUFFER_OPS.sum;
  }

  protected override digitalElements(): number {
    return this.h.h.length;
  }
}

export const ttv2: Algorithm = {
  name: 'ttv2',
  create: (config, layer) => new Ttv2Matrix(config, layer),
  transferClocks: fastSlowClocks('W'),
};
