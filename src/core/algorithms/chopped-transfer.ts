/**
 * The part c-TTv2 and AGAD share on top of the fast/slow frame: the chopped fast array (inputs
 * modulated on every pulse, reads demodulated for the effective weight) and the threshold buffer
 * whose firing entries become single pulses on the slow array. Subclasses decide what a read
 * contributes to the buffer and when choppers flip.
 */
import type { RunConfig } from '../config/run-config.ts';
import { ChoppedFastArray } from './chopped-fast-array.ts';
import { FastSlowTransfer } from './fast-slow-transfer.ts';
import { type BufferRule, ThresholdBuffer } from './threshold-buffer.ts';
import type { LayerSpec } from './types.ts';

export abstract class ChoppedTransfer extends FastSlowTransfer {
  protected readonly chopped: ChoppedFastArray;
  protected readonly h: ThresholdBuffer;
  protected readonly rule: BufferRule;
  protected readonly read: Float32Array;
  protected readonly counts: Int32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer, 'A', 'W');
    this.chopped = new ChoppedFastArray(this.fast, config, layer.vectorsPerBatch);
    this.h = new ThresholdBuffer(layer.rows, layer.cols);
    this.rule = { decay: 1, momentum: config.momentum ?? 0, forget: config.forget_buffer ?? true, maxSteps: 1 };
    this.read = new Float32Array(layer.rows);
    this.counts = new Int32Array(layer.rows);
  }

  protected override pulse(x: Float32Array, d: Float32Array, b: number, lr: number): void {
    this.chopped.pulse(x, d, b, lr);
  }

  protected override fastEffective(k: number): number {
    return this.chopped.dechopped(k);
  }

  protected override clearDigitalState(): void {
    this.h.h.fill(0);
  }

  /** The buffer H (chopper signs, one bit per input, are left out). */
  protected override digitalElements(): number {
    return this.h.h.length;
  }
}
