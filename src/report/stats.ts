/** Summary statistics over seeds. */

/** Mean and sample standard deviation (n - 1; null for a single value) of a non-empty list. */
export function meanStd(xs: readonly number[]): { mean: number; std: number | null } {
  if (xs.length === 0) throw new RangeError('meanStd of an empty list');
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  if (xs.length < 2) return { mean, std: null };
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (xs.length - 1)) };
}

/**
 * How far our mean is from a reference (a paper's), in units of the combined standard
 * deviation: (ours - ref) / sqrt(ours_std^2 + ref_std^2), with a missing reference std counted
 * as 0. null when ours has no std (n < 2: nothing to measure the spread by) or both stds are 0
 * (to rounding: a combined std below 1e-12 of the means' magnitude, as identical values over
 * seeds can leave).
 */
export function zScore(ours: { mean: number; std: number | null }, ref: { mean: number; std: number | null }): number | null {
  if (ours.std === null) return null;
  const s = Math.hypot(ours.std, ref.std ?? 0);
  return s > 1e-12 * Math.max(Math.abs(ours.mean), Math.abs(ref.mean)) ? (ours.mean - ref.mean) / s : null;
}
