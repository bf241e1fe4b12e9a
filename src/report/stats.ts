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
