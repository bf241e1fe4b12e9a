/**
 * Residual learning v2 (the response-function paper, its section 5, eqs. 14-15, docs/papers.md §3;
 * docs/science.md §8.10): the gradient is taken at W + gamma P and pulsed onto the residual array
 * P; every transfer period one column of P is read (through the transfer IO, so with its noise)
 * into a digital buffer H.
 *
 * rlv2_transfer: moving-average (default, the equations as the paper writes them): H is a
 *   moving average that is never reset, H <- (1 - beta) H + beta * lr_T * read, and every read
 *   of a column gives one pulse on W[i, k] in the sign of H where |H| > buffer_granularity *
 *   dw_min of W. A persistent residual keeps W moving at one pulse per read; noise on single
 *   reads is averaged out over about 1 / beta reads.
 * rlv2_transfer: reset-on-write (the earlier, TT-v2-like rule, kept as an option): the leaky sum
 *   h <- (1 - beta) h + beta * lr_T * read / threshold; an entry that reaches 1 fires one pulse
 *   and is then reset (forget_buffer, momentum); for residuals well above the threshold, writes are
 *   about 1 / beta times rarer than TT-v2's.
 * Under both rules the buffer settles at lr_T * read, so entries with |P| below
 * threshold / lr_T never fire (TT-v2's buffer, which does not leak, has no such dead zone).
 */
import { BUFFER_OPS } from '../../cost/digital-ops.ts';
import type { RunConfig } from '../config/run-config.ts';
import { FastSlowTransfer } from './fast-slow-transfer.ts';
import { pulseColumn } from './pulse-writes.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import { fastSlowClocks, transferLr } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class ResidualV2Matrix extends FastSlowTransfer {
  private readonly h: ThresholdBuffer;
  /** reset-on-write: the threshold rule; moving-average: null */
  private readonly rule: BufferRule | null;
  private readonly beta: number;
  private readonly read: Float32Array;
  private readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer, 'P', 'W');
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.beta = config.buffer_leak ?? 0.1;
    this.rule =
      (config.rlv2_transfer ?? 'moving-average') === 'moving-average'
        ? null
        : { decay: 1 - this.beta, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  protected transfer(k: number, lr: number): void {
    this.fast.readColumn(k, this.read);
    const threshold = (this.config.buffer_granularity ?? 1) * this.slow.device.granularity;
    const scale = (this.beta * Math.abs(transferLr(this.config, lr))) / threshold;
    const fired =
      this.rule === null
        ? this.h.averageColumn(k, this.read, scale, 1 - this.beta, this.counts)
        : this.h.accumulateColumn(k, this.read, scale, this.rule, this.counts);
    if (fired > 0) pulseColumn(this.slow, k, this.counts);
  }

  protected override clearDigitalState(): void {
    this.h.h.fill(0);
  }

  protected override bufferOps(): number {
    return BUFFER_OPS.leaky;
  }

  protected override digitalElements(): number {
    return this.h.h.length;
  }
}

export const rlv2: Algorithm = {
  name: 'rlv2',
  create: (config, layer) => new ResidualV2Matrix(config, layer),
  transferClocks: fastSlowClocks('W'),
};
