/** Summary statistics over seeds. */

/** Mean and sample standard deviation (n - 1; null for a single value) of a non-empty list. */
export function meanStd(xs: readonly number[]): { mean: number; std: number | null } {
  if (xs.length === 0) throw new RangeError('meanStd of an empty list');
  let s = 0;
  for (const x of xs) s += x;
  // identical values: exactly their value and no spread (a rounded sum would leave 1e-16 of noise)
  if (xs.every((x) => x === xs[0])) return { mean: xs[0], std: xs.length < 2 ? null : 0 };
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
export function zScore(
  ours: { mean: number; std: number | null },
  ref: { mean: number; std: number | null },
): number | null {
  if (ours.std === null) return null;
  const s = Math.hypot(ours.std, ref.std ?? 0);
  return s > 1e-12 * Math.max(Math.abs(ours.mean), Math.abs(ref.mean)) ? (ours.mean - ref.mean) / s : null;
}

/** Two-sided 95 % quantiles of Student's t, t(0.975, df), for df = 1 .. 30. */
const T975 = [
  12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184, 2.44691185, 2.36462425, 2.30600414, 2.26215716,
  2.22813885, 2.20098516, 2.17881283, 2.16036866, 2.14478669, 2.13144955, 2.1199053, 2.10981558, 2.10092204, 2.09302405,
  2.08596345, 2.07961384, 2.07387307, 2.06865761, 2.06389856, 2.05953855, 2.05552944, 2.05183052, 2.04840714,
  2.04522964, 2.04227246,
];

/**
 * t(0.975, df): the exact value (to 9 digits) for df <= 30, beyond it the Cornish-Fisher
 * expansion around the normal quantile (off by less than 1e-5 from df 30 on).
 */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`tQuantile975: df must be >= 1, got ${df}`);
  if (Number.isInteger(df) && df <= 30) return T975[df - 1];
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

/** Everything a table cell can show of the values of one cell (its seeds). */
export interface Summary {
  mean: number;
  /** sample std (n - 1); null for n < 2 */
  std: number | null;
  /** the 95 % t-interval of the mean, mean ± t(0.975, n - 1) std / sqrt(n); null for n < 2 */
  ci95: [number, number] | null;
  median: number;
  min: number;
  max: number;
}

/**
 * Mean, std, 95 % t-interval of the mean, median, min and max of a non-empty list. `range`
 * clips the interval to the values the quantity can take (accuracies [0, 1], the rest >= 0).
 */
export function summarize(xs: readonly number[], range: [number, number] = [-Infinity, Infinity]): Summary {
  const { mean, std } = meanStd(xs);
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  let ci95: [number, number] | null = null;
  if (std !== null) {
    const half = (tQuantile975(n - 1) * std) / Math.sqrt(n);
    ci95 = [Math.max(range[0], mean - half), Math.min(range[1], mean + half)];
  }
  return { mean, std, ci95, median, min: sorted[0], max: sorted[n - 1] };
}
