/**
 * Deterministic pulse writes: `n` single pulses on one weight through its device response
 * (n > 0 up, n < 0 down), as the threshold writes of TT-v2 / c-TTv2 / AGAD / RL-v2 and the
 * mixed-precision transfer apply them. Counted in the tile's pulse counter; a column write also
 * in its slot counter (the rows are written in parallel: its largest count).
 */
import type { AnalogTile } from '../tile.ts';

export function pulseWeight(tile: AnalogTile, index: number, n: number): void {
  if (n === 0) return;
  tile.device.applyPulses(tile.weights, index, n);
  tile.pulses += n < 0 ? -n : n;
}

/** counts[i] pulses on W[i, k] for every row i. */
export function pulseColumn(tile: AnalogTile, k: number, counts: Int32Array): void {
  let longest = 0;
  for (let i = 0; i < tile.rows; i++) {
    const n = counts[i];
    pulseWeight(tile, i * tile.cols + k, n);
    const a = n < 0 ? -n : n;
    if (a > longest) longest = a;
  }
  tile.slots += longest;
}
