/**
 * Tiki-Taka v1 (aihwkit TransferCompound; docs/science.md §8.5): the gradient is pulsed onto a
 * fast array A (read against its reference); every transfer period one column of A is read and
 * pulsed onto the slow array C with lr transfer_lr. Effective weight W = gamma (A - R) + C:
 * gamma = 0 is classic Tiki-Taka, gamma > 0 the residual learning of the response-function paper
 * (gradient taken at W + gamma P, docs/papers.md §3).
 */
import type { RunConfig } from '../config/run-config.ts';
import { FastSlowTransfer } from './fast-slow-transfer.ts';
import { fastSlowClocks, transferLr } from './transfer-schedule.ts';
import type { Algorithm, LayerSpec } from './types.ts';

class TikiTakaMatrix extends FastSlowTransfer {
  private readonly read: Float32Array;

  constructor(config: RunConfig, layer: LayerSpec) {
    super(config, layer, 'A', 'C');
    this.read = new Float32Array(layer.rows);
  }

  /** C[:, k] += transfer_lr * (A - R)[:, k] by a pulsed update with a one-hot x. */
  protected transfer(k: number, lr: number): void {
    this.fast.readColumn(k, this.read);
    this.slow.updateColumn(k, this.read, -transferLr(this.config, lr));
  }
}

export const tikiTaka: Algorithm = {
  name: 'tiki-taka',
  create: (config, layer) => new TikiTakaMatrix(config, layer),
  transferClocks: fastSlowClocks('C'),
};
