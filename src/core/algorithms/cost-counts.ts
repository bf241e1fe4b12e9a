/**
 * The analog side of an algorithm's cost counters (TrainableMatrix.costCounts): the pulse slots,
 * pulses and column reads of its tiles, and the digital operations of their updates' scaling
 * (src/cost/digital-ops.ts). Read from the tiles' counters; nothing is counted here.
 */
import type { LayerCounters } from '../../cost/activity.ts';
import { columnWriteOps, scalingOps } from '../../cost/digital-ops.ts';
import type { AnalogTile } from '../tile.ts';

export type TileCounts = Pick<LayerCounters, 'slots' | 'pulses' | 'reads' | 'flops'>;

export function tileCounts(tiles: readonly AnalogTile[]): TileCounts {
  const out: TileCounts = { slots: 0, pulses: 0, reads: 0, flops: 0 };
  for (const t of tiles) {
    out.slots += t.slots;
    out.pulses += t.pulses;
    out.reads += t.reads;
    out.flops += (t.updates - t.columnUpdates) * scalingOps(t.rows, t.cols) + t.columnUpdates * columnWriteOps(t.rows);
  }
  return out;
}
